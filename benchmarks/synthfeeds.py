"""Synthetic Italian tech-news RSS feeds for the benchmarks (deterministic for a given seed).

Each feed is RSS 2.0 with `items` entries whose HTML descriptions add up to about `item_kb`
KB per feed. A share of the items (default 15 %) names a tracked actor (Elon Musk, Sam Altman,
OpenAI, Ilya Sutskever, xAI), with Italian direct quotes («…», ha detto Musk), reported speech
and actor-centred events; the rest is ordinary tech news that mentions nobody we track.
A share of the feeds (`uncommon_share`, default none) also carries a podcast owner block, an
element monitor's lxml reader leaves to feedparser: it measures the path odd feeds take.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

ACTORS = [
    # (full name, surname or short form used after the first mention)
    ("Elon Musk", "Musk"),
    ("Sam Altman", "Altman"),
    ("OpenAI", "OpenAI"),
    ("Ilya Sutskever", "Sutskever"),
    ("xAI", "xAI"),
]
QUOTES = [
    "Stiamo costruendo il futuro dell'intelligenza artificiale",
    "Nei prossimi due anni i modelli saranno dieci volte più capaci",
    "Non ci interessa la quota di mercato, ci interessa la sicurezza",
    "L'Europa rischia di restare indietro se non investe subito",
    "Abbiamo sottovalutato quanto fosse difficile il problema",
    "La regolazione serve, ma deve essere scritta da chi capisce la tecnologia",
    "Il nostro prossimo modello sarà aperto ai ricercatori italiani",
    "Entro la fine dell'anno apriremo un centro di ricerca a Milano",
]
SAY_VERBS = ["ha detto", "ha dichiarato", "ha spiegato", "ha aggiunto", "ha affermato", "ha sottolineato"]
EVENTS = [
    "{a} ha annunciato un nuovo accordo con un gruppo di università europee.",
    "{a} ha presentato un modello linguistico addestrato anche su testi in italiano.",
    "{a} ha investito 500 milioni di dollari in un nuovo data center.",
    "{a} ha assunto venti ingegneri dal centro di ricerca di Torino.",
    "{a} ha lanciato un programma per le startup italiane dell'intelligenza artificiale.",
]
REPORTED = [
    "Secondo {a}, l'intelligenza artificiale generale arriverà prima del previsto.",
    "{a} ha detto che la sicurezza dei modelli resta la priorità dell'azienda.",
    "{a} ritiene che le regole europee rallentino l'innovazione.",
]
SUBJECTS = [
    "Il nuovo smartphone", "La fibra ottica", "Il governo", "Il Politecnico di Milano", "La startup torinese",
    "Il mercato dei semiconduttori", "L'Agenzia per la cybersicurezza nazionale", "Il cloud pubblico",
    "La rete 5G", "Il laboratorio di robotica", "L'operatore telefonico", "Il ministero delle Imprese",
]
PREDICATES = [
    "ha registrato una crescita del {n} per cento nell'ultimo trimestre",
    "ha annunciato investimenti per {n} milioni di euro nel Mezzogiorno",
    "arriverà nei negozi italiani a partire dal mese prossimo",
    "ha superato i test di sicurezza previsti dalla normativa europea",
    "sarà presentato alla fiera di Bologna insieme ad altri {n} prodotti",
    "ha ridotto i consumi energetici di quasi un terzo",
    "punta a raggiungere {n} mila clienti entro la fine dell'anno",
    "ha avviato una collaborazione con tre atenei del Nord",
]
TAILS = [
    "Gli analisti restano prudenti sulle prospettive del settore.",
    "La notizia è stata accolta con favore dalle associazioni dei consumatori.",
    "Non sono ancora noti i dettagli economici dell'operazione.",
    "I sindacati chiedono garanzie sull'occupazione nelle sedi italiane.",
    "Il prezzo di listino non è ancora stato comunicato.",
    "Secondo gli esperti, l'impatto sulle bollette sarà limitato.",
]
TITLE_TOPICS = ["smartphone", "cloud", "cybersicurezza", "5G", "startup", "chip", "robotica", "fibra"]


def _plain_sentence(rng: random.Random) -> str:
    sentence = f"{rng.choice(SUBJECTS)} {rng.choice(PREDICATES).format(n=rng.randint(2, 90))}."
    return sentence if rng.random() < 0.7 else f"{sentence} {rng.choice(TAILS)}"


def _actor_paragraphs(rng: random.Random) -> tuple[str, list[str]]:
    full, short = rng.choice(ACTORS)
    title = rng.choice([f"{full}: «{rng.choice(QUOTES)}»", f"Intelligenza artificiale, la mossa di {full}",
                        f"{full} e l'Italia: cosa cambia"])
    paragraphs = [
        escape(rng.choice(EVENTS).format(a=full)),
        f"«{escape(rng.choice(QUOTES))}», {rng.choice(SAY_VERBS)} {escape(short)} durante un incontro "
        f"con la stampa a {rng.choice(['Milano', 'Roma', 'Torino', 'Napoli'])}.",
        escape(rng.choice(REPORTED).format(a=short)),
    ]
    return title, paragraphs


def make_item(rng: random.Random, feed: int, number: int, base_url: str, when: datetime,
              body_bytes: int, actor_share: float) -> tuple[str, bool]:
    """One <item>; returns it and whether it names a tracked actor."""
    with_actor = rng.random() < actor_share
    if with_actor:
        title, paragraphs = _actor_paragraphs(rng)
    else:
        title = f"{rng.choice(TITLE_TOPICS).capitalize()}: {_plain_sentence(rng)[:-1].lower()}"
        paragraphs = []
    # Pad with ordinary sentences (some with markup and entities) to the target size.
    size = sum(len(p) for p in paragraphs)
    while size < body_bytes:
        sentence = escape(_plain_sentence(rng))
        if rng.random() < 0.2:
            sentence = f"<strong>{sentence}</strong> Leggi anche <a href=\"{base_url}/a/{rng.randint(1, 9999)}\">" \
                       f"l&#8217;approfondimento</a>."
        paragraphs.insert(rng.randint(1, len(paragraphs)) if paragraphs else 0, sentence)
        size += len(sentence) + 7
    html = "".join(f"<p>{p}</p>" for p in paragraphs)
    link = f"{base_url}/{feed}/articolo-{number}"
    item = (f"<item><title>{escape(title)}</title><link>{link}</link>"
            f"<guid isPermaLink=\"false\">bench-{feed}-{number}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate><dc:creator>Redazione</dc:creator>"
            f"<category>Tecnologia</category><description>{escape(html)}</description></item>\n")
    return item, with_actor


def is_uncommon(feed: int, uncommon_share: float, seed: int = 1) -> bool:
    """Whether feed number `feed` carries the element that sends it to feedparser."""
    return random.Random(seed * 7_919 + feed).random() < uncommon_share


def make_feed(feed: int, items: int, item_kb: float, base_url: str, now: datetime,
              actor_share: float = 0.15, seed: int = 1, uncommon_share: float = 0.0) -> tuple[bytes, int]:
    """Feed number `feed` as bytes, and how many of its items name a tracked actor."""
    rng = random.Random(seed * 1_000_003 + feed)
    owner = ('<itunes:owner xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
             "<itunes:name>Redazione</itunes:name></itunes:owner>"
             if is_uncommon(feed, uncommon_share, seed) else "")
    target = int(item_kb * 1024)
    # The per-item envelope (title, link, guid, date, escaping of the HTML) is roughly a third
    # of the item's bytes; the description's raw HTML gets the rest.
    body_bytes = max(200, int(target / max(items, 1) * 0.78) - 250)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>\n'
        f"<title>Notizie tech {feed}</title><link>{base_url}/</link>"
        f"<description>Feed sintetico numero {feed} per i benchmark</description>"
        f"<language>it-it</language><ttl>15</ttl>{owner}\n"
    ]
    actors = 0
    for number in range(items):
        when = now - timedelta(minutes=17 * number + feed % 60)
        item, with_actor = make_item(rng, feed, number, base_url, when, body_bytes, actor_share)
        actors += with_actor
        parts.append(item)
    parts.append("</channel></rss>\n")
    return "".join(parts).encode("utf-8"), actors


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:20] + '"'


def fixed_now() -> datetime:
    """Whole minutes, so every process that builds the same feed builds the same bytes."""
    return datetime.now(UTC).replace(second=0, microsecond=0)
