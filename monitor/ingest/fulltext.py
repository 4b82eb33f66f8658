"""Full article text for feeds that only publish a teaser.

Per feed, `full_text`: true fetches every new article's page, false none, and "auto" (the
default) only the pages worth it: entries whose title or teaser may name a tracked actor (the
caller screens them with the alias prefilter) and whose feed text is short, at most
MAX_PAGES_PER_HOST pages per host in one poll cycle (PageBudget).

trafilatura is imported lazily. Every failure gives None, and the caller keeps the feed's own
text: full text is a bonus, never a reason to lose an article.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import re
from typing import Any

from monitor.config.types import FullText
from monitor.errors import MonitorError
from monitor.ingest.fetch import Fetcher, SiteHeaders
from monitor.ingest.politeness import host_key
from monitor.ingest.repair import repair_markup, repair_text

log = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", re.IGNORECASE)
# Looked up, not imported: the import (~0.2 s) happens in _extract's worker thread, never on the
# event loop.
_HAVE_TRAFILATURA = importlib.util.find_spec("trafilatura") is not None
MIN_CHARS = 200  # shorter than this is a cookie wall or an error page, not an article
# Italian feeds that carry only a teaser give one or two sentences (about 100-400 characters);
# those that carry the article give thousands. Under this, the quotes are on the page only.
SHORT_FEED_TEXT = 600
# A page costs the site more than a feed poll (a whole article, often uncached): after a quiet
# spell one feed can bring dozens of entries naming a tracked actor. The rest keep their teaser.
MAX_PAGES_PER_HOST = 10


class PageBudget:
    """How many article pages one poll cycle may still fetch from each host ("auto" mode)."""

    def __init__(self, per_host: int = MAX_PAGES_PER_HOST) -> None:
        self.per_host = per_host
        self._taken: dict[str, int] = {}

    def take(self, url: str) -> bool:
        """Count a page for `url`'s host; False once that host's budget is spent."""
        host = host_key(url)
        if self._taken.get(host, 0) >= self.per_host:
            return False
        self._taken[host] = self._taken.get(host, 0) + 1
        return True


def wants_page(mode: FullText, feed_text: str, url: str, budget: PageBudget) -> bool:
    """Whether to fetch the page of a new article whose feed text is `feed_text`.

    In "auto" mode the caller passes only entries the alias prefilter let through.
    """
    if mode is True:
        return True
    return mode == "auto" and len(feed_text) < SHORT_FEED_TEXT and budget.take(url)


async def fetch_full_text(fetcher: Fetcher, url: str, *, site_headers: SiteHeaders = (),
                          site: str = "") -> str | None:
    """The main text of the article at `url`, or None on any failure. `site_headers` (the feed's
    headers) go only to pages on the host of `site` (the feed's URL)."""
    if not _HAVE_TRAFILATURA:  # a broken install: fail soft, the feed's text stays
        log.debug("full text for %s skipped: trafilatura is not installed", url)
        return None
    try:
        page = await fetcher.fetch_page(url, site_headers=site_headers, site=site)
    except MonitorError as exc:
        log.debug("full text for %s: %s", url, exc)
        return None
    content_type = page.headers.get("content-type", "text/html").lower()
    if page.status != 200 or not page.body or not content_type.startswith(_HTML_TYPES):
        return None
    try:
        # Extraction is CPU-bound (lxml, heuristics): keep it off the event loop.
        return await asyncio.to_thread(_extract, page.body, content_type, page.url)
    except Exception as exc:  # noqa: BLE001 - third-party parser on hostile HTML: anything can fail
        log.debug("full text extraction failed for %s: %r", url, exc)
        return None


def _extract(body: bytes, content_type: str, url: str) -> str | None:
    import trafilatura

    html: Any = body
    match = _CHARSET.search(content_type)
    if match:
        with contextlib.suppress(LookupError):  # unknown charset: let trafilatura sniff the bytes
            html = body.decode(match.group(1), "replace")
    else:
        with contextlib.suppress(UnicodeDecodeError):  # most pages are UTF-8; others are sniffed
            html = body.decode("utf-8")
    if isinstance(html, str):
        html = repair_markup(html)
    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=False, include_images=False,
        favor_precision=True, deduplicate=True, output_format="txt",
    )
    if not text:
        return None
    # Pages suffer the same double-encoded UTF-8 as feeds: repaired the same way.
    text = "\n\n".join(" ".join(p.split()) for p in repair_text(text).split("\n") if p.strip())
    return text if len(text) >= MIN_CHARS else None
