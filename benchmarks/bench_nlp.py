"""Time the NLP stage on a ~600-word Italian article, on one core (not a test).

    python benchmarks/bench_nlp.py [--runs 300] [--model NAME]

Target with the blank pipeline: <= 5 ms per article.
"""

from __future__ import annotations

import argparse
import statistics
import time

from monitor.config.entities import load_entities
from monitor.config.types import DEFAULT_ENTITIES
from monitor.nlp import Analyzer

# Written for the benchmark (fictional): the usual mix of names, elisions, quotes and reported speech.
PARAGRAPHS = [
    "Elon Musk è tornato all'attacco dell'OpenAI con un lungo post pubblicato nella notte su X. "
    "«La missione originaria è stata tradita», ha scritto il fondatore di xAI, che da mesi chiede ai "
    "giudici di riportare la società al modello senza scopo di lucro con cui era nata nel 2015.",
    "La replica non si è fatta attendere. Un portavoce di OpenAI ha dichiarato: «Le accuse sono "
    "infondate e lo dimostreremo in aula». Secondo Sam Altman, la nuova struttura serve soprattutto "
    "a raccogliere i capitali necessari per costruire data center in Europa e negli Stati Uniti.",
    "Altman ha parlato a margine di un incontro con gli studenti del Politecnico di Milano. «Non "
    "chiediamo meno regole», ha detto, «chiediamo regole che si possano applicare». Il manager ha "
    "anche detto che un ufficio italiano potrebbe aprire entro la fine del prossimo anno.",
    "Tra i protagonisti di quella stagione c'era anche Ilya Sutskever, allora scienziato capo "
    "dell’OpenAI. Sutskever ha lasciato l'azienda per fondare Safe Superintelligence e, stando a quanto "
    "riferito da alcuni ex colleghi, non ha più parlato con Musk da anni.",
    "Il dott. Marco Rossi, analista di una banca d'affari milanese, invita alla prudenza. «Le "
    "valutazioni sono altissime», spiega Rossi, «e basta un trimestre deludente per cambiare tutto». "
    "Kimbal Musk, fratello dell'imprenditore, non ha voluto commentare.",
]


def article(words: int = 600) -> str:
    paras: list[str] = []
    while sum(len(p.split()) for p in paras) < words:
        paras.append(PARAGRAPHS[len(paras) % len(PARAGRAPHS)])
    return "\n\n".join(paras)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--model", default="")
    args = parser.parse_args()
    analyzer = Analyzer(load_entities(DEFAULT_ENTITIES), model=args.model)
    text = article()
    title = "Musk contro OpenAI: «Missione tradita»"
    for _ in range(20):  # warm-up: first calls fill spaCy's caches
        analyzer.analyze(title, text)
    times, cpu = [], []
    for run in range(args.runs):
        fresh = f"{text}\n\nAggiornamento {run}."  # a new string each run: no cache hit flatters us
        t0, c0 = time.perf_counter(), time.thread_time()
        analyzer.analyze(title, fresh)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    result = analyzer.analyze(title, text)
    print(f"article: {len(text.split())} words, {len(result.mentions)} mentions, {len(result.claims)} claims")
    print(f"{statistics.median(times):.2f} ms/article (median of {args.runs}; "
          f"p90 {statistics.quantiles(times, n=10)[-1]:.2f} ms)")
    # CPU time of this thread: what the article costs on one core, without time lost to other
    # processes when the machine is busy (wall time above includes it).
    print(f"{statistics.median(cpu):.2f} ms CPU/article (median; p90 {statistics.quantiles(cpu, n=10)[-1]:.2f} ms)")


if __name__ == "__main__":
    main()
