"""Urgent alerts only for a main subject of the story (alerts.min_salience), never for a passing
mention (issue 17). Real feed over loopback, real NLP, real store and outbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.world import RECENT, Clock, feed, running

from monitor.config.load import load_config
from monitor.errors import ConfigError
from monitor.service import pipeline

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
# Musk is the story: in the title, speaking.
MAIN = ("main", "Musk lancia il nuovo razzo", "«Partiamo a marzo», ha detto Elon Musk ai giornalisti.", RECENT)
# Musk is named twice deep in a story about OpenAI: relevant for the digest (salience 1.0), not an alert.
PASSING = ("passing", "OpenAI presenta il nuovo modello",
           "OpenAI ha presentato ieri a San Francisco il suo nuovo modello linguistico, con prestazioni "
           "migliori sui compiti di ragionamento e un costo più basso per gli sviluppatori che lo usano. "
           "Il lancio arriva dopo mesi di attesa e di indiscrezioni sulla data. Tra i concorrenti "
           "citati ci sono le aziende di Elon Musk, che non ha commentato. Nessuna replica da Elon Musk.",
           RECENT)


def alerted(rt: pipeline.Runtime) -> set[str]:
    rows = rt.store.db.execute("SELECT a.url FROM alerts l JOIN articles a ON a.id = l.article_id")
    return {r["url"].rsplit("/", 1)[-1] for r in rows}


async def test_alert_for_the_main_subject_not_for_a_passing_mention(world: tuple[Path, dict, object]) -> None:
    from support.ingest_server import Route

    config_path, routes, _ = world
    routes["/feed.xml"] = Route(body=feed(MAIN, PASSING))
    async with running(config_path, Clock(NOW)) as rt:
        await pipeline.poll_feeds(rt, force=True)
        salience = {r["url"].rsplit("/", 1)[-1]: json.loads(r["salience"]) for r in
                    rt.store.db.execute("SELECT url, salience FROM articles")}
        # Preconditions: both stories are relevant to Musk (they reach the digest), only one is his.
        threshold = rt.config.nlp.relevance_threshold
        assert salience["passing"]["elon_musk"] >= threshold and salience["main"]["elon_musk"] >= threshold
        assert alerted(rt) == {"main"}, salience


async def test_min_salience_is_configurable(world: tuple[Path, dict, object]) -> None:
    from support.ingest_server import Route

    config_path, routes, _ = world
    config_path.write_text(config_path.read_text() + "\n[alerts]\nmin_salience = 0\nmax_per_hour = 100\n")
    routes["/feed.xml"] = Route(body=feed(MAIN, PASSING))
    async with running(config_path, Clock(NOW)) as rt:
        await pipeline.poll_feeds(rt, force=True)
        assert alerted(rt) == {"main", "passing"}  # 0: every relevant story alerts, as before


@pytest.mark.parametrize("value", ["-1", '"alta"', "nan"])
def test_min_salience_is_validated(world: tuple[Path, dict, object], value: str) -> None:
    config_path = world[0]
    config_path.write_text(config_path.read_text() + f"\n[alerts]\nmin_salience = {value}\n")
    with pytest.raises(ConfigError) as error:
        load_config(config_path)
    assert "alerts.min_salience" in str(error.value)
