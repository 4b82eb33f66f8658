"""Channels: rendering posts for the outbox and sending them, beside and apart from mail.

Posts are rendered when the mail is (same transaction, see pipeline), stored as text, and sent
from the stored text by `flush_channels`: claimed like mail rows, retried with the mail backoff
on temporary failures, dead-lettered on permanent ones. Each post is its own attempt, so a
channel that fails never holds back mail or another channel.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from monitor.config.channels import ChannelConfig
from monitor.delivery.channels import PostResult, Target, describe, post
from monitor.delivery.policy import next_attempt
from monitor.errors import ConfigError
from monitor.service.runtime import Runtime
from monitor.store import outbox

log = logging.getLogger("monitor")
POST_TIMEOUT = 30.0
# A claim outlives the longest post (connect + read, Apprise's throttle) by a wide margin.
POST_HOLD = timedelta(seconds=2 * POST_TIMEOUT) + timedelta(minutes=2)
# When a channel's URL cannot be read while rendering (a credential not there yet), posts are
# sized for the smallest common limit (Discord's 2,000 characters) in plain Markdown.
FALLBACK = Target(service="unknown", flavour="markdown", max_chars=2000)


def target(channel: ChannelConfig) -> Target:
    """The channel's service and size limit, from its URL (read now, never logged)."""
    try:
        found = describe(channel.url())
    except ConfigError:
        return FALLBACK
    return found or FALLBACK


def alert_channels(rt: Runtime) -> list[ChannelConfig]:
    return [c for c in rt.config.channels if c.alerts]


def digest_channels(rt: Runtime, digest: str) -> list[ChannelConfig]:
    return [c for c in rt.config.channels if digest in c.digests]


async def post_now(channel: ChannelConfig, title: str, body: str) -> PostResult:
    """One post straight to the channel, outside the outbox (`monitor send-test --channel`)."""
    try:
        url = channel.url()
    except ConfigError as exc:
        return PostResult(False, permanent=True, reason=exc.reason)
    return await asyncio.to_thread(post, url, title, body, POST_TIMEOUT)


async def flush_channels(rt: Runtime) -> int:
    """Send every due channel post; returns how many the services accepted."""
    sent = 0
    owner = outbox.claim_owner()
    for due in outbox.due_posts(rt.store, rt.clock()):
        row = outbox.claim(rt.store, due.id, owner, rt.clock(), POST_HOLD)
        if row is None:
            continue
        try:
            sent += await _send_claimed(rt, row, owner)
        finally:
            outbox.release(rt.store, row.id, owner)  # no-op once the attempt is recorded
    return sent


async def _send_claimed(rt: Runtime, row: outbox.OutboxRow, owner: str) -> int:
    channel = next((c for c in rt.config.channels if c.name == row.channel), None)
    if channel is None:
        outbox.mark_dead(rt.store, row.id, rt.clock(), f"channel {row.channel} is no longer configured", owner=owner)
        log.error("post %s dropped: channel %s is no longer configured", row.id, row.channel)
        return 0
    try:
        url = channel.url()
    except ConfigError as exc:
        # Like a missing SMTP password: the admin can fix it, so the post waits for the fix.
        result = PostResult(False, reason=f"cannot read the channel URL from {channel.source}: {exc.reason}")
    else:
        job = asyncio.ensure_future(asyncio.to_thread(post, url, row.subject, row.raw.decode("utf-8"),
                                                      POST_TIMEOUT))
        try:
            result = await asyncio.shield(job)
        except asyncio.CancelledError:
            # A stop cancels us, not the thread: the post may still go out. Wait for its answer
            # (POST_TIMEOUT at most) and record it, so a delivered post is never sent again.
            _record(rt, row, owner, channel, await job)
            raise
    return _record(rt, row, owner, channel, result)


def _record(rt: Runtime, row: outbox.OutboxRow, owner: str, channel: ChannelConfig, result: PostResult) -> int:
    """Sent, retry later or dead letter, as for mail; 1 when the service accepted the post."""
    now = rt.clock()
    if result.ok:
        outbox.mark_sent(rt.store, row.id, now, {}, owner=owner)
        return 1
    error = f"channel {channel.name}: {result.reason}"
    when = None if result.permanent else next_attempt(row.attempts + 1, row.first_attempt or now, now)
    if when is None:
        outbox.mark_dead(rt.store, row.id, now, error if result.permanent else f"gave up after 2 days: {error}",
                         owner=owner)
        log.error("post %s to channel %s refused for good: %s", row.id, channel.name, result.reason)
    else:
        outbox.mark_retry(rt.store, row.id, now, when, error, owner=owner)
        log.warning("post %s to channel %s will be retried at %s: %s", row.id, channel.name, when.isoformat(),
                    result.reason)
    return 0
