"""A SQLite state as a daemon leaves it, built with the store's own functions (for the tests of
`monitor store migrate`): polled feeds with validators, analysed articles with mentions and
claims, a sent digest with its marks, a pending alert, a taken digest slot, a pruned article."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.config.types import FeedConfig
from monitor.models import Analysis, Claim, Entry, Mention, OutgoingMessage
from monitor.service.entries import upsert_entries
from monitor.store import articles, feeds, outbox
from monitor.store.db import Store, ts

NOW = datetime(2026, 12, 3, 8, 30, tzinfo=UTC)
SINCE = NOW - timedelta(days=1)
ETAG = 'W/"notizie-42"'
LAST_MODIFIED = "Thu, 03 Dec 2026 07:55:00 GMT"
DIGEST_RAW = b"From: monitor@esempio.it\r\nSubject: Rassegna\r\n\r\nCiao\xc3\xa0\r\n\x00\xff"
ALERT_RAW = b"Subject: Allerta\r\n\r\nNuova citazione\r\n"

TEXT_A = "Secondo Giulia Neri, la nuova legge sul cloud arrivera entro marzo."
TEXT_B = "«Apriremo un centro dati a Bari», ha annunciato ieri l'amministratrice delegata."
TEXT_C = "Il ministero conferma: nessun rinvio per la gara sulle reti in fibra."


def entry(key: str, title: str, text: str, url: str | None = None) -> Entry:
    return Entry(key=key, title=title, text=text, url=url, published=NOW - timedelta(hours=2),
                 content_hash=hashlib.sha256(text.encode()).hexdigest()[:16])


def build_state(path: Path, extra_articles: int = 0) -> dict[str, int]:
    """A state as a daemon leaves it: polled feeds with validators, analysed articles with
    mentions and claims, a sent digest with its marks, a pending alert, a pruned article."""
    store = Store(path)
    feeds.sync_feeds(store, [FeedConfig("https://notizie.example/rss", "Notizie Tech"),
                             FeedConfig("https://rete.example/feed", "Rete Italia")])
    fids = {f.name: f.id for f in feeds.active_feeds(store)}
    feeds.record_success(store, fids["Notizie Tech"], now=NOW, next_check=NOW + timedelta(minutes=20),
                         etag=ETAG, last_modified=LAST_MODIFIED, new_url=None, ttl_minutes=30)
    a, b = upsert_entries(store, fids["Notizie Tech"],
                          [entry("guid:legge-cloud", "Legge sul cloud, le date", TEXT_A, "https://notizie.example/cloud"),
                           entry("guid:bari", "Un centro dati a Bari", TEXT_B, "https://notizie.example/bari")],
                          now=NOW, first_poll=False, backfill_hours=24)
    (c,) = upsert_entries(store, fids["Rete Italia"], [entry("guid:fibra", "Fibra, nessun rinvio", TEXT_C)],
                          now=NOW, first_poll=False, backfill_hours=24)
    upsert_entries(store, fids["Rete Italia"], [entry("url:https://notizie.example/bari", "Un centro dati a Bari",
                                                      TEXT_B, "https://notizie.example/bari")],
                   now=NOW, first_poll=False, backfill_hours=24)
    claim = Claim("reported", "giulia_neri", "la nuova legge sul cloud arrivera entro marzo", 19, 67, TEXT_A, 0.8,
                  subject="governo")
    quote = Claim("quote", "Anna Verdi", "Apriremo un centro dati a Bari", 1, 31, TEXT_B, 0.9, unconfirmed=True)
    articles.save_analysis(store, a, Analysis(("giulia_neri",), (Mention("giulia_neri", "Giulia Neri", 9, 20),),
                                              (claim,), {"giulia_neri": 2.0}, (claim,)))
    articles.save_analysis(store, b, Analysis(("anna_verdi",), (Mention("anna_verdi", "amministratrice", 58, 73),),
                                              (quote,), {"anna_verdi": 3.0}, (quote,)))
    articles.save_analysis(store, c, Analysis(("ministero",), (Mention("ministero", "ministero", 3, 12),), (),
                                              {"ministero": 1.5}))
    sent = outbox.enqueue(store, OutgoingMessage("<rassegna-1@esempio.it>", "monitor@esempio.it",
                                                 ("redazione@esempio.it",), DIGEST_RAW, "Rassegna"),
                          kind="digest", digest="mattina", article_ids=[a, b], now=NOW)
    outbox.mark_sent(store, sent, NOW, {})
    with store.transaction() as db:
        outbox.owe_alerts(db, [(c, "ministero")], NOW)
    assert outbox.queue_alert(store, OutgoingMessage("<allerta-1@esempio.it>", "monitor@esempio.it",
                                                     ("capo@esempio.it",), ALERT_RAW, "Allerta"),
                              c, "ministero", now=NOW, not_before=None)
    store.write("INSERT INTO digest_slots (digest, slot_at, taken_by, taken_at, outbox_id) VALUES (?, ?, ?, ?, ?)",
                ("mattina", ts(NOW), "host:1", ts(NOW), sent))
    old = upsert_entries(store, fids["Rete Italia"], [entry("guid:vecchio", "Vecchia notizia", "Testo di ieri.")],
                         now=NOW - timedelta(days=40), first_poll=False, backfill_hours=24 * 60)
    assert old and articles.prune(store, now=NOW, older_than=NOW - timedelta(days=30)) == 1
    for start in range(0, extra_articles, 500):
        upsert_entries(store, fids["Rete Italia"],
                       [entry(f"guid:extra-{i}", f"Notizia numero {i}", f"Il testo della notizia {i} parla di reti.")
                        for i in range(start, min(extra_articles, start + 500))],
                       now=NOW, first_poll=False, backfill_hours=24)
    store.close()
    return {"a": a, "b": b, "c": c, "digest": sent, **fids}
