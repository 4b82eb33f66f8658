"""Command line: parses arguments, sets up logging, maps errors to exit codes (78 = config)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from monitor import __version__
from monitor.cli.logs import setup_logging
from monitor.errors import (
    EX_CONFIG,
    ConfigError,
    MonitorError,
    StateError,
    StopRequested,
    raise_stop,
    stop_exit_code,
)

EX_CANTCREAT = 73
EX_SIGPIPE = 141  # what a shell reports for a command SIGPIPE ended
DEFAULT_CONFIG = os.environ.get("MONITOR_CONFIG", "/etc/monitor/config.toml")


# `run` and `once` follow the same rule (pipeline.digest_due); said once, shown by both --help.
FIRST_DIGEST = ("When the first digest goes: a digest that has never been sent is due at once, so the "
                "first `run` or `once` on a new state directory sends it right after its first poll, with "
                "the stories of the last polling.backfill_hours; after that each digest goes at its schedule, and a slot missed "
                "while nothing ran is sent by the next `run` or `once` start.")


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", type=Path, default=Path(DEFAULT_CONFIG),
                   help="main TOML config (default: $MONITOR_CONFIG or /etc/monitor/config.toml)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monitor", description=(
        "Watch Italian tech news feeds for tracked people and companies, extract who said what, "
        "and mail digests."))
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    parser.add_argument("--log-level", default=os.environ.get("MONITOR_LOG_LEVEL"),
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="logging level (default INFO; WARNING for demo, analyze and status)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the daemon (polls feeds, sends digests and alerts)",
                       description=f"Run the daemon. {FIRST_DIGEST}")
    _config_arg(p)
    p = sub.add_parser("once", help="poll every feed now, send a digest if one is due, and exit",
                       description=f"Poll every feed now, send each digest that is due, and exit. {FIRST_DIGEST}")
    _config_arg(p)
    p = sub.add_parser("init", help="write a config.toml and an entities.toml to edit into a folder")
    p.add_argument("folder", type=Path, help="where to write them (created if missing; existing files are never overwritten)")
    p = sub.add_parser("check", help="validate the configuration and print a summary")
    _config_arg(p)
    p.add_argument("--smtp", action="store_true", help="also log in to the SMTP server")
    p.add_argument("--feeds", action="store_true", help="also fetch every feed once")
    p.add_argument("--channels", action="store_true", help="also check each channel's URL (nothing is posted)")
    p.add_argument("--store", action="store_true",
                   help="also reach the state store (PostgreSQL: log in) and read its schema version; nothing is written")
    p = sub.add_parser("analyze", help="print tracked actors, mentions and claims found in files")
    p.add_argument("--config", "-c", type=Path, default=None,
                   help="main config whose entities to use (default: the built-in example entities)")
    p.add_argument("--format", choices=["json", "text"], default="text", help="output format")
    p.add_argument("files", nargs="+", type=Path, help=".txt (body) or .json ({'text', 'title'}) files")
    p = sub.add_parser("demo", help="offline end-to-end demo on bundled fictional feeds")
    p.add_argument("--output", "-o", type=Path, default=Path("monitor-demo"),
                   help="folder for the received .eml and the HTML preview (default ./monitor-demo)")
    p = sub.add_parser("digest", help="preview or send a digest now")
    _config_arg(p)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--preview", type=Path, metavar="FILE.html",
                       help="write what would be sent now, without sending or consuming anything")
    group.add_argument("--send-now", action="store_true", help="render, queue and send every digest now")
    p.add_argument("--name", help="only this digest (default: all)")
    p = sub.add_parser("send-test", help="mail a short test message (or post one to a channel)")
    _config_arg(p)
    p.add_argument("recipient", nargs="?", help="address to send the test message to")
    p.add_argument("--channel", metavar="NAME", help="post the test message to this channel instead")
    p = sub.add_parser("backfill", help="analyse stored backlog so its stories join the next digest",
                       description=(
                           "On a feed's first poll, entries published before polling.backfill_hours are "
                           "stored as backlog, not analysed (`monitor status` counts them). This analyses "
                           "the backlog published in the last N hours; its stories join the next digest, "
                           "marked as earlier coverage. No alerts are sent for them."))
    _config_arg(p)
    p.add_argument("--hours", type=float, required=True, metavar="N",
                   help="backlog published in the last N hours (undated entries: first seen then)")
    p.add_argument("--feed", action="append", metavar="URL",
                   help="only this feed's backlog (its URL as in the config; repeatable; default all)")
    p = sub.add_parser("status", help="feeds' health, outbox and last digest")
    _config_arg(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    p = sub.add_parser("feeds", help="import or export the feed list as OPML")
    fsub = p.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    q = fsub.add_parser("import", help="add the feeds of an OPML file to the config file",
                        description=("Append a [[feeds]] table to the config file for each feed of the OPML "
                                     "file that it does not have yet, keeping the file's comments and layout; "
                                     "feeds already present are listed, not added twice."))
    q.add_argument("opml", type=Path)
    _config_arg(q)
    q.add_argument("--dry-run", action="store_true", help="print what would be added; write nothing")
    q = fsub.add_parser("export", help="print the configured feeds as OPML")
    _config_arg(q)
    p = sub.add_parser("entities", help="list tracked entities or test them on a snippet")
    esub = p.add_subparsers(dest="entities_command", required=True, metavar="ACTION")
    q = esub.add_parser("list", help="list tracked entities and their aliases")
    _config_arg(q)
    q = esub.add_parser("test", help="show what matches in a snippet, and why")
    _config_arg(q)
    q.add_argument("text", help="Italian text to analyse")
    p = sub.add_parser("web", help="the read-only web console (search, actors, stories, feeds, digests)")
    _config_arg(p)
    p.add_argument("--listen", metavar="HOST:PORT",
                   help="address to listen on (default: web.listen, 127.0.0.1:8080); not loopback needs web.token_file")
    p = sub.add_parser("store", help="copy the state into another store (e.g. SQLite to PostgreSQL)")
    ssub = p.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    q = ssub.add_parser("migrate", help="copy a SQLite state into an empty PostgreSQL (or SQLite) store",
                        description=(
                            "Copy an existing SQLite state (feeds with their validators, articles, mentions, "
                            "claims, the outbox, digest marks, alerts) into an empty store, keeping every id, "
                            "in one transaction; verify the row counts and checksums before committing; the "
                            "source is opened read-only and left untouched. Stop the daemon first: what it "
                            "writes after the copy starts is not copied. Then point store.url at the target."))
    q.add_argument("--from", dest="source", required=True, metavar="SRC",
                   help="the SQLite state: sqlite:PATH or a path (e.g. /var/lib/monitor/monitor.sqlite3)")
    q.add_argument("--to", dest="target", required=True, metavar="DST",
                   help="postgresql://USER@HOST[:PORT]/DB (password apart), or sqlite:PATH")
    q.add_argument("--password-env", default="MONITOR_STORE_PASSWORD", metavar="VAR",
                   help="environment variable holding the target's password (default MONITOR_STORE_PASSWORD)")
    q.add_argument("--password-file", default="", metavar="FILE", help="file holding the target's password")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet = args.command in ("demo", "analyze", "status", "entities", "feeds")
    setup_logging(args.log_level or ("WARNING" if quiet else "INFO"))
    if args.command == "run":
        # From here a stop is clean at any moment (see service.daemon.run_daemon).
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, raise_stop)
    try:
        from monitor.cli import commands

        handler = getattr(commands, f"cmd_{args.command.replace('-', '_')}")
        result = handler(args)
        status = int(asyncio.run(result)) if asyncio.iscoroutine(result) else int(result)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at interpreter exit
        return status
    except BrokenPipeError:
        # `monitor status | head`: the reader has what it wanted. Quiet, like a tool SIGPIPE
        # ends; stdout now points at /dev/null so the exit-time flush cannot complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EX_SIGPIPE
    except ConfigError as exc:
        print(f"monitor: configuration error: {exc}", file=sys.stderr)
        return EX_CONFIG
    except StateError as exc:
        print(f"monitor: state error: {exc}", file=sys.stderr)
        return EX_CANTCREAT
    except MonitorError as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except StopRequested as stop:
        logging.getLogger("monitor").info("stopped during start-up (%s)", signal.Signals(stop.signum).name)
        return stop_exit_code(stop.signum)
