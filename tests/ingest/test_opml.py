"""OPML import/export of the feed list."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import PermanentError
from monitor.ingest.opml import read_opml, write_opml

DATA = Path(__file__).parent.parent / "data" / "feeds"


def test_read_nested_flattened_deduplicated() -> None:
    feeds = read_opml((DATA / "subscriptions.opml").read_bytes())
    assert feeds == [
        ("https://www.hdblog.it/feed/", "HDblog"),
        ("https://andrea.pappacoda.it/blog/feed.atom", "Pappacoda"),
        ("https://www.dday.it/rss", "DDay.it & co"),
        ("https://www.agendadigitale.eu/feed/", "Senza titolo"),
    ]


def test_round_trip_with_awkward_titles() -> None:
    feeds = [("https://www.hdblog.it/feed/", 'HDblog & "amici" <it>'),
             ("https://www.dday.it/rss?a=1&b=2", "DDay.it – perché sì"),
             ("http://romanews.eu/feed/", "Roma News")]
    document = write_opml(feeds, "Feed di monitor & co")
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "<title>Feed di monitor &amp; co</title>" in document
    assert read_opml(document.encode("utf-8")) == feeds


def test_title_falls_back_to_host() -> None:
    doc = b'<opml version="2.0"><body><outline xmlUrl="https://www.wired.it/feed/rss"/></body></opml>'
    assert read_opml(doc) == [("https://www.wired.it/feed/rss", "www.wired.it")]


@pytest.mark.parametrize("encoding", ["iso-8859-1", "windows-1252"])
def test_legacy_encoding_with_declaration(encoding: str) -> None:
    doc = (f'<?xml version="1.0" encoding="{encoding}"?><opml version="1.0"><body>'
           '<outline text="Perché così" xmlUrl="http://a.it/f"/></body></opml>').encode(encoding)
    assert read_opml(doc) == [("http://a.it/f", "Perché così")]


def test_legacy_encoding_without_declaration() -> None:
    doc = '<opml version="1.0"><body><outline text="Città" xmlUrl="http://a.it/f"/></body></opml>'
    assert read_opml(doc.encode("cp1252")) == [("http://a.it/f", "Città")]


def test_utf16() -> None:
    doc = write_opml([("http://a.it/f", "Caffè")], "t")
    assert read_opml(doc.encode("utf-16")) == [("http://a.it/f", "Caffè")]


def test_empty_opml_is_an_empty_list() -> None:
    assert read_opml(b'<opml version="2.0"><head/><body/></opml>') == []


@pytest.mark.parametrize("junk", [
    b"", b"   ", b"%{HTTP_HOST}\n", b"{}", b"<html><body><p>404</p></body></html>",
    b'<rss version="2.0"><channel><title>t</title></channel></rss>', b"\xff\xfe\x00",
    b"http://127.0.0.1:9/list.opml",  # must not be fetched
])
def test_junk_is_a_clear_error(junk: bytes) -> None:
    with pytest.raises(PermanentError, match="not an OPML document"):
        read_opml(junk)


def test_external_entity_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-opml")
    doc = (f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file://{secret}">]>'
           '<opml version="1.0"><body><outline text="&x;" xmlUrl="http://a.it/f"/></body></opml>').encode()
    feeds = read_opml(doc)
    assert all("TOPSECRET" not in title for _, title in feeds)


@settings(max_examples=60, deadline=2000)
@given(st.lists(st.text(min_size=1, max_size=40), max_size=8))
def test_write_is_well_formed_for_any_title(titles: list[str]) -> None:
    feeds = [(f"https://host{i}.it/feed", title) for i, title in enumerate(titles)]
    document = write_opml(feeds, "".join(titles))
    ET.fromstring(document.encode())  # well-formed for any reader, whatever the titles hold
    assert [url for url, _ in read_opml(document.encode())] == [url for url, _ in feeds]


@settings(max_examples=60, deadline=2000)
@given(st.lists(st.text(st.characters(categories=["L", "N", "P", "S", "Zs"]), min_size=1, max_size=40),
                max_size=8))
def test_printable_titles_round_trip(titles: list[str]) -> None:
    feeds = [(f"https://host{i}.it/feed", title) for i, title in enumerate(titles)]
    back = read_opml(write_opml(feeds, "t").encode())
    for (url, title), (back_url, back_title) in zip(feeds, back, strict=True):
        assert back_url == url
        assert back_title == (" ".join(title.split()) or "host" + url.split("host")[1].split("/")[0])
