"""Italian NLP stage: tracked-actor mentions and attributed claims (see analyzer.Analyzer)."""

from monitor.nlp.analyzer import Analyzer
from monitor.nlp.ranking import normalise_claim_text, rank_key_claims

__all__ = ["Analyzer", "normalise_claim_text", "rank_key_claims"]
