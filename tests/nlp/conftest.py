"""Shared fixtures for the NLP tests: one analyzer per session (building spaCy takes a while)."""

from __future__ import annotations

import pytest

from monitor.config import DEFAULT_ENTITIES, load_entities
from monitor.nlp import Analyzer


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return Analyzer(load_entities(DEFAULT_ENTITIES))

