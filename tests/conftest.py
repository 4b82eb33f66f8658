"""Shared fixtures: test helper modules live beside the tests (pytest puts this folder on sys.path)."""

from world import world

__all__ = ["world"]
