"""`monitor status` on a shared PostgreSQL store (issue 20): the store is named without its
password, and the daemons' live leases are listed per daemon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.world import write_config

from monitor.cli.status import collect_status, format_status
from monitor.config.load import load_config
from monitor.config.types import FeedConfig
from monitor.store import feeds
from monitor.store.db import Store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_status_names_the_shared_store_and_who_holds_which_leases(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    urls = [f"http://127.0.0.1:9/f{n}.xml" for n in range(5)]
    path = write_config(tmp_path, [(u, f"Fonte {n}") for n, u in enumerate(urls)], smtp_port=2525,
                        extra=f'\n[store]\nurl = "{pg_url}"\n')
    config = load_config(path)
    store = Store(pg_url)
    feeds.sync_feeds(store, [FeedConfig(u, f"Fonte {n}") for n, u in enumerate(urls)])
    hold = timedelta(minutes=5)
    for owner, n in (("macchina-a:101:aaaaaaaaaaaa:11111111", 2), ("macchina-b:202:bbbbbbbbbbbb:22222222", 1)):
        feeds.lease_due(store, owner, NOW, horizon=NOW + timedelta(days=30), limit=n, hold=hold)
    store.close()
    data = collect_status(config, now=NOW)
    assert data["store"] == "postgresql" and data["database"] == pg_url
    assert [(lease["daemon"], lease["feeds"]) for lease in data["leases"]] == [("macchina-a:101", 2),
                                                                            ("macchina-b:202", 1)]
    text = format_status(data)
    assert "(PostgreSQL, shared)" in text
    assert "daemon macchina-a:101: polling 2 feeds, sending 0 messages" in text
    # An expired lease is not work in progress: it is not shown.
    assert collect_status(config, now=NOW + hold + timedelta(seconds=1))["leases"] == []
