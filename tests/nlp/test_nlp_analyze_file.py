"""`monitor analyze` helpers: reading .txt/.json articles, the record shape, text output, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli.analyze import analyze_file, format_text
from monitor.errors import PermanentError
from monitor.nlp import Analyzer

TEXT = "«Siamo pronti», ha detto Altman all'OpenAI."


def test_txt_is_all_body(analyzer: Analyzer, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(TEXT, encoding="utf-8")
    record = analyze_file(path, analyzer)
    assert record["path"] == str(path)
    assert record["entities"] == ["openai", "sam_altman"]
    altman, openai = TEXT.index("Altman"), TEXT.index("OpenAI")
    assert [{k: m[k] for k in ("entity", "text", "start", "end")} for m in record["mentions"]] == [
        {"entity": "sam_altman", "text": "Altman", "start": altman, "end": altman + 6},
        {"entity": "openai", "text": "OpenAI", "start": openai, "end": openai + 6}]
    assert all(m["why"] for m in record["mentions"])
    claim = record["claims"][0]
    assert {k: claim[k] for k in ("kind", "speaker", "text", "start", "end")} == {
        "kind": "quote", "speaker": "sam_altman", "text": "Siamo pronti", "start": 1, "end": 13}
    assert claim["sentence"] == TEXT and isinstance(claim["score"], float)
    out = format_text(record)
    assert "sam_altman: Siamo pronti" in out and str(path) in out
    assert '(alias "Altman" (surname of Sam Altman' in out


def test_json_title_is_not_body(analyzer: Analyzer, tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"title": "Musk", "text": TEXT}), encoding="utf-8")
    record = analyze_file(path, analyzer)
    assert record["entities"] == ["elon_musk", "openai", "sam_altman"]
    assert all(m["entity"] != "elon_musk" for m in record["mentions"])


@pytest.mark.parametrize(("name", "content"), [
    ("bad.json", "{not json"),
    ("list.json", "[1, 2]"),
    ("notext.json", '{"title": "x"}'),
    ("latin1.txt", b"caff\xe8"),
])
def test_invalid_input_names_the_file(analyzer: Analyzer, tmp_path: Path, name: str, content: str | bytes) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(PermanentError, match=name):
        analyze_file(path, analyzer)


def test_missing_file(analyzer: Analyzer, tmp_path: Path) -> None:
    with pytest.raises(PermanentError, match="missing.txt"):
        analyze_file(tmp_path / "missing.txt", analyzer)
