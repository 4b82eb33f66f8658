"""Pure rules for urgent alerts: who receives them and when quiet hours hold them back."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.config.types import AlertConfig, Config


def alert_recipients(config: Config, entity_id: str) -> tuple[str, ...]:
    """The configured alert recipients, else everyone whose digest covers the entity."""
    if config.alerts.recipients:
        return config.alerts.recipients
    seen: dict[str, None] = {}
    for digest in config.digests:
        if not digest.actors or entity_id in digest.actors:
            seen.update(dict.fromkeys(digest.recipients))
    return tuple(seen)


def _hhmm(value: str) -> time:
    hh, mm = value.split(":")
    return time(int(hh), int(mm))


def quiet_until(alerts: AlertConfig, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When now falls in the quiet window, the moment it opens (aware); otherwise None."""
    if not alerts.quiet_start:
        return None
    start, end = _hhmm(alerts.quiet_start), _hhmm(alerts.quiet_end)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    opening = datetime.combine(local.date(), end, tzinfo=zone)
    if opening <= local:
        opening += timedelta(days=1)
    return opening
