"""What each CLI command does; cli.py parses arguments and maps errors to exit codes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from monitor.config.entities import load_entities
from monitor.config.load import load_config
from monitor.config.types import DEFAULT_ENTITIES, Config
from monitor.errors import ConfigError, MonitorError


async def cmd_run(args: argparse.Namespace) -> int:
    from monitor.service.daemon import run_daemon

    return await run_daemon(args.config)  # loads the config and state; a stop at any moment is clean


async def cmd_once(args: argparse.Namespace) -> int:
    from monitor.service import pipeline
    from monitor.service.daemon import open_runtime, recover

    rt = open_runtime(load_config(args.config))
    try:
        await recover(rt)
        outcomes = await pipeline.poll_feeds(rt, force=True)
        for digest in rt.config.digests:
            if pipeline.digest_due(rt, digest):
                pipeline.run_digest(rt, digest)
        sent = await pipeline.flush_outbox(rt)
    finally:
        await rt.aclose()
    failed = [o for o in outcomes if o.status in ("failed", "gone")]
    print(f"polled {len(outcomes)} feeds ({len(failed)} failed), "
          f"{sum(o.new_articles for o in outcomes)} new articles, {sent} messages sent")
    for o in failed:
        print(f"  {o.error}" if o.error and o.feed in o.error else f"  {o.feed}: {o.error}")
    return 1 if rt.sending_paused else 0


def cmd_check(args: argparse.Namespace) -> int | object:
    config = load_config(args.config)
    print(summary(config))
    if args.smtp or args.feeds:
        from monitor.cli.checks import run_checks

        return run_checks(config, smtp=args.smtp, feeds=args.feeds)
    return 0


def summary(config: Config) -> str:
    lines = [f"config:    {config.path}", f"entities:  {config.entities_path} ({len(config.entities)})"]
    lines += [f"  {e.id:<16} {e.name} ({e.kind}){'  [alert]' if e.alert else ''}: "
              + ", ".join(a.text for a in e.aliases) for e in config.entities]
    lines.append(f"feeds:     {len(config.feeds)}")
    lines += [f"  {f.name}: {f.url}" for f in config.feeds]
    lines.append(f"digests:   {len(config.digests)} (time zone {config.timezone.key})")
    lines += [f"  {d.name}: '{d.schedule}' to {', '.join(d.recipients)}"
              + (f" (only {', '.join(d.actors)})" if d.actors else "") for d in config.digests]
    lines.append(f"smtp:      {config.smtp.host}:{config.smtp.port} tls={config.smtp.tls}")
    lines.append(f"state:     {config.database}")
    return "\n".join(lines)


def cmd_analyze(args: argparse.Namespace) -> int:
    from monitor.cli.analyze import analyze_file, format_text
    from monitor.nlp import Analyzer

    if args.config:
        config = load_config(args.config)
        analyzer = Analyzer(config.entities, model=config.nlp.model, key_claims=config.nlp.key_claims)
    else:
        analyzer = Analyzer(load_entities(DEFAULT_ENTITIES))
    status = 0
    for path in args.files:
        try:
            record = analyze_file(path, analyzer)
        except MonitorError as exc:
            print(f"monitor: {exc}", file=sys.stderr)
            status = 1
            continue
        if args.format == "json":
            print(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            print(format_text(record), flush=True)
    return status


async def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.cli.demo import run_demo

    return await run_demo(args.output)


async def cmd_digest(args: argparse.Namespace) -> int:
    from monitor.service import pipeline
    from monitor.service.daemon import open_runtime

    rt = open_runtime(load_config(args.config))
    chosen = [d for d in rt.config.digests if args.name in (None, d.name)]
    if not chosen:
        raise ConfigError(str(args.config), "digest", f"no digest named {args.name!r}" if args.name
                          else "no [[digest]] configured")
    try:
        if args.preview:
            html = pipeline.preview_digest(rt, chosen[0])
            args.preview.write_text(html, encoding="utf-8")
            print(f"preview of digest {chosen[0].name!r} written to {args.preview} (nothing sent)")
            return 0
        queued = [i for i in (pipeline.run_digest(rt, d) for d in chosen) if i is not None]
        sent = await pipeline.flush_outbox(rt)
        unsent = pipeline.unsent(rt, queued)
        print(f"{sent} messages sent" + (f"; {len(unsent)} not sent: {'; '.join(unsent)}" if unsent else ""))
        return 0 if not unsent and not rt.sending_paused else 1
    finally:
        await rt.aclose()


async def cmd_send_test(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from monitor.delivery.smtp import send_raw
    from monitor.digest.build import make_message_id
    from monitor.digest.mime import build_test_message

    config = load_config(args.config)
    smtp = config.smtp
    message = build_test_message(smtp.sender, args.recipient, datetime.now(UTC),
                           make_message_id(smtp.sender.rpartition("@")[2]))
    report = await send_raw(smtp, smtp.password(), message.sender, message.recipients, message.raw)
    print(f"test message accepted for {', '.join(report.accepted) or 'nobody'}")
    for rcpt, reason in report.refused.items():
        print(f"  refused {rcpt}: {reason}")
    return 0 if report.accepted else 1


def cmd_status(args: argparse.Namespace) -> int:
    from monitor.cli.status import collect_status, format_status

    config = load_config(args.config)
    data = collect_status(config)
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.format == "json"
          else format_status(data, config.timezone))
    return 0


def cmd_feeds(args: argparse.Namespace) -> int:
    from monitor.ingest.opml import read_opml, write_opml

    if args.feeds_command == "import":
        try:
            found = read_opml(Path(args.opml).read_bytes())
        except OSError as exc:
            raise ConfigError(str(args.opml), "", f"cannot read: {exc.strerror}") from None
        known = set()
        if args.config.exists():
            known = {f.url for f in load_config(args.config).feeds}
        print("# paste into the main config file")
        for url, title in found:
            if url not in known:
                print(f"\n[[feeds]]\nurl = {json.dumps(url, ensure_ascii=False)}\nname = {json.dumps(title or url, ensure_ascii=False)}")
        return 0
    config = load_config(args.config)
    print(write_opml([(f.url, f.name) for f in config.feeds], "monitor feeds"))
    return 0


def cmd_entities(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.entities_command == "list":
        for e in config.entities:
            aliases = ", ".join(a.text + ("" if a.case_sensitive else " (any case)") for a in e.aliases)
            print(f"{e.id}: {e.name} ({e.kind}){' [alert]' if e.alert else ''}\n  aliases: {aliases}")
            if e.exclude:
                print(f"  never: {', '.join(e.exclude)}")
        return 0
    from monitor.cli.analyze import format_text
    from monitor.nlp import Analyzer

    analyzer = Analyzer(config.entities, model=config.nlp.model, key_claims=config.nlp.key_claims)
    analysis = analyzer.analyze("", args.text)
    record = {"path": "(snippet)", "entities": list(analysis.entities),
              "mentions": [{"entity": m.entity, "text": m.text, "start": m.start, "end": m.end, "why": m.why}
                           for m in analysis.mentions],
              "claims": [{"kind": c.kind, "speaker": c.speaker, "text": c.text, "start": c.start,
                          "end": c.end, "sentence": c.sentence, "score": c.score, "why": c.why}
                         for c in analysis.claims]}
    print(format_text(record))
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    from monitor.web.server import serve

    return serve(load_config(args.config), args.listen)
