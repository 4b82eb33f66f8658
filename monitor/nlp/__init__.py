"""Italian NLP stage: tracked-actor mentions and attributed claims (see analyzer.Analyzer).

`Analyzer` is imported on first use: importing spaCy costs about 90 MB, and a daemon whose
parse workers do the analysis never needs it in the main process.
"""

from __future__ import annotations

import sys
from types import ModuleType
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


def _real_info(*args: Any, **kwargs: Any) -> Any:
    from spacy.cli.info import info  # the real one: the stubs are gone once spaCy is loaded

    return info(*args, **kwargs)


def _stub_spacy_cli() -> None:
    """Keep spaCy's command line out of the processes that analyse.

    `import spacy` loads its whole CLI (typer, weasel, requests, rich: about 25 MB in every
    analysing process) only to export `spacy.info`. Until spaCy is first imported, two stand-in
    modules answer for `spacy.cli` and `spacy.cli.info`; `forget_spacy_cli_stubs` removes them
    right after, so a later `import spacy.cli` loads the real one.
    """
    if "spacy" in sys.modules or "spacy.cli" in sys.modules:
        return
    cli, info = ModuleType("spacy.cli"), ModuleType("spacy.cli.info")
    cli.__path__ = []
    info.info = _real_info  # type: ignore[attr-defined]
    cli.info = info  # type: ignore[attr-defined]
    sys.modules.update({"spacy.cli": cli, "spacy.cli.info": info})
    _STUBS.extend([cli, info])


def forget_spacy_cli_stubs() -> None:
    for stub in _STUBS:
        if sys.modules.get(stub.__name__) is stub:
            del sys.modules[stub.__name__]
    spacy = sys.modules.get("spacy")
    if spacy is not None and _STUBS and getattr(spacy, "cli", None) is _STUBS[0]:
        del spacy.cli
    _STUBS.clear()


_STUBS: list[ModuleType] = []
_stub_spacy_cli()
