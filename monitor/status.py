"""`monitor status`: feeds' health, outbox and last digest, read from the store (works while running)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor import store_feeds as feeds
from monitor import store_outbox as outbox
from monitor.config import Config
from monitor.store import Store


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def collect_status(config: Config, now: datetime | None = None) -> dict[str, Any]:
    from monitor.pipeline import utc_now

    now = now or utc_now()
    store = Store(config.database)
    try:
        health = feeds.feed_health(store)
        data: dict[str, Any] = {
            "database": str(config.database),
            "feeds": [{
                "name": h.name, "url": h.url,
                "health": "disabled" if h.disabled_reason else ("failing" if h.consecutive_failures else "ok"),
                "consecutive_failures": h.consecutive_failures, "last_success": _iso(h.last_success),
                "failing_since": _iso(h.failing_since), "last_error": h.last_error,
                "next_check": _iso(h.next_check), "disabled_reason": h.disabled_reason,
            } for h in health],
            "outbox": outbox.outbox_summary(store, now),
        }
    finally:
        store.close()
    return data


def format_status(data: dict[str, Any]) -> str:
    lines = [f"state: {data['database']}", f"feeds: {len(data['feeds'])}"]
    for f in data["feeds"]:
        line = f"  [{f['health']:<8}] {f['name']} <{f['url']}> last ok {f['last_success'] or 'never'}, " \
               f"next {f['next_check'] or 'now'}"
        if f["health"] != "ok":
            line += f"\n             {f['consecutive_failures']} failures: {f['last_error'] or f['disabled_reason']}"
        lines.append(line)
    box = data["outbox"]
    lines.append(f"outbox: {box['pending']} pending, {box['failed']} failed, {box['sent']} sent "
                 f"({box['sent_last_7_days']} in the last 7 days)")
    lines.append(f"last digest sent: {box['last_digest_sent'] or 'never'}")
    for p in box["problems"]:
        lines.append(f"  message {p['id']} [{p['status']}] after {p['attempts']} attempts: {p['error']}")
    return "\n".join(lines)
