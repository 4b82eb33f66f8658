"""Stories → a digest or alert email (Jinja2 text + inlined HTML) → exact bytes for the outbox.

Pure: no I/O except reading templates, no clock reads (`now` comes in). Feed text is untrusted:
it is cleaned and bounded in `digest_text`, escaped by autoescape in HTML, never marked safe,
and filtered again before it can reach a header.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from monitor.config.types import DigestConfig, EntityConfig
from monitor.digest.labels import LABELS
from monitor.digest.mime import build_message
from monitor.digest.render import render_parts
from monitor.digest.stories import Story, arrange, merge_duplicates
from monitor.digest.text import (
    CLAIM_MAX,
    TITLE_MAX,
    Language,
    clean,
    date_time,
    lead,
    long_date,
    safe_url,
    short_time,
    snippet,
)
from monitor.models import Claim, FeedHealth, OutgoingMessage, StoredArticle

MAX_CLAIMS = 3
OUTLET_MAX = 60
ERROR_MAX = 160


@dataclass(frozen=True)
class RenderContext:
    language: Literal["it", "en"]
    timezone: ZoneInfo
    templates_dir: Path | None
    sender: str
    list_id: str  # e.g. "monitor.localhost"
    demo: bool = False  # demo digests say "DEMO – articoli fittizi" in subject and header


def make_message_id(domain: str) -> str:
    """A fresh Message-ID; the caller fixes it once, when the outbox row is created."""
    domain = "".join(c for c in domain if c.isalnum() or c in ".-") or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def render_digest(ctx: RenderContext, digest: DigestConfig, entities: Sequence[EntityConfig],
                  stories: Sequence[StoredArticle], health: Sequence[FeedHealth], now: datetime,
                  message_id: str,
                  complete: Callable[[list[int]], dict[int, StoredArticle]] | None = None,
                  prominent: float | None = None) -> OutgoingMessage | None:
    """The digest message, or None when there is nothing to say and empty digests are off.

    Stories may come with their leads only and without claims; `complete` then supplies the whole
    articles shown (a snippet is cut around the actor's mention, wherever it is). `prominent` (the
    relevance threshold): every other actor at least this salient in a story gets a line in its own
    section pointing to the story's full entry (see stories.arrange).
    """
    merged = merge_duplicates(stories)
    sections, included = arrange(merged, entities, digest.actors, digest.max_per_section, digest.max_stories,
                                 prominent)
    if not included and not digest.send_empty:
        return None
    if complete is not None:
        shown = [story for section in sections for story in section.stories]
        full = complete([a.id for story in shown for a in [story.primary, *story.members]])
        for story in shown:
            story.primary = full.get(story.primary.id, story.primary)
            story.members = [full.get(a.id, a) for a in story.members]
    names = {e.id: e.name for e in entities}
    local_now = now.astimezone(ctx.timezone)
    view_sections = [
        {
            "actor": s.entity.name,
            "stories": [_story_view(ctx, story, s.entity.id, names, local_now) for story in s.stories],
            "refs": [_ref_view(ref.story, ref.home.name) for ref in s.refs],
            "more": s.more,
            "total": s.total,
        }
        for s in sections
    ]
    values = {
        "kind": "digest",
        "digest_name": clean(digest.name, 60),
        "date": long_date(local_now, ctx.language),
        "count": len(included),
        "shown": sum(len(s.stories) for s in sections),
        "summary": [{"actor": s.entity.name, "count": s.total} for s in sections],
        "sections": view_sections,
        "health": [_health_view(ctx, h) for h in health],
    }
    text, html, subject = render_parts(ctx.templates_dir, "digest", _common(ctx) | values)
    return build_message(ctx, subject, text, html, digest.recipients, now, message_id)


def render_alert(ctx: RenderContext, entity: EntityConfig, story: StoredArticle, recipients: Sequence[str],
                 now: datetime, message_id: str, entities: Sequence[EntityConfig] = ()) -> OutgoingMessage:
    """An immediate message about one story that mentions an alert-flagged actor."""
    local_now = now.astimezone(ctx.timezone)
    names = {e.id: e.name for e in entities} | {entity.id: entity.name}
    values = {
        "kind": "alert",
        "actor": entity.name,
        "date": long_date(local_now, ctx.language),
        "story": _story_view(ctx, Story(story), entity.id, names, local_now),
    }
    text, html, subject = render_parts(ctx.templates_dir, "alert", _common(ctx) | values)
    return build_message(ctx, subject, text, html, recipients, now, message_id)


def _common(ctx: RenderContext) -> dict[str, Any]:
    return {"t": LABELS[ctx.language], "lang": ctx.language, "demo": ctx.demo}


def _story_view(ctx: RenderContext, story: Story, home: str, names: dict[str, str],
                now: datetime) -> dict[str, Any]:
    article = story.primary
    outlets = [clean(o, OUTLET_MAX) for o in story.outlets()] or ["—"]
    excerpt = snippet(article.text, article.mentions, home) or lead(article.text)
    return {
        "title": clean(article.title, TITLE_MAX) or "—",
        "url": safe_url(article.url),
        "outlet": outlets[0],
        "also_in": [o for o in outlets[1:] if o],
        "time": short_time(story.when.astimezone(ctx.timezone), now, ctx.language),
        "actors": [_display(a, names) for a in story.actors() if a != home],
        "claims": _claims(story, names),
        "snippet": excerpt,
        "alerted": story.alerted,
        "earlier": story.earlier,
        "anchor": _anchor(story),
    }


def _anchor(story: Story) -> str:
    """The id of the story's full entry in the HTML part, for pointer lines in other sections."""
    return f"story-{story.primary.id}"


def _ref_view(story: Story, home: str) -> dict[str, Any]:
    outlets = [clean(o, OUTLET_MAX) for o in story.outlets()] or ["—"]
    return {
        "title": clean(story.primary.title, TITLE_MAX) or "—",
        "url": safe_url(story.primary.url),
        "outlet": outlets[0],
        "anchor": _anchor(story),
        "home": home,
    }


def _claims(story: Story, names: dict[str, str]) -> list[dict[str, Any]]:
    """Key claims of the story (the primary's first), deduplicated by text, bounded in number."""
    seen: set[str] = set()
    tracked = story.actors()
    claims: list[dict[str, Any]] = []
    for claim in [c for a in [story.primary, *story.members] for c in a.key_claims]:
        text = clean(claim.text, CLAIM_MAX)
        if not text or text.casefold() in seen:
            continue
        seen.add(text.casefold())
        claims.append({"speaker": _speaker(claim, names, tracked), "text": text, "unconfirmed": claim.unconfirmed,
                       "kind": claim.kind})
        if len(claims) == MAX_CLAIMS:
            break
    return claims


def _speaker(claim: Claim, names: dict[str, str], tracked: list[str]) -> str:
    # A tracked id shows as its display name; a free name is shown as written (cleaned).
    if not claim.speaker:
        return ""
    if claim.speaker in names or claim.speaker in tracked:
        return _display(claim.speaker, names)
    return clean(claim.speaker, 80)


def _display(entity_id: str, names: dict[str, str]) -> str:
    # Alerts know only their own entity's name; another tracked id still reads as a name.
    return names.get(entity_id) or clean(entity_id.replace("_", " ").title(), 80)


def _health_view(ctx: RenderContext, h: FeedHealth) -> dict[str, Any]:
    def local(when: datetime | None) -> datetime | None:
        return when.astimezone(ctx.timezone) if when else None

    return {
        "name": clean(h.name, OUTLET_MAX) or clean(h.url, OUTLET_MAX),
        "url": safe_url(h.url),
        "failures": h.consecutive_failures,
        "last_success": date_time(local(h.last_success), ctx.language) if h.last_success
        else LABELS[ctx.language]["never"],
        # A feed that answers with nothing to read shows its problem where an error would be.
        "last_error": clean(h.last_error or h.problem, ERROR_MAX),
        "next_retry": date_time(local(h.next_check), ctx.language) if h.next_check else "",
        "disabled": clean(h.disabled_reason, ERROR_MAX),
    }


__all__ = ["Language", "RenderContext", "make_message_id", "render_alert", "render_digest"]
