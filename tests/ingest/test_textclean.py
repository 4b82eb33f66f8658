"""The fast path of html_to_text must give exactly what inscriptis gives, or step aside."""

from __future__ import annotations

import random
import re

import pytest
from inscriptis import get_text

from monitor.ingest import textclean as parse
from monitor.ingest.textclean import html_to_text

TOKENS = ["<p>", "</p>", "<p>", "</p>", "<strong>", "</strong>", "<em>", "</em>", "<b>", "</b>", "<i>",
          "</i>", '<a href="http://x/y?q=1&amp;r=2">', "<a>", "</a>", '<a href="" title="t">', " ", "  ",
          "\n", "parola", "x", "'", "è", "Ciao.", ">", "a b", "&#8217;", "&amp;", "&lt;p&gt;", "&#160;",
          "&#0;", "&#65;", "&#x41;", "&nbsp;", "&quot;", "&#8232;", "&#128;", "&#55296;", "\u00a0",
          "<br>", "<div>", "\t", "\u200b"]


def _inscriptis(html: str) -> str:
    """html_to_text as it was before the fast path: always through inscriptis."""
    if not html or not html.strip():
        return ""
    text = get_text(html) if ("<" in html or "&" in html) else html
    text = parse._CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [parse._SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return parse._BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


@pytest.mark.parametrize("seed", range(4))
def test_fast_path_matches_inscriptis_on_random_fragments(seed: int) -> None:
    rng = random.Random(seed)
    fast = 0
    for _ in range(5000):
        html = "".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 16)))
        assert html_to_text(html) == _inscriptis(html), repr(html)
        fast += not parse._NOT_SIMPLE.search(html) and parse._simple_html_to_text(html) is not None
    assert fast > 50  # the fast path was actually exercised


def test_fast_path_matches_inscriptis_on_paragraphs() -> None:
    rng = random.Random(7)
    words = ["Il", "governo", "è", "'", "Ciao.", "l&#8217;uomo", "x", "à", " ", "\n", "<strong>", "</strong>",
             '<a href="http://e.it/a/1">', "</a>", "<em>", "</em>"]
    for _ in range(3000):
        html = "".join(rng.choice([" ", "", "\n"]) + "<p>" + "".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
                       + ("</p>" if rng.random() < 0.9 else "") for _ in range(rng.randint(0, 5)))
        assert html_to_text(html) == _inscriptis(html), repr(html)


def test_other_spaces_are_every_space_but_space_and_newline() -> None:
    # The fast path must step aside for tabs, no-break and exotic spaces exactly as `[^\S \n]` did.
    listed = re.compile("[" + parse.OTHER_SPACES + "]")
    for code in range(0x110000):
        char = chr(code)
        assert bool(listed.fullmatch(char)) == (char.isspace() and char not in " \n"), hex(code)
