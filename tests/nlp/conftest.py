"""Shared fixtures for the NLP tests: one analyzer per session (building spaCy takes a while)."""

from __future__ import annotations

import pytest

from monitor.config.entities import load_entities
from monitor.config.types import DEFAULT_ENTITIES
from monitor.nlp import Analyzer


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return Analyzer(load_entities(DEFAULT_ENTITIES))

