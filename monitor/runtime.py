"""What one running monitor shares between the stages: config, store, fetcher, analyzer, clock."""

from __future__ import annotations

import random
import ssl
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor.config import Config, FeedConfig
from monitor.digest import RenderContext
from monitor.fetch import Fetcher
from monitor.nlp import Analyzer
from monitor.prefilter import AliasPrefilter
from monitor.store import Store


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything one running monitor shares; `config` and `analyzer` change on reload."""

    config: Config
    store: Store
    fetcher: Fetcher
    analyzer: Analyzer
    clock: Callable[[], datetime] = utc_now
    rng: random.Random = field(default_factory=random.Random)
    tls_context: ssl.SSLContext | None = None
    demo: bool = False
    sending_paused: str | None = None
    nlp_pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "nlp"))
    parse_pool: Executor | None = None
    prefilter: AliasPrefilter = field(init=False)

    def __post_init__(self) -> None:
        self.prefilter = AliasPrefilter(self.config.entities)

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        self.store.close()
        self.nlp_pool.shutdown(wait=False)
        if self.parse_pool is not None:
            self.parse_pool.shutdown(wait=True, cancel_futures=True)

    def set_config(self, config: Config) -> None:
        """Swap in a reloaded config: actor patterns and the prefilter follow the entities."""
        self.analyzer.set_entities(config.entities)
        self.prefilter = AliasPrefilter(config.entities)
        self.config = config

    def feed_config(self, config_url: str) -> FeedConfig | None:
        return next((f for f in self.config.feeds if f.url == config_url), None)

    def render_context(self) -> RenderContext:
        domain = self.config.smtp.sender.rpartition("@")[2] or "localhost"
        return RenderContext(language=self.config.language, timezone=self.config.timezone,
                             templates_dir=self.config.templates_dir, sender=self.config.smtp.sender,
                             list_id=f"monitor.{domain}", demo=self.demo)
