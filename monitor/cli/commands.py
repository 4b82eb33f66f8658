"""What each CLI command does; cli.py parses arguments and maps errors to exit codes."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from monitor.cli.logs import use_zone
from monitor.config import load
from monitor.config.entities import load_entities
from monitor.config.types import DEFAULT_ENTITIES, Config
from monitor.errors import ConfigError, MonitorError
from monitor.models import plural


def load_config(path: Path) -> Config:
    """The config, and from now on log lines stamped in its time zone."""
    config = load.load_config(path)
    use_zone(config.timezone)
    return config


async def cmd_run(args: argparse.Namespace) -> int:
    from monitor.service.daemon import run_daemon

    # Loads the config and state (log lines in the config's time zone, also after a reload); a
    # stop at any moment is clean.
    return await run_daemon(args.config, load=load_config)


async def cmd_once(args: argparse.Namespace) -> int:
    from monitor.service import pipeline
    from monitor.service.daemon import open_runtime, recover

    rt = open_runtime(load_config(args.config))
    try:
        await recover(rt)
        outcomes = await pipeline.poll_feeds(rt, force=True)
        for digest in rt.config.digests:
            if pipeline.digest_due(rt, digest):
                pipeline.run_digest(rt, digest, pipeline.digest_slot(rt, digest))
        sent = await pipeline.flush_outbox(rt)
    finally:
        await rt.aclose()
    failed = [o for o in outcomes if o.status in ("failed", "gone")]
    print(f"polled {plural(len(outcomes), 'feed', 'feeds')} ({len(failed)} failed), "
          f"{plural(sum(o.new_articles for o in outcomes), 'new article', 'new articles')}, "
          f"{plural(sent, 'message', 'messages')} sent")
    for o in failed:
        print(f"  {o.error}" if o.error and o.feed in o.error else f"  {o.feed}: {o.error}")
    return 1 if rt.sending_paused else 0


INIT_ENTITIES_LINE = 'entities_file = "entities.toml"  # the copy `monitor init` wrote next to this file'


def cmd_init(args: argparse.Namespace) -> int:
    """Write DIR/config.toml (the documented example, pointing at its own entities file) and
    DIR/entities.toml (the bundled entities); never overwrite anything."""
    folder: Path = args.folder
    config_path, entities_path = folder / "config.toml", folder / "entities.toml"
    existing = [str(p) for p in (config_path, entities_path) if p.exists()]
    if existing:
        raise MonitorError(f"{' and '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
                           "nothing written (move them away or choose another folder)")
    example = (DEFAULT_ENTITIES.parent / "config.example.toml").read_text(encoding="utf-8")
    text = re.sub(r'^entities_file = ""$', INIT_ENTITIES_LINE, example, count=1, flags=re.MULTILINE)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_new(entities_path, DEFAULT_ENTITIES.read_text(encoding="utf-8"))
        _write_new(config_path, text)
    except OSError as exc:
        raise MonitorError(f"cannot write into {folder}: {exc.strerror or exc}") from None
    print(f"wrote {config_path} (every key documented; edit [smtp], [[digest]] and [[feeds]])")
    print(f"wrote {entities_path} (the tracked people and companies)")
    print(f"next: monitor check -c {config_path}")
    return 0


def _write_new(path: Path, text: str) -> None:
    # "x": a file that appeared since the check above is still never overwritten.
    with path.open("x", encoding="utf-8") as out:
        out.write(text)


async def cmd_backfill(args: argparse.Namespace) -> int:
    from monitor.service import pipeline
    from monitor.service.daemon import open_runtime
    from monitor.store.feeds import active_feeds

    config = load_config(args.config)
    if not args.hours > 0:
        raise MonitorError(f"--hours must be a positive number of hours, got {args.hours:g}")
    known = {f.url for f in config.feeds}
    if unknown := [u for u in args.feed or () if u not in known]:
        raise MonitorError(f"{config.path}: no [[feeds]] with url {', '.join(unknown)} "
                           "(`monitor check` lists the configured feeds)")
    rt = open_runtime(config)
    try:
        feed_ids = None
        if args.feed:
            feed_ids = [f.id for f in active_feeds(rt.store) if f.config_url in args.feed]
        outcome = await pipeline.backfill(rt, args.hours, feed_ids)
    finally:
        await rt.aclose()
    where = f" of {', '.join(args.feed)}" if args.feed else ""
    if not outcome.analysed:
        print(f"no backlog{where} published in the last {args.hours:g} hours")
        return 0
    print(f"analysed {plural(outcome.analysed, 'backlog article', 'backlog articles')}{where} from the last "
          f"{args.hours:g} hours: {plural(outcome.relevant, 'story names', 'stories name')} a tracked actor "
          "and will join the next digest, marked as earlier coverage")
    return 0


def cmd_check(args: argparse.Namespace) -> int | object:
    config = load_config(args.config)
    print(summary(config))
    if (missing := config.smtp.missing_password()) is not None:
        # Only a warning: the variable may be set in the service's environment, not this shell's.
        print(f"warning: {missing}")
    if args.smtp or args.feeds or args.channels or args.store:
        from monitor.cli.checks import run_checks

        return run_checks(config, smtp=args.smtp, feeds=args.feeds, channels=args.channels, store=args.store)
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
    lines.append(f"state:     {config.store_target}")
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
        print(f"{plural(sent, 'message', 'messages')} sent" + (f"; {len(unsent)} not sent: {'; '.join(unsent)}" if unsent else ""))
        return 0 if not unsent and not rt.sending_paused else 1
    finally:
        await rt.aclose()


async def cmd_send_test(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from monitor.delivery.smtp import send_raw
    from monitor.digest.build import make_message_id
    from monitor.digest.mime import build_test_message

    config = load_config(args.config)
    if args.channel:
        from monitor.cli.channels import send_channel_test

        return await send_channel_test(config, args.channel)
    if not args.recipient:
        print("monitor: send-test needs a recipient address, or --channel NAME", file=sys.stderr)
        return 2
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
        return _import_feeds(args.config, found, dry_run=args.dry_run)
    config = load_config(args.config)
    print(write_opml([(f.url, f.name) for f in config.feeds], "monitor feeds"))
    return 0


def _import_feeds(config_path: Path, found: list[tuple[str, str]], *, dry_run: bool) -> int:
    from monitor.cli.feeds_import import added_toml, plan_import, write_config

    load_config(config_path)  # a config that is already broken is reported as it is, not edited
    plan = plan_import(config_path, found)
    for url, name in plan.present:
        print(f"already present: {name} <{url}>")
    if not plan.added:
        print(f"nothing to add to {config_path} ({plural(len(found), 'feed', 'feeds')} in the OPML file)")
        return 0
    if dry_run:
        print(f"would add {plural(len(plan.added), 'feed', 'feeds')} to {config_path} (nothing written):\n")
        print(added_toml(plan))
        return 0
    write_config(config_path, plan.text)
    print(f"added {plural(len(plan.added), 'feed', 'feeds')} to {config_path}:")
    for url, name in plan.added:
        print(f"  {name} <{url}>")
    print("a running daemon polls them after a reload (systemctl reload monitor)")
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


def cmd_store(args: argparse.Namespace) -> int:
    from monitor.cli.store import migrate

    return migrate(args.source, args.target, password_env=args.password_env, password_file=args.password_file)
