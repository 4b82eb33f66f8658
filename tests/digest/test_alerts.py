"""Urgent alerts: who gets them, quiet hours, the hourly cap, and no second alert for one story."""

from __future__ import annotations

import email
import email.policy
import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.world import RECENT, Clock, feed, running

from monitor.config.load import load_config
from monitor.config.types import AlertConfig
from monitor.digest.alerts import alert_recipients, quiet_until
from monitor.service import pipeline
from monitor.store import outbox

ROME = ZoneInfo("Europe/Rome")
QUIET = AlertConfig(quiet_start="23:00", quiet_end="07:00")


@pytest.mark.parametrize(("local", "opens"), [
    (datetime(2026, 11, 25, 22, 59, tzinfo=ROME), None),
    (datetime(2026, 11, 25, 23, 0, tzinfo=ROME), datetime(2026, 11, 26, 7, 0, tzinfo=ROME)),
    (datetime(2026, 11, 26, 3, 30, tzinfo=ROME), datetime(2026, 11, 26, 7, 0, tzinfo=ROME)),
    (datetime(2026, 11, 26, 7, 0, tzinfo=ROME), None),
    (datetime(2026, 11, 26, 12, 0, tzinfo=ROME), None),
])
def test_quiet_hours_hold_alerts_until_the_window_opens(local: datetime, opens: datetime | None) -> None:
    assert quiet_until(QUIET, local.astimezone(UTC), ROME) == opens


def test_daytime_quiet_window_and_no_window() -> None:
    lunch = AlertConfig(quiet_start="12:00", quiet_end="14:00")
    at = datetime(2026, 11, 26, 13, 0, tzinfo=ROME)
    assert quiet_until(lunch, at, ROME) == datetime(2026, 11, 26, 14, 0, tzinfo=ROME)
    assert quiet_until(AlertConfig(), at, ROME) is None


def test_recipients_default_to_digests_covering_the_actor(tmp_path: Path,
                                                          world: tuple[Path, dict, object]) -> None:
    config = load_config(world[0])
    musk_only = replace(config.digests[0], name="musk", recipients=("musk@example.com",), actors=("elon_musk",))
    config = replace(config, digests=(*config.digests, musk_only))
    assert alert_recipients(config, "elon_musk") == ("redazione@example.com", "musk@example.com")
    assert alert_recipients(config, "openai") == ("redazione@example.com",)
    explicit = replace(config, alerts=AlertConfig(recipients=("desk@example.com",)))
    assert alert_recipients(explicit, "openai") == ("desk@example.com",)


async def test_alert_is_sent_once_capped_and_held_in_quiet_hours(world: tuple[Path, dict, object],
                                                                caplog: pytest.LogCaptureFixture) -> None:
    from support.ingest_server import Route

    config_path, routes, smtp = world
    items = [(f"m{i}", f"Musk, notizia {i}", f"«Andiamo avanti {i}», ha detto Elon Musk.", RECENT)
             for i in range(5)]
    routes["/feed.xml"] = Route(body=feed(*items))
    text = config_path.read_text() + '\n[alerts]\nmax_per_hour = 2\nquiet_hours = "23:00-07:00"\n'
    config_path.write_text(text)
    night = datetime(2026, 11, 25, 23, 30, tzinfo=ROME).astimezone(UTC)
    async with running(config_path, Clock(night)) as rt:
        with caplog.at_level(logging.WARNING, logger="monitor"):
            await pipeline.poll_feeds(rt, force=True)
        # Three stories over the cap: one line that says so, not one line per story.
        capped = [r.getMessage() for r in caplog.records if "hourly cap" in r.getMessage()]
        assert capped == ["3 alerts not sent: hourly cap of 2 reached (elon_musk 3); "
                          "the stories go to the digests as usual"]
        assert await pipeline.flush_outbox(rt) == 0  # held: quiet hours
        rt.clock = Clock(datetime(2026, 11, 26, 7, 1, tzinfo=ROME).astimezone(UTC))
        assert await pipeline.flush_outbox(rt) == 2  # the hourly cap let two through
        await pipeline.poll_feeds(rt, force=True)  # same stories again: no new alert
        assert await pipeline.flush_outbox(rt) == 0
        assert outbox.alerts_since(rt.store, night.replace(hour=0)) == 2
    subjects = [str(email.message_from_bytes(m.raw, policy=email.policy.default)["Subject"])
                for m in smtp.messages]  # type: ignore[attr-defined]
    assert len(subjects) == 2 and all("Elon Musk" in s for s in subjects), subjects
