"""`monitor store migrate`: copy a SQLite state into PostgreSQL (or another SQLite file)."""

from __future__ import annotations

import sys

from monitor.config.types import StoreConfig
from monitor.models import plural
from monitor.store.copy import CopyReport, copy_store

PROGRESS_EVERY = 10_000  # rows between progress lines of a big table


def migrate(source: str, target: str, *, password_env: str, password_file: str) -> int:
    password = StoreConfig(url=target, password_env=password_env, password_file=password_file).password()
    shown: dict[str, int] = {}

    def progress(table: str, done: int, total: int) -> None:
        # On stderr, so stdout is the report alone.
        if total >= PROGRESS_EVERY and (done == total or done - shown.get(table, 0) >= PROGRESS_EVERY):
            shown[table] = done
            print(f"  {table}: {done:,}/{total:,} rows", file=sys.stderr, flush=True)

    report = copy_store(source, target, password=password, progress=progress)
    print(format_report(report))
    return 0


def format_report(report: CopyReport) -> str:
    lines = [f"source: {report.source}" + (f" (schema v{report.upgraded_from}, upgraded in a temporary "
                                             "copy; the file itself is untouched)" if report.upgraded_from else ""),
             f"target: {report.target}", "", f"{'table':<16}{'source':>10}{'target':>10}"]
    lines += [f"{t.table:<16}{t.source:>10,}{t.target:>10,}" for t in report.tables]
    lines += ["", f"verified: {plural(len(report.tables), 'table', 'tables')} with equal row counts, "
                  f"checksums equal for {', '.join(report.checksums)}; "
                  f"{plural(report.rows, 'row', 'rows')} copied in {report.seconds:.1f} s",
              "next: set store.url to the target in the config (its password in store.password_env or "
              "store.password_file) and start the daemon"]
    return "\n".join(lines)
