"""Digest and alert rendering: structure, labels, merging, caps, and hostile feed text."""

from __future__ import annotations

import email
import email.policy
import re
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config.types import Alias, DigestConfig, EntityConfig
from monitor.digest.build import RenderContext, make_message_id, render_alert, render_digest
from monitor.models import Claim, FeedHealth, Mention, OutgoingMessage, StoredArticle

NOW = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)  # a Monday; 08:00 in Rome
ROME = ZoneInfo("Europe/Rome")
MID = "<digest-1@example.it>"
ENTITIES = (
    EntityConfig("openai", "OpenAI", "organization", (Alias("OpenAI"),)),
    EntityConfig("sam_altman", "Sam Altman", "person", (Alias("Sam Altman"),)),
    EntityConfig("elon_musk", "Elon Musk", "person", (Alias("Elon Musk"),), alert=True),
)
DIGEST = DigestConfig("mattina", "0 8 * * *", ("analisti@example.it", "stampa@example.it"))


def ctx(language: str = "it", **kw: object) -> RenderContext:
    base = RenderContext(language=language, timezone=ROME, templates_dir=None,  # type: ignore[arg-type]
                         sender="monitor@example.it", list_id="monitor.example.it")
    return replace(base, **kw)  # type: ignore[arg-type]


_ids = iter(range(1, 1_000_000))


def article(title: str, text: str, actors: dict[str, float], *, outlet: str = "ANSA", url: str | None = None,
            hours_ago: float = 1.0, claims: tuple[Claim, ...] = (), alerted: bool = False) -> StoredArticle:
    """An article whose mentions point at the first occurrence of each actor's display name."""
    names = {e.id: e.name for e in ENTITIES}
    mentions = []
    for entity in actors:
        at = text.find(names[entity])
        if at >= 0:
            mentions.append(Mention(entity, names[entity], at, at + len(names[entity])))
        else:
            mentions.append(Mention(entity, names[entity], 0, len(names[entity]), in_title=True))
    i = next(_ids)
    when = NOW - timedelta(hours=hours_ago)
    return StoredArticle(id=i, url=url if url is not None else f"https://news.example.it/{i}", title=title,
                         text=text, published=when, first_seen=when, outlets=(outlet,),
                         mentions=tuple(mentions), key_claims=claims, salience=actors, alerted=alerted)


def claim(speaker: str | None, text: str, unconfirmed: bool = False) -> Claim:
    return Claim("quote", speaker, text, 0, len(text), text, 1.0, unconfirmed=unconfirmed)


def parse(message: OutgoingMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: OutgoingMessage) -> tuple[str, str]:
    msg = parse(message)
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


MUSK_TEXT = ("Roma. Ieri Elon Musk ha parlato a lungo con i giornalisti a margine dell'evento. "
             "«Sono molto preoccupato», ha detto il fondatore di Tesla. Altro testo qui.")
MUSK = article("Musk: «Sono molto preoccupato per l'intelligenza artificiale»", MUSK_TEXT, {"elon_musk": 1.0},
               claims=(claim("elon_musk", "Sono molto preoccupato"),
                       claim("un portavoce di Tesla", "Nessun commento", unconfirmed=True)))


def test_message_structure_and_headers() -> None:
    out = render_digest(ctx(), DIGEST, ENTITIES, [MUSK], [], NOW, MID)
    assert out is not None
    assert out.message_id == MID and out.recipients == DIGEST.recipients and out.sender == "monitor@example.it"
    assert b"\n" not in out.raw.replace(b"\r\n", b"")  # CRLF only, as SMTP wants
    assert max(len(line) for line in out.raw.split(b"\r\n")) <= 998
    msg = parse(out)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in msg.iter_parts())
    assert msg["Message-ID"] == MID
    assert msg["From"] == "monitor@example.it"
    assert msg["To"] == "analisti@example.it, stampa@example.it"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Id"] == "<monitor.example.it>"
    assert msg["Date"] == "Mon, 03 Mar 2025 08:00:00 +0100"
    assert msg["Subject"] == out.subject == "Rassegna mattina – lunedì 3 marzo 2025: 1 storia"


def test_story_content_italian() -> None:
    out = render_digest(ctx(), DIGEST, ENTITIES, [MUSK], [], NOW, MID)
    assert out is not None
    text, html = parts(out)
    for body in (text, html):
        assert "Elon Musk: «Sono molto preoccupato»" in body.replace('<span class="speaker" style="font-weight: bold;">', "").replace("</span>", "")
        assert "un portavoce di Tesla" in body and "non confermato" in body
        assert "ANSA" in body and "07:00" in body  # 06:00 UTC shown in Rome time
        assert "1 storia per attore" in body.replace("<strong>", "").replace("</strong>", "")
    assert re.search(r"Ieri <strong[^>]*>Elon Musk</strong> ha parlato", html)
    assert "https://news.example.it/" in text
    assert "<" not in text.replace("«", "")  # written for reading, not converted HTML


def test_english_labels() -> None:
    dup = article("Musk molto preoccupato per l'intelligenza artificiale", MUSK_TEXT, {"elon_musk": 1.0},
                  outlet="Il Sole 24 Ore", hours_ago=0.5)
    alerted = replace(MUSK, alerted=True)
    out_en = render_digest(ctx("en"), DIGEST, ENTITIES, [alerted, dup], [], NOW, MID)
    out_it = render_digest(ctx("it"), DIGEST, ENTITIES, [alerted, dup], [], NOW, MID)
    assert out_en is not None and out_it is not None
    text_en, html_en = parts(out_en)
    text_it, html_it = parts(out_it)
    assert out_en.subject.startswith("Digest mattina – Monday 3 March 2025")
    for body in (text_en, html_en):
        assert "also in: Il Sole 24 Ore" in body and "unconfirmed" in body and "already alerted" in body
        assert "anche su" not in body and "marzo" not in body
    for body in (text_it, html_it):
        assert "anche su: Il Sole 24 Ore" in body and "già segnalato" in body and "non confermato" in body


def test_near_duplicates_merge_but_distinct_stories_do_not() -> None:
    a = article("OpenAI lancia GPT-5, il nuovo modello di intelligenza artificiale",
                "OpenAI ha presentato oggi GPT-5, il nuovo modello di intelligenza artificiale, "
                "disponibile da subito per gli utenti a pagamento.", {"openai": 1.0}, outlet="ANSA", hours_ago=3)
    b = article("GPT-5: OpenAI lancia il suo nuovo modello di intelligenza artificiale",
                "Presentato oggi da OpenAI GPT-5, nuovo modello di intelligenza artificiale "
                "disponibile per gli utenti a pagamento.", {"openai": 1.0}, outlet="Il Sole 24 Ore", hours_ago=2)
    c = article("OpenAI, causa per violazione del copyright a New York",
                "Un gruppo di editori ha fatto causa a OpenAI a New York per violazione del diritto d'autore.",
                {"openai": 1.0}, outlet="Wired Italia", hours_ago=1)
    same_url = replace(c, id=999, outlets=("Corriere",), title="Titolo diverso del tutto")
    out = render_digest(ctx(), DIGEST, ENTITIES, [a, b, c, same_url], [], NOW, MID)
    assert out is not None
    text, html = parts(out)
    assert "2 storie" in out.subject
    assert "anche su: Il Sole 24 Ore" in text and "anche su: Corriere" in text
    assert "* OpenAI lancia GPT-5" in text and "GPT-5: OpenAI lancia" not in text
    assert "Titolo diverso" not in text


def test_empty_digest() -> None:
    assert render_digest(ctx(), DIGEST, ENTITIES, [], [], NOW, MID) is None
    # Stories about actors this digest does not follow count as nothing.
    only_openai = replace(DIGEST, actors=("openai",))
    assert render_digest(ctx(), only_openai, ENTITIES, [MUSK], [], NOW, MID) is None
    out = render_digest(ctx(), replace(DIGEST, send_empty=True), ENTITIES, [], [], NOW, MID)
    assert out is not None
    text, html = parts(out)
    assert "Nessuna nuova storia" in text and "Nessuna nuova storia" in html
    assert "0 storie" in out.subject


def test_sections_follow_entity_order_and_salience() -> None:
    both = article("Altman risponde a Musk", "Sam Altman ha risposto a Elon Musk su OpenAI.",
                   {"elon_musk": 0.4, "sam_altman": 0.9, "openai": 0.2})
    tie = article("OpenAI e Musk", "OpenAI e Elon Musk in tribunale.", {"elon_musk": 0.5, "openai": 0.5})
    out = render_digest(ctx(), DIGEST, ENTITIES, [MUSK, both, tie], [], NOW, MID)
    assert out is not None
    text, _ = parts(out)
    # Sections in entity-file order; each story once.
    assert text.index("OpenAI (1)") < text.index("Sam Altman (1)") < text.index("Elon Musk (1)")
    assert text.count("Altman risponde a Musk") == 1
    sam_section = text[text.index("Sam Altman (1)"):text.index("Elon Musk (1)")]
    assert "Altman risponde a Musk" in sam_section and "cita anche: Elon Musk, OpenAI" in sam_section
    openai_section = text[text.index("OpenAI (1)"):text.index("Sam Altman (1)")]
    assert "OpenAI e Musk" in openai_section  # tie → first in entity order
    assert "3 storie per attore: OpenAI 1, Sam Altman 1, Elon Musk 1" in text


def test_actor_filter() -> None:
    both = article("Altman risponde a Musk", "Sam Altman ha risposto a Elon Musk.", {"elon_musk": 0.4, "sam_altman": 0.9})
    out = render_digest(ctx(), replace(DIGEST, actors=("elon_musk",)), ENTITIES, [MUSK, both], [], NOW, MID)
    assert out is not None
    text, _ = parts(out)
    assert "Sam Altman (" not in text and "Elon Musk (2)" in text


def test_500_stories_stay_within_caps() -> None:
    rng_words = [f"parola{i}" for i in range(4000)]
    stories = []
    for i in range(500):
        actor = ENTITIES[i % 3]
        words = " ".join(rng_words[i * 8:(i + 1) * 8])
        stories.append(article(f"Notizia {i} {words}", f"{actor.name} ha fatto qualcosa: {words}. " * 30,
                               {actor.id: 1.0}, hours_ago=i / 10,
                               claims=tuple(claim(actor.id, f"frase {j} " + "molto lunga " * 50) for j in range(6))))
    digest = replace(DIGEST, max_stories=12, max_per_section=5)
    started = time.monotonic()
    out = render_digest(ctx(), digest, ENTITIES, stories, [], NOW, MID)
    assert time.monotonic() - started < 1.5
    assert out is not None
    text, html = parts(out)
    assert "500 storie" in out.subject
    assert text.count("\n* Notizia") == 12
    assert "+162 altri" in text and "+162 altri" in html  # 167 per actor: 5 shown (OpenAI, Sam Altman)
    assert "+164 altri" in text  # Elon Musk (166 stories): only 2 left in the digest budget
    assert len(out.raw) < 200_000
    assert max(len(line) for line in text.splitlines()) < 400  # no wall of text


def test_hostile_titles_are_neutralised() -> None:
    evil = article("Musk\r\nBcc: victim@evil.example\r\n\r\n<script>alert(1)</script><img src=http://evil/x.png>",
                   "Elon Musk <b onmouseover=alert(1)>ciao</b> \u202egnp.exe <a href='javascript:x'>link</a>.",
                   {"elon_musk": 1.0}, url="javascript:alert(document.cookie)", outlet="<i>Evil</i>\nX-Hdr: 1",
                   claims=(claim("<script>x</script>", "<img src=x onerror=alert(1)>"),))
    data_link = article("Link data", "Elon Musk e un link.", {"elon_musk": 0.5}, url="data:text/html,<script>1</script>")
    relative = article("Link relativo", "Elon Musk e un altro link.", {"elon_musk": 0.4}, url="/relative/path")
    for out in (render_digest(ctx(), DIGEST, ENTITIES, [evil, data_link, relative], [], NOW, MID),
                render_alert(ctx(), ENTITIES[2], evil, ["ops@example.it"], NOW, MID)):
        assert out is not None
        msg = parse(out)
        assert msg["Bcc"] is None and msg["X-Hdr"] is None
        assert "\n" not in out.subject and "\r" not in out.subject and len(out.subject) <= 120
        assert sorted(msg.keys()) == sorted(["From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
                                             "X-Auto-Response-Suppress", "Precedence", "List-Id",
                                             "MIME-Version", "Content-Type"])
        text, html = parts(out)
        tags = {t.lower() for t in re.findall(r"<\s*/?\s*([a-zA-Z][\w-]*)", html)}
        assert tags <= {"html", "head", "meta", "title", "body", "table", "tbody", "tr", "td", "p", "a", "span",
                        "strong", "br"}
        assert "&lt;script&gt;" in html and "&lt;img src=" in html
        assert "javascript:" not in html.replace("&#39;javascript:x&#39;", "") and "data:text" not in html
        assert not re.search(r'href="(?!https?://)', html)
        assert "\u202e" not in text and "\u202e" not in html


def test_html_has_no_external_resources_or_script() -> None:
    health = [FeedHealth("https://feed.example.it/rss", "Feed rotto", 4, None, "HTTP 503", NOW - timedelta(hours=9),
                         NOW + timedelta(minutes=30), None)]
    out = render_digest(ctx(demo=True), DIGEST, ENTITIES, [MUSK], health, NOW, MID)
    assert out is not None
    _, html = parts(out)
    lowered = html.lower()
    assert not re.search(r"src\s*=", lowered)
    assert "<link" not in lowered and "@import" not in lowered and "<script" not in lowered
    assert "url(" not in lowered and "<style" not in lowered  # CSS inlined, nothing to fetch
    assert 'style="' in html and "<table" in lowered


def test_feed_health_section() -> None:
    health = [FeedHealth("https://feed.example.it/rss", "Tech <Feed>", 4, NOW - timedelta(hours=9),
                         "HTTP 503 Service Unavailable", NOW - timedelta(hours=8), NOW + timedelta(minutes=30), None)]
    out = render_digest(ctx(), DIGEST, ENTITIES, [MUSK], health, NOW, MID)
    assert out is not None
    text, html = parts(out)
    assert "Fonti con problemi" in text and "Tech <Feed>" in text and "Tech &lt;Feed&gt;" in html
    assert "ultimo successo: domenica 2 marzo 2025, 23:00" in text
    assert "ultimo errore: HTTP 503 Service Unavailable" in text
    assert "prossimo tentativo: lunedì 3 marzo 2025, 08:30" in text
    no_health = render_digest(ctx(), DIGEST, ENTITIES, [MUSK], [], NOW, MID)
    assert no_health is not None and "Fonti con problemi" not in parts(no_health)[0]


def test_demo_marked_in_subject_and_header() -> None:
    out = render_digest(ctx(demo=True), DIGEST, ENTITIES, [MUSK], [], NOW, MID)
    assert out is not None
    text, html = parts(out)
    assert out.subject.startswith("[DEMO – articoli fittizi]")
    assert "DEMO – articoli fittizi" in text.splitlines()[0] and "DEMO – articoli fittizi" in html


def test_alert() -> None:
    out = render_alert(ctx(), ENTITIES[2], MUSK, ["ops@example.it"], NOW, MID)
    assert out.recipients == ("ops@example.it",) and out.message_id == MID
    assert out.subject.startswith("Allerta: Elon Musk – Musk: «Sono molto preoccupato")
    text, html = parts(out)
    assert "Elon Musk: «Sono molto preoccupato»" in text
    assert parse(out)["Auto-Submitted"] == "auto-generated"


def test_oversized_fields_are_bounded() -> None:
    huge = article("T" * 10_000, "Elon Musk " + "x" * 100_000, {"elon_musk": 1.0}, outlet="O" * 5_000,
                   claims=(claim("elon_musk", "y" * 10_000),))
    out = render_digest(ctx(), DIGEST, ENTITIES, [huge], [], NOW, MID)
    assert out is not None
    text, _ = parts(out)
    assert len(text) < 2_000 and len(out.raw) < 30_000


def test_custom_templates_fall_back_per_file(tmp_path: Path) -> None:
    (tmp_path / "subject.txt").write_text("Personalizzato: {{ count }}\r\nBcc: x@evil", encoding="utf-8")
    out = render_digest(ctx(templates_dir=tmp_path), DIGEST, ENTITIES, [MUSK], [], NOW, MID)
    assert out is not None
    assert out.subject == "Personalizzato: 1 Bcc: x@evil"  # even our own templates cannot add headers
    assert "Rassegna mattina" in parts(out)[0]  # digest.txt came from the built-in folder
    (tmp_path / "digest.txt").write_text("{{ no_such_value }}", encoding="utf-8")
    with pytest.raises(jinja2.UndefinedError):
        render_digest(ctx(templates_dir=tmp_path), DIGEST, ENTITIES, [MUSK], [], NOW, MID)


def test_summer_time_and_other_days() -> None:
    summer = datetime(2025, 7, 15, 6, 0, tzinfo=UTC)
    old = replace(MUSK, published=summer - timedelta(days=2, hours=1), first_seen=summer - timedelta(days=2))
    out = render_digest(ctx(), DIGEST, ENTITIES, [old], [], summer, MID)
    assert out is not None
    text, _ = parts(out)
    assert "martedì 15 luglio 2025" in out.subject and "13 lug 07:00" in text


def test_make_message_id() -> None:
    a, b = make_message_id("example.it"), make_message_id("example.it")
    assert a != b and re.fullmatch(r"<[0-9a-f]{32}@example\.it>", a)
    assert make_message_id("ex\r\nample>.it").endswith("@example.it>")


@settings(max_examples=40, deadline=None)
@given(title=st.text(max_size=300), outlet=st.text(max_size=50), speaker=st.text(max_size=40))
def test_any_feed_text_is_safe(title: str, outlet: str, speaker: str) -> None:
    story = article(title, "Elon Musk ha parlato.", {"elon_musk": 1.0}, outlet=outlet,
                    claims=(claim(speaker, title),))
    out = render_alert(ctx(), ENTITIES[2], story, ["ops@example.it"], NOW, MID)
    assert "\n" not in out.subject and "\r" not in out.subject and len(out.subject) <= 120
    msg = parse(out)
    assert len(msg.keys()) == 11
    _, html = parts(out)
    assert "<script" not in html.lower()


def test_snippet_is_the_sentence_around_the_first_body_mention() -> None:
    from monitor.digest.text import SNIPPET_MAX, snippet

    text = "Prima frase senza nomi. Poi Elon Musk ha parlato! Terza frase con Elon Musk."
    at = text.index("Elon Musk")
    got = snippet(text, (Mention("elon_musk", "Elon Musk", at, at + 9),), "elon_musk")
    assert got is not None and (got.before, got.match, got.after) == ("Poi ", "Elon Musk", " ha parlato!")
    # Wrong offsets (text re-normalised upstream) fall back to finding the name.
    got = snippet(text, (Mention("elon_musk", "Elon Musk", 0, 9),), "elon_musk")
    assert got is not None and got.match == "Elon Musk"
    # A sentence without end is windowed around the name and marked as cut.
    long_text = ("parola " * 200) + "Elon Musk " + ("altro " * 200)
    at = long_text.index("Elon Musk")
    got = snippet(long_text, (Mention("elon_musk", "Elon Musk", at, at + 9),), "elon_musk")
    assert got is not None and got.before.startswith("…") and got.after.endswith("…")
    assert len(got.plain) <= SNIPPET_MAX + 4 and got.match == "Elon Musk"
    # Title-only mentions have no body snippet.
    assert snippet(text, (Mention("elon_musk", "Elon Musk", 0, 9, in_title=True),), "elon_musk") is None
