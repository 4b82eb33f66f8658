"""Italian NLP stage: tracked-actor mentions and attributed claims (see analyzer.Analyzer)."""

from monitor.nlp.analyzer import Analyzer

__all__ = ["Analyzer"]
