"""Near-duplicate merging: the indexed merge groups exactly as comparing every pair would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.digest.stories import DUPLICATE_JACCARD, jaccard, merge_duplicates, tokens
from monitor.models import StoredArticle

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
WORDS = ["openai", "altman", "musk", "modello", "chip", "borsa", "milano", "accordo", "causa", "xai"]


def _article(i: int, words: list[str], url: int | None, minute: int) -> StoredArticle:
    return StoredArticle(id=i, url=f"https://n.example.it/{url}" if url is not None else None,
                         title=" ".join(words), text="", published=None,
                         first_seen=T0 + timedelta(minutes=minute), outlets=("X",), mentions=(),
                         key_claims=(), salience={"openai": 2.0})


def _every_pair(articles: list[StoredArticle]) -> list[list[int]]:
    """The plain definition: join the first story holding the URL or overlapping enough."""
    groups: list[tuple[frozenset[str], set[str], list[int]]] = []
    for a in sorted(articles, key=lambda a: (a.first_seen, a.id)):
        words = tokens(a)
        for story_words, urls, ids in groups:
            if (a.url and a.url in urls) or jaccard(words, story_words) >= DUPLICATE_JACCARD:
                ids.append(a.id)
                if a.url:
                    urls.add(a.url)
                break
        else:
            groups.append((words, {a.url} if a.url else set(), [a.id]))
    return [ids for _, _, ids in groups]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(WORDS), max_size=8),
                          st.one_of(st.none(), st.integers(0, 4)), st.integers(0, 30)), max_size=25))
def test_indexed_merge_matches_the_pairwise_definition(spec: list[tuple[list[str], int | None, int]]) -> None:
    articles = [_article(i, words, url, minute) for i, (words, url, minute) in enumerate(spec)]
    merged = [[s.primary.id] + [m.id for m in s.members] for s in merge_duplicates(articles)]
    assert merged == _every_pair(articles)
