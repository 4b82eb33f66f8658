"""Shared fixtures. pytest puts this folder on sys.path, so `support` (tests/support/) is importable
from every test folder."""

from support.world import world

__all__ = ["world"]
