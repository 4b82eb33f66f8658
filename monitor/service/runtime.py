"""What one running monitor shares between the stages: config, store, fetcher, analyzer, clock."""

from __future__ import annotations

import random
import ssl
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from monitor.config.types import Config, FeedConfig
from monitor.digest.build import RenderContext
from monitor.ingest.fetch import Fetcher
from monitor.nlp.prefilter import AliasPrefilter
from monitor.service.offload import Offload
from monitor.store.db import Store
from monitor.store.owners import task_owner

if TYPE_CHECKING:
    from monitor.nlp import Analyzer


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything one running monitor shares; `config` and `analyzer` change on reload."""

    config: Config
    store: Store
    fetcher: Fetcher
    # Built on first use (local_analyzer): with parse workers the main process never needs it.
    analyzer: Analyzer | None = None
    clock: Callable[[], datetime] = utc_now
    rng: random.Random = field(default_factory=random.Random)
    tls_context: ssl.SSLContext | None = None
    demo: bool = False
    sending_paused: str | None = None
    nlp_pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "nlp"))
    parse_pool: Executor | None = None
    # Alerts the hourly cap held back since the last poll summary, per entity (logged once a poll).
    capped_alerts: Counter[str] = field(default_factory=Counter)
    # Who holds this runtime's feed leases (host:pid:process:runtime), shown by `monitor status`.
    lease_owner: str = field(default_factory=task_owner)
    prefilter: AliasPrefilter = field(init=False)
    offload: Offload = field(init=False)
    _feed_index: tuple[Config, dict[str, FeedConfig]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.prefilter = AliasPrefilter(self.config.entities)
        self.offload = Offload(self.parse_pool, self.config.polling.parse_workers)

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        self.store.close()
        self.nlp_pool.shutdown(wait=False)
        self.offload.shutdown()

    def set_config(self, config: Config) -> None:
        """Swap in a reloaded config: actor patterns and the prefilter follow the entities."""
        if self.analyzer is not None:
            self.analyzer.set_entities(config.entities)
        self.prefilter = AliasPrefilter(config.entities)
        self.config = config

    def local_analyzer(self) -> Analyzer:
        """The in-process NLP pipeline, loaded (with spaCy) the first time it is asked for."""
        if self.analyzer is None:
            from monitor.nlp import Analyzer

            nlp = self.config.nlp
            self.analyzer = Analyzer(self.config.entities, model=nlp.model, key_claims=nlp.key_claims)
        return self.analyzer

    def feed_config(self, config_url: str) -> FeedConfig | None:
        # Indexed once per config: a poll cycle looks up every feed, and a linear scan each
        # time is quadratic in the number of feeds.
        if self._feed_index is None or self._feed_index[0] is not self.config:
            self._feed_index = (self.config, {f.url: f for f in self.config.feeds})
        return self._feed_index[1].get(config_url)

    def render_context(self) -> RenderContext:
        domain = self.config.smtp.sender.rpartition("@")[2] or "localhost"
        return RenderContext(language=self.config.language, timezone=self.config.timezone,
                             templates_dir=self.config.templates_dir, sender=self.config.smtp.sender,
                             list_id=f"monitor.{domain}", demo=self.demo)
