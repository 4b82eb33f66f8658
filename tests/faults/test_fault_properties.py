"""Property-based: hostile feed bytes and config files never raise anything but the documented error.

parse_feed(bytes) → ParsedFeed or NotAFeedError; load_config(file) → Config or ConfigError. Any
other exception (or a hang, bounded by the deadline and the test timeout) is a bug.
"""

from __future__ import annotations

import math
import tempfile
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fault_support import ENTITIES, feed_xml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config.load import load_config
from monitor.config.types import Config
from monitor.errors import ConfigError, NotAFeedError
from monitor.ingest.parse import parse_feed
from monitor.models import ParsedFeed

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
URL = "https://news.example/feed.xml"
SEED_FEED = feed_xml(range(3), published=NOW)
PROPS = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow],
                 derandomize=True)


def parse_ok(body: bytes, headers: dict[str, str] | None = None) -> None:
    try:
        result = parse_feed(body, headers or {}, URL, NOW)
    except NotAFeedError:
        return
    assert isinstance(result, ParsedFeed)


@pytest.mark.timeout(120)
@PROPS
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(body: bytes) -> None:
    parse_ok(body)


FRAGMENTS = [b"<", b">", b"</item>", b"<item>", b"<![CDATA[", b"]]>", b"<!--", b"&amp;", b"&#0;", b"&#x110000;",
             b"&bogus;", b"<!DOCTYPE rss [<!ENTITY a 'aaaa'>]>", b"\xff\xfe", b"\xc3", b"\x00",
             b"<pubDate>32 Foo 99999 99:99:99 +9999</pubDate>", b"<ttl>-1</ttl>", b"<ttl>99999999999999999999</ttl>",
             b"<link>javascript:alert(1)</link>", b"<link>http://[::1</link>", b"<guid></guid>",
             b'<?xml version="1.0" encoding="x-unknown"?>', b"<feed xmlns='http://www.w3.org/2005/Atom'>",
             b"<rss version='2.0'>", b"</channel>", b"\r\n", "«già»".encode(), "è".encode("latin-1")]


@st.composite
def mutated_feed(draw: st.DrawFn) -> bytes:
    body = bytearray(SEED_FEED)
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(body)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        if action == "insert":
            body[pos:pos] = draw(st.sampled_from(FRAGMENTS) | st.binary(min_size=1, max_size=16))
        elif action == "delete":
            del body[pos:pos + draw(st.integers(1, 64))]
        elif action == "replace":
            body[pos:pos + 1] = bytes([draw(st.integers(0, 255))])
        else:
            del body[pos:]
    return bytes(body)


@pytest.mark.timeout(120)
@PROPS
@given(mutated_feed(), st.sampled_from([{}, {"Content-Type": "application/rss+xml; charset=iso-8859-1"},
                                        {"Content-Type": "text/html"}, {"Content-Type": "text/xml; charset=bogus"}]))
def test_mutated_real_looking_rss(body: bytes, headers: dict[str, str]) -> None:
    parse_ok(body, headers)


# ----- configuration files

BASE: dict[str, Any] = {
    "general": {"state_dir": "state", "entities_file": "entities.toml", "timezone": "Europe/Rome",
                "language": "it", "health_after_hours": 6},
    "polling": {"interval_minutes": 15, "concurrency": 8, "timeout_seconds": 30, "max_body_bytes": 1048576,
                "backfill_hours": 24, "jitter": 0.1},
    "nlp": {"relevance_threshold": 1.0, "key_claims": 3},
    "smtp": {"host": "smtp.example.it", "port": 587, "tls": "starttls", "username": "u",
             "sender": "monitor@example.it", "timeout_seconds": 30},
    "alerts": {"recipients": ["a@example.it"], "max_per_hour": 4, "quiet_hours": "23:00-07:00"},
    "digest": [{"name": "mattina", "schedule": "0 7 * * *", "recipients": ["r@example.it"],
                "actors": ["openai"], "send_empty": False, "max_stories": 40}],
    "feeds": [{"url": "https://news.example/feed.xml", "name": "N", "interval_minutes": 30, "full_text": False}],
}
assert tomllib.loads  # the serializer below must round-trip through the real parser

scalars = (st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1)
           | st.floats(allow_nan=False, allow_infinity=False)  # nan/inf: tested below
           | st.text(max_size=20) | st.sampled_from(["", " ", "0", "Europe", "Etc/../../etc", "* * * * *",
                                                    "61 25 * * *", "a@b", "http://x", "ftp://x", "nan"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}"
                             if ord(c) < 0x10000 else f"\\U{ord(c):08x}" for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items()
                               if v is not None) + "}"
    raise TypeError(value)


def dump(doc: dict[str, Any]) -> str:
    lines = []
    for key, value in doc.items():
        if value is not None:
            lines.append(f"{toml_value(str(key))} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


@st.composite
def mutated_config(draw: st.DrawFn) -> dict[str, Any]:
    import copy

    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        section = draw(st.sampled_from(sorted(doc)))
        target: Any = doc[section]
        if isinstance(target, list) and target:
            target = target[0]
        action = draw(st.sampled_from(["set", "set", "delete", "add", "replace-section"]))
        if action == "replace-section":
            doc[section] = draw(values)
        elif not isinstance(target, dict):
            continue
        elif action == "delete" and target:
            del target[draw(st.sampled_from(sorted(target)))]
        elif action == "add":
            target[draw(st.text(min_size=1, max_size=8))] = draw(values)
        elif target:
            target[draw(st.sampled_from(sorted(target)))] = draw(values)
    return doc


FOLDER = Path(tempfile.mkdtemp(prefix="monitor-fault-config-"))
(FOLDER / "entities.toml").write_text(ENTITIES, encoding="utf-8")


def load_ok(text: str, name: str = "config.toml") -> None:
    path = FOLDER / name
    path.write_text(text, encoding="utf-8")
    try:
        config = load_config(path)
    except ConfigError:
        return
    assert isinstance(config, Config)


def test_base_config_is_valid() -> None:
    assert tomllib.loads(dump(BASE)) == BASE
    load_ok(dump(BASE))


@pytest.mark.timeout(120)
@PROPS
@given(mutated_config())
def test_mutated_config(doc: dict[str, Any]) -> None:
    load_ok(dump(doc))


@pytest.mark.parametrize(("section", "key", "value"), [
    ("polling", "concurrency", math.nan), ("smtp", "port", math.nan), ("nlp", "key_claims", math.nan),
    ("alerts", "max_per_hour", math.nan), ("polling", "max_body_bytes", math.inf),
    ("polling", "max_body_bytes", math.nan), ("polling", "interval_minutes", math.nan),
])
def test_nan_and_inf_numbers_are_config_errors(section: str, key: str, value: float) -> None:
    doc = {**BASE, section: {**BASE[section], key: value}}
    path = FOLDER / "nan.toml"
    path.write_text(dump(doc), encoding="utf-8")
    with pytest.raises(ConfigError, match=key):
        load_config(path)


@pytest.mark.timeout(120)
@PROPS
@given(st.text(max_size=300))
def test_arbitrary_config_text(text: str) -> None:
    load_ok(text)


@pytest.mark.timeout(120)
@PROPS
@given(st.text(st.characters(blacklist_characters="\x00"), max_size=40))  # NUL: tested below
def test_arbitrary_text_in_string_keys(value: str) -> None:
    for key in ("state_dir", "entities_file", "timezone", "templates_dir"):
        doc = {**BASE, "general": {**BASE["general"], key: value}}
        load_ok(dump(doc))


@pytest.mark.parametrize("key", ["state_dir", "entities_file", "templates_dir"])
def test_nul_in_a_path_is_a_config_error(key: str) -> None:
    doc = {**BASE, "general": {**BASE["general"], key: "sta\x00te"}}
    path = FOLDER / "nul.toml"
    path.write_text(dump(doc), encoding="utf-8")
    with pytest.raises(ConfigError, match=key):
        load_config(path)
