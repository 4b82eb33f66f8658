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
DEFAULT_CONFIG = os.environ.get("MONITOR_CONFIG", "/etc/monitor/config.toml")


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

    p = sub.add_parser("run", help="run the daemon (polls feeds, sends digests and alerts)")
    _config_arg(p)
    p = sub.add_parser("once", help="poll every feed now, send a digest if one is due, and exit")
    _config_arg(p)
    p = sub.add_parser("check", help="validate the configuration and print a summary")
    _config_arg(p)
    p.add_argument("--smtp", action="store_true", help="also log in to the SMTP server")
    p.add_argument("--feeds", action="store_true", help="also fetch every feed once")
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
    p = sub.add_parser("send-test", help="mail a short test message to check the SMTP settings")
    _config_arg(p)
    p.add_argument("recipient", help="address to send the test message to")
    p = sub.add_parser("status", help="feeds' health, outbox and last digest")
    _config_arg(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    p = sub.add_parser("feeds", help="import or export the feed list as OPML")
    fsub = p.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    q = fsub.add_parser("import", help="print [[feeds]] TOML for the feeds in an OPML file")
    q.add_argument("opml", type=Path)
    _config_arg(q)
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
    return parser


class OneLineFormatter(logging.Formatter):
    """One event, one line: a multi-line SMTP reply must not lose its level under journald."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r\n", " | ").replace("\n", " | ").replace("\r", " | ")


def setup_logging(level: str) -> None:
    # journald adds its own timestamps; a terminal gets them from us.
    fmt = "%(levelname)s %(message)s" if os.environ.get("JOURNAL_STREAM") else \
        "%(asctime)s %(levelname)s %(message)s"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(fmt))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for noisy in ("apscheduler", "pyreqwest", "mail.log", "aiosmtplib", "spacy", "tzlocal"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


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
        return int(asyncio.run(result)) if asyncio.iscoroutine(result) else int(result)
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
