"""Quotations whose marks were lost in the page, taken only where the evidence is clear.

Two shapes:
  * an embedded post: the paragraph right before a signature line `— Nome Cognome (@handle) data`
    (the way embedded posts are flattened into text) is the post, by the signing person;
  * a colon paragraph: a paragraph that ends in a colon with a speaker (`Rossi ha scritto:`), followed
    by a short paragraph with no quote marks that speaks in the first person or in English;
  * a labelled paragraph: `Musk: Non abbiamo mai …`, a name and a colon opening a paragraph whose
    words, without marks, speak in the first person;
  * a colon inside a paragraph: `In una nota, Acme ha confermato la sua linea: Le accuse sono infondate.
    Lo dimostreremo …`, a speech clause, a colon, then a capital and the rest of the paragraph,
    without marks, speaking in the first person plural or singular (a verb, not just a clitic).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from monitor.models import Claim
from monitor.nlp.colon import before
from monitor.nlp.speakers import SpeakerContext

_SIGNATURE = re.compile(r"[—–-][ \t]*([A-ZÀ-Ý][\w’'-]+(?:[ \t]+[A-ZÀ-Ý][\w’'-]+)+)[ \t]*\(@\w+\)[ \t]*"
                        r"(?:[A-Z][a-z]+\.?[ \t]+\d{1,2},?[ \t]+\d{4}|\d{1,2}[ \t]+\w+[ \t]+\d{4})")
_PARAGRAPH = re.compile(r"[^\n]+")
_MARKS = frozenset("«»“”\"„")
# First-person forms: the paragraph is someone speaking, not the writer's prose.
_FIRST_PERSON = re.compile(r"\b(?:io|noi|mi|ci|mio|mia|miei|nostro|nostra|nostri|ho|abbiamo|sono|siamo|"
                           r"[a-zà-ÿ]{3,}iamo)\b", re.I)
_ENGLISH = re.compile(r"\b(?:the|and|you|your|we|our|they|have|has|are|is|not|don’t|don't|to|of|i)\b", re.I)
MAX_WORDS = 80


def unmarked_claims(ctx: SpeakerContext, taken: list[tuple[int, int]]) -> list[Claim]:
    """Quote claims for unmarked quotations that overlap no span in `taken` (quotations found by marks)."""
    out = []
    for start, end, speaker, why in [*_signed(ctx), *_after_colon(ctx), *_labelled(ctx), *_inline_colon(ctx)]:
        if speaker and not any(start < e and s < end for s, e in taken):
            out.append(Claim("quote", speaker, ctx.text[start:end], start, end, ctx.text[start:end], 3.0, why=why))
            taken.append((start, end))
    return out


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [m.span() for m in _PARAGRAPH.finditer(text, start, end) if m.group().strip()]


def _signed(ctx: SpeakerContext) -> Iterator[tuple[int, int, str | None, str]]:
    text = ctx.text
    if "(@" not in text:
        return
    for m in _SIGNATURE.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if text[line_start:m.start()].strip():
            start, end = line_start, m.start()  # "text of the post — Name (@handle) date"
        else:
            paras = _paragraphs(text, 0, line_start)
            if not paras:
                continue
            start, end = paras[-1]
        body = text[start:end].strip()
        if not body or any(c in _MARKS for c in body) or len(body.split()) > MAX_WORDS:
            continue
        start = text.index(body, start)
        who = ctx.resolve(*m.span(1))
        yield start, start + len(body), who.name if who else None, f'a post signed "{m.group(1)}" ({who.describe() if who else ""})'


_LABEL = re.compile(r"[ \t]*([A-ZÀ-Ý][\w’'-]+(?:[ \t]+[A-ZÀ-Ý][\w’'-]+){0,2})[ \t]*:[ \t]+(?=[A-ZÀ-Ý])")


def _labelled(ctx: SpeakerContext) -> Iterator[tuple[int, int, str | None, str]]:
    text = ctx.text
    for ps, pe in _paragraphs(text, 0, len(text)):
        m = _LABEL.match(text, ps, pe)
        if m is None:
            continue
        body = text[m.end():pe].strip()
        if any(c in _MARKS for c in body) or not 4 <= len(body.split()) <= MAX_WORDS or not _FIRST_PERSON.search(body):
            continue
        found = before(ctx, ps, m.end(1))
        if found is None or not found.speaker:
            continue
        yield m.end(), m.end() + len(body), found.speaker, f"{found.why(text)}; its paragraph lost the quote marks"


def _after_colon(ctx: SpeakerContext) -> Iterator[tuple[int, int, str | None, str]]:
    text = ctx.text
    paras = _paragraphs(text, 0, len(text))
    for (ps, pe), (qs, qe) in zip(paras, paras[1:], strict=False):
        intro = text[ps:pe].rstrip()
        body = text[qs:qe].strip()
        if not intro.endswith(":") or any(c in _MARKS for c in body) or not 3 <= len(body.split()) <= MAX_WORDS:
            continue
        if body[0] in "-–—•*" or not (_FIRST_PERSON.search(body) or len(_ENGLISH.findall(body)) >= 2):
            continue  # a list, or the writer's own prose
        found = before(ctx, ps, ps + len(intro) - 1)
        if found is None or not found.speaker:
            continue
        start = text.index(body, qs)
        yield start, start + len(body), found.speaker, f"{found.why(text)}; its paragraph lost the quote marks"


# A first-person verb or pronoun: clitics and "sono" (also third-person plural) are not enough here.
_FIRST_PERSON_VERB = re.compile(r"\b(?:io|noi|ho|abbiamo|siamo|[a-zà-ÿ]{3,}iamo|[a-zà-ÿ]{3,}emo|[a-zà-ÿ]{3,}erò)\b", re.I)
_INLINE_COLON = re.compile(r":[ \t]+(?=[A-ZÀ-Ý][a-zà-ÿ’']*[ \t])")


def _inline_colon(ctx: SpeakerContext) -> Iterator[tuple[int, int, str | None, str]]:
    text = ctx.text
    if ":" not in text:
        return
    for ps, pe in _paragraphs(text, 0, len(text)):
        for m in _INLINE_COLON.finditer(text, ps, pe):
            body = text[m.end():pe].strip()
            if (any(c in _MARKS for c in body) or not 6 <= len(body.split()) <= MAX_WORDS
                    or not _FIRST_PERSON_VERB.search(body) or not body.endswith((".", "!", "…"))):
                continue
            clause = max(ps, text.rfind(". ", ps, m.start()) + 2)
            found = before(ctx, clause, m.start())
            if found is None or not found.speaker or found.pro_drop or "subject" not in found.rule:
                continue  # only a subject with its verb before the colon, not a headline label
            start = text.index(body, m.end())
            yield start, start + len(body), found.speaker, f"{found.why(text)}; the words after it lost the quote marks"
            break
