"""Digests and alerts as compact Markdown posts for chat channels (Slack, Teams, ntfy, webhooks).

Templates chat_digest.md and chat_alert.md, overridable in templates_dir like the mail ones.
Every piece of feed text goes through the `md` filter, which neutralises it for the channel's
flavour: no mention pings (@channel, @everyone, <!everyone>), no links or emphasis made of feed
text; only our own links, to http(s) pages, are links. A post longer than the service accepts
loses whole stories, the last-ranked first, and says "+N altri".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from monitor.config.types import DigestConfig, EntityConfig
from monitor.digest.build import RenderContext, _story_view
from monitor.digest.render import environment
from monitor.digest.stories import Story, arrange, merge_duplicates
from monitor.digest.text import clean, long_date
from monitor.models import StoredArticle

Flavour = Literal["slack", "markdown"]

CHAT_LABELS = {
    "it": {"digest": "Rassegna", "story": "storia", "stories": "storie", "more": "altri", "alert": "Allerta",
           "test": "Messaggio di prova di monitor: il canale funziona.", "nothing": "Nessuna novità."},
    "en": {"digest": "Digest", "story": "story", "stories": "stories", "more": "more", "alert": "Alert",
           "test": "monitor test message: the channel works.", "nothing": "Nothing new."},
}

# Mentions: "@" before a name (Discord, Mattermost, Teams, Slack's legacy @channel): a word
# joiner after the "@" keeps the text readable and pings nobody.
_MENTION = re.compile(r"@(?=\w)")
# Markdown's inline syntax (CommonMark backslash escapes); "<" and ">" never reach the post
# (autolinks, HTML, Slack's <!everyone> and <url|text>): they become look-alike angle quotes.
_MARKDOWN = re.compile(r"([\\`*_\[\]~|#])")
# Slack's mrkdwn has no escape character: its emphasis marks become look-alikes instead.
_SLACK = str.maketrans({"*": "\u2217", "~": "\u223c", "`": "\u02cb", "|": "\u00a6", "_": "\u02cd"})
_ANGLES = str.maketrans({"<": "\u2039", ">": "\u203a"})


@dataclass(frozen=True)
class ChatPost:
    title: str
    body: str


def neutralise(text: str, flavour: Flavour) -> str:
    """Feed text as inert characters in the channel's Markdown."""
    text = _MENTION.sub("@\u2060", text.translate(_ANGLES))
    if flavour == "slack":
        return text.translate(_SLACK)
    return _MARKDOWN.sub(r"\\\1", text)


def _link(flavour: Flavour) -> Callable[[str, str | None], str]:
    def link(label: str, url: str | None) -> str:
        text = neutralise(label, flavour)
        if not url:
            return text
        if flavour == "slack":
            return f"<{url.replace('|', '%7C').replace('>', '%3E')}|{text}>"
        return f"[{text}]({url.replace('(', '%28').replace(')', '%29').replace(' ', '%20')})"
    return link


def _render(ctx: RenderContext, name: str, flavour: Flavour, values: dict[str, Any]) -> str:
    env = environment(ctx.templates_dir).overlay()
    env.filters["md"] = lambda text: neutralise(str(text), flavour)
    env.globals["link"] = _link(flavour)
    template = env.get_template(name)
    labels = CHAT_LABELS[ctx.language]
    text = template.render(values | {"t": labels, "flavour": flavour, "demo": ctx.demo})
    # Services strip the ends of a post; the stored text is exactly what they receive.
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def render_chat_digest(ctx: RenderContext, digest: DigestConfig, entities: Sequence[EntityConfig],
                       stories: Sequence[StoredArticle], now: datetime, flavour: Flavour, max_chars: int,
                       complete: Callable[[list[int]], dict[int, StoredArticle]] | None = None) -> ChatPost | None:
    """The digest as one post, whole stories cut from the end of the longest sections to fit."""
    merged = merge_duplicates(stories)
    sections, included = arrange(merged, entities, digest.actors, digest.max_per_section, digest.max_stories)
    if not included and not digest.send_empty:
        return None
    shown_stories = [story for s in sections for story in s.stories]
    if complete is not None:
        full = complete([story.primary.id for story in shown_stories])
        for story in shown_stories:
            story.primary = full.get(story.primary.id, story.primary)
    names = {e.id: e.name for e in entities}
    local_now = now.astimezone(ctx.timezone)
    labels = CHAT_LABELS[ctx.language]
    title = f"{labels['digest']} {clean(digest.name, 60)} – {long_date(local_now, ctx.language)}"
    # The key claim only (the first): a chat post is read at a glance.
    views = [[_top_claim(_story_view(ctx, story, s.entity.id, names, local_now)) for story in s.stories]
             for s in sections]
    keep = [len(v) for v in views]

    def body() -> str:
        return _render(ctx, "chat_digest.md", flavour, {
            "title": title, "count": len(included),
            "summary": [{"actor": s.entity.name, "count": s.total} for s in sections],
            "sections": [{"actor": s.entity.name, "stories": v[:k], "more": s.total - k}
                         for s, v, k in zip(sections, views, keep, strict=True)],
        })

    text = body()
    while len(text) > max_chars and any(keep):
        longest = max(range(len(keep)), key=lambda i: (keep[i], i))
        keep[longest] -= 1
        text = body()
    return ChatPost(title=title, body=_bound(text, max_chars))


def _top_claim(view: dict[str, Any]) -> dict[str, Any]:
    return view | {"claims": view["claims"][:1]}


def render_chat_alert(ctx: RenderContext, entity: EntityConfig, story: StoredArticle, now: datetime,
                      entities: Sequence[EntityConfig], flavour: Flavour, max_chars: int) -> ChatPost:
    """One story: title and link, its key claims with their speakers, the evidence snippet."""
    local_now = now.astimezone(ctx.timezone)
    names = {e.id: e.name for e in entities} | {entity.id: entity.name}
    view = _story_view(ctx, Story(story), entity.id, names, local_now)
    title = f"{CHAT_LABELS[ctx.language]['alert']}: {entity.name}"
    text = _render(ctx, "chat_alert.md", flavour, {"title": title, "actor": entity.name, "story": view})
    while len(text) > max_chars and view["claims"]:  # fewer claims before a cut mid-text
        view = view | {"claims": view["claims"][:-1]}
        text = _render(ctx, "chat_alert.md", flavour, {"title": title, "actor": entity.name, "story": view})
    return ChatPost(title=title, body=_bound(text, max_chars))


def render_chat_test(ctx: RenderContext) -> ChatPost:
    labels = CHAT_LABELS[ctx.language]
    return ChatPost(title="monitor", body=labels["test"])


def _bound(text: str, max_chars: int) -> str:
    """Last resort for a template that cannot fit even without stories: cut at a line."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n", 0, max_chars - 1)
    return text[: cut if cut > 0 else max_chars - 1] + "…"
