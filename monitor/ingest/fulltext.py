"""Full article text for feeds that only publish a teaser (opt-in per feed: full_text = true).

trafilatura is an optional extra (`pip install monitor[fulltext]`), imported lazily. Every
failure gives None, and the caller keeps the feed's own text: full text is a bonus, never a
reason to lose an article.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

from monitor.errors import MonitorError
from monitor.ingest.fetch import Fetcher
from monitor.ingest.repair import repair_markup, repair_text

log = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", re.IGNORECASE)
MIN_CHARS = 200  # shorter than this is a cookie wall or an error page, not an article


async def fetch_full_text(fetcher: Fetcher, url: str) -> str | None:
    """The main text of the article at `url`, or None on any failure."""
    try:
        import trafilatura  # noqa: F401  (optional dependency: fail soft when absent)
    except ImportError:
        log.debug("full text for %s skipped: trafilatura is not installed", url)
        return None
    try:
        page = await fetcher.fetch_page(url)
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
