"""The vocabulary that crosses stage boundaries: plain frozen dataclasses, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

ClaimKind = Literal["quote", "reported", "statement"]


@dataclass(frozen=True)
class ServerHints:
    """What the server and the feed said about when to come back: one value, fetch to politeness.

    `retry_after`: seconds, from a usable Retry-After on 429/503. `max_age`: seconds of freshness
    asked for (Cache-Control max-age, or Expires - Date). `ttl_minutes`: the feed's own <ttl>,
    added after parsing. `moved_to`: the new URL after an unbroken run of 301/308 from the
    configured one (the caller persists it). `gone`: the feed answered 410.
    """

    retry_after: float | None = None
    max_age: float | None = None
    ttl_minutes: int | None = None
    moved_to: str | None = None
    gone: bool = False


NO_HINTS = ServerHints()


@dataclass(frozen=True)
class FetchResult:
    """What one HTTP poll of a feed returned.

    `status` is the final status after redirects (304 means "not modified", body empty).
    """

    url: str
    status: int
    body: bytes
    headers: dict[str, str]
    etag: str | None = None
    last_modified: str | None = None
    hints: ServerHints = NO_HINTS


@dataclass(frozen=True)
class Entry:
    """One feed entry, normalised: plain text, aware UTC datetime, stable identity key."""

    key: str
    title: str
    text: str
    url: str | None = None
    guid: str | None = None
    published: datetime | None = None
    content_hash: str = ""


def entry_keys(entry: Entry) -> tuple[str | None, str | None, str | None]:
    """The identity keys an article is stored under: GUID, URL, content fingerprint."""
    guid_key = entry.key if entry.key.startswith("guid:") else None
    url_key = f"url:{entry.url}" if entry.url else None
    fp_key = entry.key if entry.key.startswith("fp:") else None
    return guid_key, url_key, fp_key


# An article's analysis state: waiting for the NLP, done, or kept unanalysed (first-poll backlog).
PENDING, ANALYZED, BACKLOG = "pending", "analyzed", "backlog"


@dataclass(frozen=True)
class KnownArticle:
    """A stored article as the entry decider sees it (negative id: created earlier in the batch)."""

    id: int
    guid_key: str | None
    url_key: str | None
    fp_key: str | None
    status: str
    content_hash: str | None


@dataclass(frozen=True)
class KnownArticles:
    """Every stored article holding one of a batch's identity keys, and the batch's pruned keys."""

    rows: tuple[KnownArticle, ...]
    tombstoned: frozenset[str]


@dataclass(frozen=True)
class EntryDecision:
    """What to do with the entry at index `entry` of a batch.

    skip: its key was pruned. insert: a new article with `status`. update: the stored `article`
    (negative: the one the batch's entry -article-1 created) takes the entry's GUID / URL key when
    `set_guid` / `set_url`, and its new text when `status` is set.
    """

    entry: int
    action: Literal["skip", "insert", "update"]
    article: int | None = None
    status: str | None = None
    set_guid: bool = False
    set_url: bool = False


@dataclass(frozen=True)
class ParsedFeed:
    """A feed document turned into entries; `problem` describes a tolerated defect (bozo)."""

    title: str | None
    entries: tuple[Entry, ...]
    ttl_minutes: int | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Mention:
    """A tracked actor named in an article; offsets index the body text (or title if in_title)."""

    entity: str
    text: str
    start: int
    end: int
    in_title: bool = False
    why: str = field(default="", compare=False)  # evidence: which alias and rule made the match


@dataclass(frozen=True)
class Claim:
    """Who said or did what. `speaker` is a tracked id, or a name/description as written."""

    kind: ClaimKind
    speaker: str | None
    text: str
    start: int
    end: int
    sentence: str
    score: float
    unconfirmed: bool = False
    subject: str | None = None  # tracked id the claim is about (statements), if any
    why: str = field(default="", compare=False)  # evidence: how the speaker or subject was found


@dataclass(frozen=True)
class Analysis:
    """Everything the NLP stage found in one article."""

    entities: tuple[str, ...]
    mentions: tuple[Mention, ...]
    claims: tuple[Claim, ...]
    salience: dict[str, float] = field(default_factory=dict)
    key_claims: tuple[Claim, ...] = ()


@dataclass(frozen=True)
class StoredArticle:
    """An article as the digest sees it, read back from the store."""

    id: int
    url: str | None
    title: str
    text: str
    published: datetime | None
    first_seen: datetime
    outlets: tuple[str, ...]
    mentions: tuple[Mention, ...]
    key_claims: tuple[Claim, ...]
    salience: dict[str, float]
    alerted: bool = False
    earlier: bool = False  # found by a re-scan after an entity change: earlier coverage


@dataclass(frozen=True)
class FeedHealth:
    """A feed's health as `monitor status` and the digest show it."""

    url: str
    name: str
    consecutive_failures: int
    last_success: datetime | None
    last_error: str | None
    failing_since: datetime | None
    next_check: datetime | None
    disabled_reason: str | None
    problem: str | None = None  # the feed answers, but gives nothing to read (e.g. no entries)
    problem_since: datetime | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    """A rendered message ready for the outbox: exact bytes and envelope."""

    message_id: str
    sender: str
    recipients: tuple[str, ...]
    raw: bytes
    subject: str


def plural(n: int, one: str, many: str) -> str:
    """The count with the word's right form, in English or Italian: "1 message", "2 messages",
    "1 messaggio", "0 messaggi" (both languages use the plural for zero)."""
    return f"{n} {one if n == 1 else many}"
