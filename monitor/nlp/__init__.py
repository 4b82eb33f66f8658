"""Italian NLP stage: tracked-actor mentions and attributed claims (see analyzer.Analyzer).

`Analyzer` is imported on first use: importing spaCy costs about 90 MB, and a daemon whose
parse workers do the analysis never needs it in the main process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from monitor.nlp.ranking import normalise_claim_text, rank_key_claims

if TYPE_CHECKING:
    from monitor.nlp.analyzer import Analyzer

__all__ = ["Analyzer", "normalise_claim_text", "rank_key_claims"]


def __getattr__(name: str) -> Any:
    if name == "Analyzer":
        from monitor.nlp.analyzer import Analyzer

        return Analyzer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
