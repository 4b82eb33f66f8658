"""Loose date parsing for feed dates feedparser misses, Italian forms included."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

_MONTHS = {
    "gennaio": 1, "febbraio": 2, "marzo": 3, "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7,
    "agosto": 8, "settembre": 9, "ottobre": 10, "novembre": 11, "dicembre": 12,
    "gen": 1, "feb": 2, "mar": 3, "apr": 4, "mag": 5, "giu": 6, "lug": 7, "ago": 8, "set": 9,
    "sett": 9, "ott": 10, "nov": 11, "dic": 12,
    # English too: the same loose parser rescues English dates in odd layouts.
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "dec": 12,
}
_ZONES = {
    "z": 0, "ut": 0, "utc": 0, "gmt": 0, "wet": 0, "west": 60, "cet": 60, "cest": 120,
    "met": 60, "mest": 120, "eet": 120, "eest": 180, "bst": 60,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360,
    "pst": -480, "pdt": -420,
}
_ROME = ZoneInfo("Europe/Rome")
# Month and weekday words that only Italian uses (not "mar", "nov": English has them too).
# Lower case, matched against lower-cased text: without IGNORECASE the engine skips ahead to
# the possible first letters, a third of the time (every feed entry's date passes here).
_ITALIAN_WORD = re.compile(
    r"(?<![^\W\d_])(gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|"
    r"novembre|dicembre|gen|mag|giu|lug|ago|sett?|ott|dic|lun|mer|gio|ven|sab|dom|"
    r"luned[iì]|marted[iì]|mercoled[iì]|gioved[iì]|venerd[iì]|sabato|domenica)(?![^\W\d_])")
_DAY_MONTH_YEAR = re.compile(r"(?<!\d)(\d{1,2})\s*[ .\-/]?\s*([^\W\d_]{3,9})\.?,?\s*[ .\-/]?\s*(\d{4})(?!\d)")
_TIME = re.compile(r"(?<!\d)(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?!\d)")
_OFFSET = re.compile(r"(?:^|\s)([+-])(\d{2}):?(\d{2})(?!\d)|(?:^|\s|\d)([A-Za-z]{1,4})\s*$")


def has_italian_word(value: str) -> bool:
    """Does the date carry an Italian month or weekday name ("16 novembre", "mer, 16 nov")?"""
    return _ITALIAN_WORD.search(value.lower()) is not None


def parse_loose_date(value: str) -> datetime | None:
    """Dates feedparser gives up on: Italian month names, odd punctuation, garbage around them.

    "mer, 16 nov 2022 00:38:15 +0100", "16 novembre 2022 10:05", "Sun 17 ago 2008, 17  2008
    10.05.00 EDT". Without a zone we assume Italian local time (these are Italian feeds).
    Returns an aware UTC datetime, or None when no day-month-year can be found.
    """
    text = " ".join(value.split())
    match = _DAY_MONTH_YEAR.search(text)
    if not match:
        return None
    month = _MONTHS.get(match.group(2).lower())
    if month is None:
        return None
    day, year = int(match.group(1)), int(match.group(3))
    rest = text[match.end():]
    hour = minute = second = 0
    time_match = _TIME.search(rest)
    if time_match:
        hour, minute = int(time_match.group(1)), int(time_match.group(2))
        second = int(time_match.group(3) or 0)
        rest = rest[time_match.end():]
    try:
        naive = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    zone = _zone(rest)
    aware = naive.replace(tzinfo=zone) if zone is not None else naive.replace(tzinfo=_ROME)
    return aware.astimezone(UTC)


def _zone(rest: str) -> timezone | None:
    match = _OFFSET.search(rest.strip())
    if not match:
        return None
    if match.group(1):
        minutes = int(match.group(2)) * 60 + int(match.group(3))
        if minutes >= 24 * 60:
            return None
        return timezone(timedelta(minutes=-minutes if match.group(1) == "-" else minutes))
    offset = _ZONES.get(match.group(4).lower())
    return timezone(timedelta(minutes=offset)) if offset is not None else None
