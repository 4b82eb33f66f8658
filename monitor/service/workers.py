"""Analysis inside the parse worker processes (`polling.parse_workers`).

The analysis of new articles runs in the same process pool as feedparser, so both cores share
it. Each call carries the entities (under 1 KB pickled), and a worker rebuilds its analyzer
whenever they differ from the ones it holds: a reload with changed entities needs no pool swap.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.config.types import EntityConfig
from monitor.ingest.parse import parse_feed
from monitor.models import Analysis, ParsedFeed
from monitor.nlp.prefilter import EMPTY_ANALYSIS, AliasPrefilter

AnalyzerSpec = tuple[tuple[EntityConfig, ...], str, int]  # entities, spaCy model, key claims
# Analyses made where a feed was parsed, keyed by the (title, text) they were made from.
Ready = dict[tuple[str, str], Analysis]
_worker_state: tuple[AnalyzerSpec, AliasPrefilter, Any] | None = None
_in_worker = False  # set by the pool initializer: only worker processes may load the analyzer


@dataclass(frozen=True)
class AnalyseAhead:
    """What a worker needs to analyse a feed's new entries right after parsing it."""

    spec: AnalyzerSpec
    since: datetime  # entries published before this are probably known: left to the usual path


def warm_worker(spec: AnalyzerSpec) -> None:
    """Pool initializer: load the NLP pipeline before the first feed arrives (the parser is
    imported with this module)."""
    global _in_worker
    _in_worker = True
    exit_with_parent()
    analyze_batch(spec, ())


def exit_with_parent() -> None:
    """Leave as soon as the daemon that started this process is gone, however it died.

    A SIGKILLed daemon cannot shut its pool down, and the workers would wait on their queue
    forever (`monitor once` from cron has no cgroup to clean up after it). A spawned child holds
    the read end of a pipe whose write end only its parent holds: end of file means the parent
    died. multiprocessing's resource tracker exits by itself once the workers are gone.
    """
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(1)  # no cleanup: the work in hand belongs to a daemon that no longer exists

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def parse_and_screen(body: bytes, headers: Mapping[str, str], url: str, now: datetime,
                     prefilter: AliasPrefilter | None,
                     ahead: AnalyseAhead | None = None) -> tuple[ParsedFeed, tuple[bool, ...] | None, Ready]:
    """parse_feed, which entries may name a tracked actor (None when not screened), and, when
    this runs in a worker and `ahead` is given, the analyses of the recent entries that may.

    Screening here, where the text already is, spares the articles that name nobody (most of
    them) a second trip to a worker just to be told so; analysing here spares the new ones that
    do name someone the trip back (the daemon's loop would send them once stored). The store
    still decides what is new: an analysis made here for an entry it already knows is dropped.
    """
    parsed = parse_feed(body, headers, url, now)
    if prefilter is None:
        return parsed, None, {}
    screen = tuple(prefilter.may_mention(e.title, e.text) for e in parsed.entries)
    ready: Ready = {}
    if ahead is not None and _in_worker:
        analyzer = _worker_tools(ahead.spec)[1]  # screened just above: no second prefilter pass
        ready = {(e.title, e.text): analyzer.analyze(e.title, e.text)
                 for e, maybe in zip(parsed.entries, screen, strict=True)
                 if maybe and e.published is not None and e.published >= ahead.since}
    return parsed, screen, ready


def analyze_batch(spec: AnalyzerSpec, items: Sequence[tuple[int, str, str]]) -> list[tuple[int, Analysis]]:
    """(article id, title, text) → (article id, analysis): the prefilter, then the analyzer if needed."""
    prefilter, analyzer = _worker_tools(spec)
    return [(i, analyzer.analyze(title, text) if prefilter.may_mention(title, text) else EMPTY_ANALYSIS)
            for i, title, text in items]


def _worker_tools(spec: AnalyzerSpec) -> tuple[AliasPrefilter, Any]:
    """This worker's prefilter and analyzer for these entities, rebuilt only when they change."""
    global _worker_state
    if _worker_state is None or _worker_state[0] != spec:
        from monitor.nlp import Analyzer

        entities, model, key_claims = spec
        _worker_state = (spec, AliasPrefilter(entities), Analyzer(entities, model=model, key_claims=key_claims))
    return _worker_state[1], _worker_state[2]
