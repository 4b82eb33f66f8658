"""Which stories a digest shows and where: near-duplicate merging, sections, caps. Pure."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor.config.types import EntityConfig
from monitor.models import StoredArticle

# Two reports of the same event from different outlets share most content words of title + lead;
# two different stories about the same actor share the actor's name and little else.
DUPLICATE_JACCARD = 0.5
LEAD_CHARS = 200
_WORD = re.compile(r"\w+")
_STOPWORDS = frozenset((
    "il", "lo", "la", "i", "gli", "le", "un", "uno", "una", "di", "del", "dello", "della", "dei",
    "degli", "delle", "a", "al", "allo", "alla", "ai", "agli", "alle", "da", "dal", "dalla", "dai",
    "in", "nel", "nella", "nei", "nelle", "con", "su", "sul", "sulla", "sui", "per", "tra", "fra",
    "e", "ed", "o", "che", "non", "si", "ha", "ho", "è", "sono", "come", "anche", "più", "ma",
    "se", "the", "an", "of", "to", "on", "for", "and", "or", "is", "are", "was", "with", "at",
    "by", "from", "it", "its", "as", "that", "this", "be", "has", "have",
))


@dataclass
class Story:
    """One event: the primary article and the other outlets that reported it."""

    primary: StoredArticle
    members: list[StoredArticle] = field(default_factory=list)

    @property
    def when(self) -> datetime:
        when = self.primary.published or self.primary.first_seen
        # The store hands out aware UTC; a naive value is read as UTC rather than local time.
        return when if when.tzinfo else when.replace(tzinfo=UTC)

    def actors(self) -> list[str]:
        seen: dict[str, None] = {}
        for article in [self.primary, *self.members]:
            for m in article.mentions:
                seen.setdefault(m.entity, None)
        return list(seen)

    def salience(self, entity: str) -> float:
        return max((a.salience.get(entity, 0.0) for a in [self.primary, *self.members]), default=0.0)

    def outlets(self) -> list[str]:
        seen: dict[str, None] = {}
        for article in [self.primary, *self.members]:
            for outlet in article.outlets:
                seen.setdefault(outlet, None)
        return list(seen)

    @property
    def alerted(self) -> bool:
        return any(a.alerted for a in [self.primary, *self.members])

    @property
    def earlier(self) -> bool:
        return self.primary.earlier


# Combining marks left by NFKD decomposition (accents): dropping them folds "è" into "e".
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def tokens(article: StoredArticle) -> frozenset[str]:
    """Content words of the title and the lead, accent- and case-folded."""
    text = f"{article.title} {article.text[:LEAD_CHARS]}"
    folded = _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))
    return frozenset(w for w in _WORD.findall(folded) if w not in _STOPWORDS and len(w) > 1)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def merge_duplicates(articles: Sequence[StoredArticle]) -> list[Story]:
    """Group articles reporting the same event; the earliest seen becomes the primary.

    An article joins the first story (in order of creation) that has its URL or whose primary's
    words overlap enough (Jaccard ≥ DUPLICATE_JACCARD). Comparing every pair is quadratic, and
    after a backfill there are thousands of stories that all share an actor's name; so only
    stories passing the prefix filter of similarity joins are compared: with the words of every
    set in one global order (rarest first), two sets that overlap enough must share a word among
    the first |x| − ⌈t·|x|⌉ + 1 of each.
    """
    ordered = sorted(articles, key=lambda a: (a.first_seen, a.id))
    words_of = [tokens(a) for a in ordered]
    frequency: dict[str, int] = {}
    for words in words_of:
        for w in words:
            frequency[w] = frequency.get(w, 0) + 1
    stories: list[Story] = []
    primary_words: list[frozenset[str]] = []
    primary_sizes: list[int] = []
    by_prefix_word: dict[str, list[int]] = {}
    by_url: dict[str, set[int]] = {}  # URL → every story holding an article with it
    for article, words in zip(ordered, words_of, strict=True):
        prefix = _prefix(words, frequency)
        same_url = by_url.get(article.url, set()) if article.url else set()
        candidates = same_url.union(*(by_prefix_word.get(w, ()) for w in prefix))
        home = _first_similar(words, sorted(candidates), same_url, primary_words, primary_sizes)
        if home is None:
            home = len(stories)
            stories.append(Story(article))
            primary_words.append(words)
            primary_sizes.append(len(words))
            for w in prefix:
                by_prefix_word.setdefault(w, []).append(home)
        else:
            stories[home].members.append(article)
        if article.url:
            by_url.setdefault(article.url, set()).add(home)
    return stories


def _first_similar(words: frozenset[str], candidates: list[int], same_url: set[int],
                   primary_words: list[frozenset[str]], primary_sizes: list[int]) -> int | None:
    """The first candidate story with the URL or a primary similar enough: jaccard ≥
    DUPLICATE_JACCARD, without the division or a call per pair (after a backfill this loop runs a
    few hundred thousand times)."""
    size = len(words)
    # Sizes too far apart cannot reach the threshold: |a ∩ b| ≤ min, |a ∪ b| ≥ max.
    low, high = DUPLICATE_JACCARD * size, size / DUPLICATE_JACCARD if size else 0.0
    for i in candidates:
        if i in same_url:
            return i
        other = primary_sizes[i]
        if low <= other <= high and other:
            common = len(words & primary_words[i])
            if common >= DUPLICATE_JACCARD * (size + other - common):
                return i
    return None


def _prefix(words: frozenset[str], frequency: dict[str, int]) -> list[str]:
    size = len(words)
    keep = size - math.ceil(DUPLICATE_JACCARD * size) + 1 if size else 0
    return sorted(words, key=lambda w: (frequency[w], w))[:keep]


@dataclass(frozen=True)
class Ref:
    """A pointer line: the story's full entry is under `home`'s section of the same digest."""

    story: Story
    home: EntityConfig


@dataclass
class Section:
    entity: EntityConfig
    stories: list[Story]
    total: int  # stories assigned to this section before caps, full entries and pointers
    refs: list[Ref] = field(default_factory=list)  # stories named prominently, shown in full elsewhere

    @property
    def more(self) -> int:
        return self.total - len(self.stories) - len(self.refs)


def arrange(stories: Sequence[Story], entities: Sequence[EntityConfig], actors: Sequence[str],
            max_per_section: int, max_stories: int,
            prominent: float | None = None) -> tuple[list[Section], list[Story]]:
    """Sections in entity-file order; each story in full once, under its most salient selected actor.

    With `prominent` (the relevance threshold), every other selected actor whose salience in the
    story reaches it gets a pointer line to that full entry under its own section, and is counted
    there: an actor often named but rarely the main subject still has a section. A pointer to a
    story whose full entry the caps left out is not shown (it counts among the "+N").

    Returns the capped sections and every story that belongs in the digest (for the summary).
    """
    selected = [e for e in entities if not actors or e.id in actors]
    order = {e.id: i for i, e in enumerate(selected)}
    by_id = {e.id: e for e in selected}
    buckets: dict[str, list[Story]] = {e.id: [] for e in selected}
    pointers: dict[str, list[Ref]] = {e.id: [] for e in selected}
    included: list[Story] = []
    for story in stories:
        mine = [a for a in story.actors() if a in order]
        if not mine:
            continue
        # Most salient first; ties go to the actor listed first in the entity file.
        home = min(mine, key=lambda a: (-story.salience(a), order[a]))
        buckets[home].append(story)
        included.append(story)
        if prominent is not None:
            for other in mine:
                if other != home and story.salience(other) >= prominent:
                    pointers[other].append(Ref(story, by_id[home]))
    sections: list[Section] = []
    budget = max_stories
    for entity in selected:
        bucket = buckets[entity.id]
        if not bucket and not pointers[entity.id]:
            continue
        # The most salient stories survive the caps; among equals, the newest first.
        bucket.sort(key=lambda s: (-s.salience(entity.id), -s.when.timestamp()))
        shown = bucket[: min(max_per_section, budget)]
        budget -= len(shown)
        sections.append(Section(entity, shown, len(bucket) + len(pointers[entity.id])))
    shown_ids = {id(story) for section in sections for story in section.stories}
    for section in sections:
        refs = [r for r in pointers[section.entity.id] if id(r.story) in shown_ids]
        refs.sort(key=lambda r: (-r.story.salience(section.entity.id), -r.story.when.timestamp()))
        section.refs = refs[: max(0, max_per_section - len(section.stories))]
    return sections, included
