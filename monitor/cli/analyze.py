"""`monitor analyze FILE...`: run the NLP stage on one article file and report what it found."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monitor.errors import PermanentError
from monitor.nlp import Analyzer


def _read(path: Path) -> tuple[str, str]:
    """(title, body) of a .txt (all body) or .json ({"text", "title"?}) article file."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PermanentError(f"{path}: cannot read article: {exc}") from None
    if path.suffix.lower() != ".json":
        return "", raw
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PermanentError(f"{path}: invalid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise PermanentError(f"{path}: expected a JSON object with a string \"text\"")
    title = data.get("title") or ""
    if not isinstance(title, str):
        raise PermanentError(f"{path}: \"title\" must be a string")
    return title, data["text"]


def analyze_file(path: Path, analyzer: Analyzer) -> dict[str, Any]:
    title, text = _read(path)
    result = analyzer.analyze(title, text)
    return {
        "path": str(path),
        "entities": list(result.entities),
        "mentions": [{"entity": m.entity, "text": m.text, "start": m.start, "end": m.end, "why": m.why}
                     for m in result.mentions if not m.in_title],
        "claims": [{"kind": c.kind, "speaker": c.speaker, "text": c.text, "start": c.start, "end": c.end,
                    "sentence": c.sentence, "score": c.score, "unconfirmed": c.unconfirmed,
                    "subject": c.subject, "why": c.why} for c in result.claims],
        "title_mentions": [{"entity": m.entity, "text": m.text, "start": m.start, "end": m.end, "why": m.why}
                           for m in result.mentions if m.in_title],
        "salience": result.salience,
    }


def format_text(record: dict[str, Any]) -> str:
    """A human-readable report of one `analyze_file` record."""
    lines = [str(record["path"]), f"  entities: {', '.join(record['entities']) or '(none)'}"]
    if record.get("salience"):
        lines.append("  salience: " + ", ".join(f"{k} {v:g}" for k, v in record["salience"].items()))
    for m in record["mentions"]:
        why = f"  ({m['why']})" if m.get("why") else ""
        lines.append(f"  mention  {m['entity']:<16} {m['text']!r} [{m['start']}:{m['end']}]{why}")
    for c in record["claims"]:
        flag = " (unconfirmed)" if c.get("unconfirmed") else ""
        who = c["speaker"] or (f"about {c['subject']}" if c.get("subject") else "?")
        text = c["text"] if len(c["text"]) <= 160 else c["text"][:157] + "..."
        why = f"  ({c['why']})" if c.get("why") else ""
        lines.append(f"  {c['kind']:<9} {who}{flag}: {text}{why}")
    return "\n".join(lines)
