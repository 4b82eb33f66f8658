"""Every tracked actor named prominently in a story is visible in the digest (issue 17).

A story is shown in full once, under its most salient actor; every other actor at or above the
relevance threshold gets a line in its own section pointing to that full entry (an anchor link in
HTML, "→ vedi «Titolo» sotto Elon Musk" in text) and is counted in the summary line.
"""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.config.types import Alias, DigestConfig, EntityConfig
from monitor.digest.build import RenderContext, render_digest
from monitor.models import Mention, OutgoingMessage, StoredArticle

NOW = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)
ENTITIES = (
    EntityConfig("openai", "OpenAI", "organization", (Alias("OpenAI"),)),
    EntityConfig("sam_altman", "Sam Altman", "person", (Alias("Sam Altman"),)),
    EntityConfig("elon_musk", "Elon Musk", "person", (Alias("Elon Musk"),)),
)
DIGEST = DigestConfig("mattina", "0 8 * * *", ("analisti@example.it",))
THRESHOLD = 1.0


def ctx(language: str) -> RenderContext:
    return RenderContext(language=language, timezone=ZoneInfo("Europe/Rome"), templates_dir=None,  # type: ignore[arg-type]
                         sender="monitor@example.it", list_id="monitor.example.it")


def story(i: int, title: str, text: str, salience: dict[str, float]) -> StoredArticle:
    names = {e.id: e.name for e in ENTITIES}
    mentions = tuple(Mention(e, names[e], text.find(names[e]), text.find(names[e]) + len(names[e]))
                     for e in salience)
    when = NOW - timedelta(hours=i)
    return StoredArticle(id=i, url=f"https://news.example.it/{i}", title=title, text=text, published=when,
                         first_seen=when, outlets=("Il Giornale Tech",), mentions=mentions, key_claims=(),
                         salience=salience)


STORIES = [
    # Musk is the main subject, OpenAI named prominently (above the threshold), Altman in passing.
    story(1, "Musk attacca il laboratorio", "Elon Musk attacca OpenAI. OpenAI risponde. Sam Altman tace.",
          {"elon_musk": 3.5, "openai": 2.0, "sam_altman": 0.5}),
    story(2, "Altman a Milano", "Sam Altman a Milano: OpenAI apre un ufficio, dice Sam Altman.",
          {"sam_altman": 3.0, "openai": 1.0}),
]


def parts(message: OutgoingMessage) -> tuple[str, str]:
    parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content().replace("\r\n", "\n"), html.get_content()


def render(language: str) -> tuple[str, str]:
    message = render_digest(ctx(language), DIGEST, ENTITIES, STORIES, [], NOW, "<d@example.it>",
                            prominent=THRESHOLD)
    assert message is not None
    return parts(message)


def section(text: str, actor: str) -> str:
    """The text of one section: from its heading to the next heading (a line of dashes follows)."""
    match = re.search(rf"^{re.escape(actor)} \(\d+\)\n-+\n(.*?)(?=^\S[^\n]* \(\d+\)\n-+\n|^--$)", text,
                      re.S | re.M)
    assert match, text
    return match.group(1)


def test_an_actor_named_prominently_gets_a_pointer_section_and_a_count_text() -> None:
    text, _ = render("it")
    # Counted in the summary: OpenAI is prominent in both stories, Altman only in his own.
    assert "2 storie per attore: OpenAI 2, Sam Altman 1, Elon Musk 1" in text
    openai = section(text, "OpenAI")
    assert "→ vedi «Musk attacca il laboratorio» sotto Elon Musk (Il Giornale Tech)" in openai
    assert "→ vedi «Altman a Milano» sotto Sam Altman (Il Giornale Tech)" in openai
    assert "https://news.example.it/1" in openai and "https://news.example.it/2" in openai
    # A passing mention (below the threshold) is no pointer: Altman's section holds his story only.
    assert "Musk attacca" not in section(text, "Sam Altman")
    # Each full entry once: the title line with its bullet appears once per story.
    assert text.count("* Musk attacca il laboratorio") == 1
    assert text.count("* Altman a Milano") == 1


def test_pointer_in_html_links_to_the_full_entry_in_the_same_mail() -> None:
    _, html = render("it")
    anchors = re.findall(r'href="#(story-\d+)"', html)
    assert sorted(anchors) == ["story-1", "story-2"]
    for anchor in anchors:
        assert html.count(f'id="{anchor}"') == 1  # the full entry carries the target, once
    assert "sotto Elon Musk" in html and "OpenAI (2)" in html
    assert html.count('href="https://news.example.it/1"') == 2  # the full entry's title and the pointer


def test_english_labels() -> None:
    text, html = render("en")
    assert "2 stories by actor: OpenAI 2, Sam Altman 1, Elon Musk 1" in text
    assert "→ see «Musk attacca il laboratorio» under Elon Musk" in text
    assert "under Sam Altman" in html


def test_caps_leave_out_a_pointer_to_a_story_not_shown() -> None:
    small = DigestConfig("mattina", "0 8 * * *", ("a@example.it",), max_stories=1)
    message = render_digest(ctx("it"), small, ENTITIES, STORIES, [], NOW, "<d@example.it>", prominent=THRESHOLD)
    assert message is not None
    text, html = parts(message)
    # Only Altman's story fits the budget... or Musk's: whichever is shown, no pointer dangles.
    for anchor in re.findall(r'href="#(story-\d+)"', html):
        assert f'id="{anchor}"' in html
    assert "OpenAI (2)" in text


def test_demo_digest_has_an_openai_section(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "monitor", "demo", "--output", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [digest] = sorted(out.glob("*-digest.eml"))
    message = email.message_from_bytes(digest.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content().replace("\r\n", "\n")
    assert re.search(r"per attore: OpenAI \d", text), text
    assert "→ vedi «Musk attacca OpenAI" in section(text, "OpenAI")
