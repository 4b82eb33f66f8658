"""The administrator's commands as an administrator runs them: real `monitor` processes.

Every subcommand's --help; `entities list/test`; `feeds export/import` (OPML round trip through
`monitor check`); `check --smtp --feeds` against a real STARTTLS+AUTH server and real feeds;
log lines (level on each, no timestamps under journald, never the SMTP password).

The helpers here (`write_config`, `run_monitor`, `run_parallel`) are shared with test_admin.py.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import trustme
from support.ingest_server import Route, serve
from support.smtp_server import SmtpServer
from support.world import write_config

from monitor.cli.main import build_parser, main
from monitor.config.types import DEFAULT_ENTITIES

ROOT = Path(__file__).resolve().parents[2]
DEMO_FEED = ROOT / "monitor" / "data" / "demo" / "tecnoitalia.xml"
HTML_PAGE = Path(__file__).parent.parent / "data" / "feeds" / "not_a_feed.html"
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
# Variables the developer's shell (or systemd) may set that would change what a command does.
_SCRUB = ("STATE_DIRECTORY", "JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
          "MONITOR_CONFIG", "MONITOR_LOG_LEVEL", "MONITOR_SMTP_PASSWORD", "SSL_CERT_FILE", "SSL_CERT_DIR")


def run_monitor(*args: str | Path, env: Mapping[str, str] | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m monitor ARGS` in a clean environment; stdout and stderr kept apart."""
    environ = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    environ.update(PYTHONUNBUFFERED="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "monitor", *map(str, args)], env=environ,
                          capture_output=True, text=True, timeout=timeout, check=False)


def run_parallel(*commands: Sequence[str | Path], env: Mapping[str, str] | None = None,
                 envs: Sequence[Mapping[str, str]] | None = None) -> list[subprocess.CompletedProcess[str]]:
    """Independent commands at once (each start-up imports spaCy; two cores halve the wait)."""
    environments = list(envs) if envs is not None else [env or {}] * len(commands)
    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(lambda c, e: run_monitor(*c, env=e), commands, environments))


def feed_routes() -> dict[str, Route]:
    return {"/feed.xml": Route(body=DEMO_FEED.read_bytes(), headers=RSS)}


# -- --help ------------------------------------------------------------------------------------


def _subcommands() -> list[tuple[str, ...]]:
    """Every command path the parser knows, found by walking it (so a new one is covered too)."""
    import argparse

    found: list[tuple[str, ...]] = [()]

    def walk(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.append((*prefix, name))
                    walk(sub, (*prefix, name))

    walk(build_parser(), ())
    return found


@pytest.mark.parametrize("command", _subcommands(), ids=lambda c: " ".join(c) or "monitor")
def test_every_command_has_help(command: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: monitor") and " ".join(command) in out


def test_the_command_list_is_complete() -> None:
    names = {c[0] for c in _subcommands() if c}
    assert names >= {"run", "once", "check", "analyze", "demo", "digest", "send-test", "status",
                     "feeds", "entities", "store"}
    assert {c for c in _subcommands() if len(c) == 2} == {
        ("feeds", "import"), ("feeds", "export"), ("entities", "list"), ("entities", "test"), ("store", "migrate")}


# -- entities ----------------------------------------------------------------------------------

SNIPPET = "«Sono molto preoccupato», ha scritto Musk su X."


@pytest.fixture
def plain_config(tmp_path: Path) -> Path:
    return write_config(tmp_path, [("http://127.0.0.1:9/feed.xml", "TecnoItalia")], smtp_port=2525)


def test_entities_list_and_test(plain_config: Path) -> None:
    listed, tested = run_parallel(("entities", "list", "-c", plain_config),
                                  ("entities", "test", "-c", plain_config, SNIPPET))
    assert listed.returncode == 0, listed.stderr
    entities = tomllib.loads(DEFAULT_ENTITIES.read_text(encoding="utf-8"))["entity"]
    for entity in entities:
        block = listed.stdout.split(f"{entity['id']}: ", 1)[1].split("\n\n")[0]
        assert block.startswith(entity["name"]), block
        for alias in entity["aliases"]:
            assert (alias if isinstance(alias, str) else alias["text"]) in block.split("\n")[1]
    assert "elon_musk: Elon Musk (person) [alert]" in listed.stdout
    assert "never: Kimbal Musk" in listed.stdout

    assert tested.returncode == 0, tested.stderr
    out = tested.stdout
    assert re.search(r"mention\s+elon_musk\s+'Musk' \[37:41\]", out), out
    assert 'alias "Musk"' in out and "surname of Elon Musk" in out, out  # why it matched
    assert SNIPPET[37:41] == "Musk"
    assert re.search(r"quote\s+elon_musk: Sono molto preoccupato", out), out


def test_entities_test_explains_the_speaker(plain_config: Path) -> None:
    out = run_monitor("entities", "test", "-c", plain_config, SNIPPET).stdout
    # e.g.  quote     elon_musk: Sono molto preoccupato  (speaker "Musk", subject of "ha scritto")
    quote = next(line for line in out.splitlines() if line.lstrip().startswith("quote"))
    assert "ha scritto" in quote, out


# -- feeds import / export ---------------------------------------------------------------------

AWKWARD = [("https://www.hdblog.it/feed/?a=1&b=2", 'HDblog & "amici" <it>'),
           ("https://www.dday.it/rss", "DDay.it – perché sì"),
           ("https://www.wired.it/feed/rss", "Wired 🚀 Italia"),
           ("https://www.ilpost.it/tecnologia/feed/", "Il Post \\ tecnologia")]


def test_feeds_export_is_valid_opml_and_imports_back(tmp_path: Path) -> None:
    config = write_config(tmp_path, [], smtp_port=2525,
                          extra="".join(f"\n[[feeds]]\nurl = {_toml(u)}\nname = {_toml(n)}\n" for u, n in AWKWARD))
    other = tmp_path / "other"
    other.mkdir()
    empty = write_config(other, [], smtp_port=2525)
    exported = run_monitor("feeds", "export", "-c", config)
    assert exported.returncode == 0, exported.stderr
    root = ET.fromstring(exported.stdout.encode("utf-8"))
    assert root.tag == "opml"
    assert [(o.get("xmlUrl"), o.get("title")) for o in root.iter("outline")] == AWKWARD
    opml = tmp_path / "export.opml"
    opml.write_text(exported.stdout, encoding="utf-8")

    # Into a config that already has them: nothing to add. Into an empty one: all four.
    # Also a real reader's export (nested, duplicates, non-http outlines) into a third config.
    sample = tmp_path / "sample"
    sample.mkdir()
    reader = write_config(sample, [], smtp_port=2525)
    same, into_empty, from_reader = run_parallel(
        ("feeds", "import", opml, "-c", config), ("feeds", "import", opml, "-c", empty),
        ("feeds", "import", ROOT / "tests" / "data" / "feeds" / "subscriptions.opml", "-c", reader))
    assert same.returncode == 0 and "[[feeds]]" not in same.stdout, same.stdout + same.stderr
    assert same.stdout.count("already present: ") == 4
    for imported in (into_empty, from_reader):  # written into the config file itself
        assert imported.returncode == 0, imported.stderr
    loaded = tomllib.loads(empty.read_text(encoding="utf-8"))  # what `monitor check` reads first
    assert [(f["url"], f["name"]) for f in loaded["feeds"]] == AWKWARD
    checked, checked_reader = run_parallel(("check", "-c", empty), ("check", "-c", reader))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "feeds:     4" in checked.stdout
    for url, name in AWKWARD:
        assert f"  {name}: {url}" in checked.stdout
    assert checked_reader.returncode == 0, checked_reader.stdout + checked_reader.stderr
    assert "feeds:     4" in checked_reader.stdout
    assert "  DDay.it & co: https://www.dday.it/rss" in checked_reader.stdout


JUNK = {"empty": (b"", "empty"), "text": (b"this is not xml at all\n", "not an OPML document"),
        "html": (b"<html><body><p>Ciao</p></body></html>", "not an OPML document")}


def test_feeds_import_junk_is_a_clear_error(tmp_path: Path) -> None:
    for name, (content, _) in JUNK.items():
        (tmp_path / f"{name}.opml").write_bytes(content)
    absent = tmp_path / "absent.toml"
    results = run_parallel(*[("feeds", "import", tmp_path / f"{name}.opml", "-c", absent) for name in JUNK],
                           ("feeds", "import", tmp_path / "nope.opml", "-c", absent))
    for (name, (_, reason)), result in zip(JUNK.items(), results, strict=False):
        assert result.returncode == 1, (name, result.stderr)
        assert "[[feeds]]" not in result.stdout
        assert reason in result.stderr and "Traceback" not in result.stderr, (name, result.stderr)
    missing = results[-1]
    assert missing.returncode == 78 and "nope.opml" in missing.stderr, missing.stderr
    assert "Traceback" not in missing.stderr


def _toml(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


# -- check --smtp --feeds ----------------------------------------------------------------------

PASSWORD = "S3gr3t0-n0n-l0ggar3!"


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    """A test CA; a subprocess trusts it through SSL_CERT_FILE (OpenSSL's default verify path)."""
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, path


def test_check_smtp_and_feeds(tmp_path: Path, ca_file: tuple[trustme.CA, Path]) -> None:
    ca, pem = ca_file
    routes = {**feed_routes(), "/broken.xml": Route(status=500, body=b"oops"),
              "/page.html": Route(body=HTML_PAGE.read_bytes(), headers={"Content-Type": "text/html"})}
    with serve(routes) as http, SmtpServer(tls="starttls", auth=("monitor", PASSWORD), ca=ca) as smtp:
        good, broken, page = http.url("/feed.xml"), http.url("/broken.xml"), http.url("/page.html")
        folder_all, folder_good = tmp_path / "all", tmp_path / "good"
        folder_all.mkdir()
        folder_good.mkdir()
        feeds = [(good, "Buono"), (broken, "Rotto"), (page, "Pagina")]
        mixed = write_config(folder_all, feeds, smtp_port=smtp.port, tls="starttls", username="monitor")
        clean = write_config(folder_good, feeds[:1], smtp_port=smtp.port, tls="starttls", username="monitor")
        env = {"MONITOR_SMTP_PASSWORD": PASSWORD, "SSL_CERT_FILE": str(pem)}
        # Without SSL_CERT_FILE the test CA is unknown: the TLS handshake fails before any AUTH.
        failing, passing, untrusted = run_parallel(
            ("check", "-c", mixed, "--smtp", "--feeds"), ("check", "-c", clean, "--smtp", "--feeds"),
            ("check", "-c", clean, "--smtp"), envs=[env, env, {"MONITOR_SMTP_PASSWORD": PASSWORD}])
        logins = len(smtp.auth_attempts)
        wrong = run_monitor("check", "-c", clean, "--smtp", env={**env, "MONITOR_SMTP_PASSWORD": "sbagliata"})

    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert f"smtp  ok   127.0.0.1:{smtp.port} (starttls, logged in as monitor)" in passing.stdout
    assert re.search(rf"feed  ok   {re.escape(good)}: 3 entries", passing.stdout), passing.stdout
    assert "all checks passed" in passing.stdout

    assert failing.returncode == 1, failing.stdout + failing.stderr
    out = failing.stdout
    assert "smtp  ok" in out and f"feed  ok   {good}" in out
    assert f"feed  FAIL {broken}: HTTP 500\n" in out
    assert f"feed  FAIL {page}: not a feed: an HTML page" in out
    assert "2 checks failed" in out

    assert wrong.returncode == 1
    assert f"smtp  FAIL 127.0.0.1:{smtp.port}: AUTH 535 5.7.8" in wrong.stdout, wrong.stdout
    assert untrusted.returncode == 1
    assert f"smtp  FAIL 127.0.0.1:{smtp.port}: " in untrusted.stdout
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stdout and "SSL_CERT_FILE" in untrusted.stdout
    assert logins == 2  # passing and failing logged in; untrusted never sent credentials
    for result in (failing, passing, wrong, untrusted):
        assert PASSWORD not in result.stdout + result.stderr


# -- logs --------------------------------------------------------------------------------------

LEVEL_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL) \S")
STAMPED_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S")
# What Gmail answers to a wrong password: a multi-line 535 reply.
GMAIL_535 = ("535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
             "535 5.7.8  https://support.google.com/mail/?p=BadCredentials")


@pytest.fixture(scope="module")
def log_runs(tmp_path_factory: pytest.TempPathFactory,
             ca_file: tuple[trustme.CA, Path]) -> tuple[subprocess.CompletedProcess[str], ...]:
    """`monitor once` with a password in the environment and a server refusing it with 535.

    Three runs: under journald (JOURNAL_STREAM) at INFO; on a terminal at INFO; under journald
    at DEBUG (the most talkative, for the secret check only).
    """
    ca, pem = ca_file
    tmp = tmp_path_factory.mktemp("logs")
    with serve(feed_routes()) as http, SmtpServer(tls="starttls", auth=("monitor", "la-vera"), ca=ca) as smtp:
        smtp.auth_reply = GMAIL_535
        configs = []
        for name in ("journal", "terminal", "debug"):
            (tmp / name).mkdir()
            configs.append(write_config(tmp / name, [(http.url("/feed.xml"), "TecnoItalia")],
                                        smtp_port=smtp.port, tls="starttls", username="monitor"))
        env = {"MONITOR_SMTP_PASSWORD": PASSWORD, "SSL_CERT_FILE": str(pem)}
        journal_env = {**env, "JOURNAL_STREAM": "8:12345"}
        runs = tuple(run_parallel(("once", "-c", configs[0]), ("once", "-c", configs[1]),
                                  ("--log-level", "DEBUG", "once", "-c", configs[2]),
                                  envs=[journal_env, env, journal_env]))
        assert smtp.auth_attempts and not smtp.messages
    return runs


def test_logs_never_contain_the_smtp_password(log_runs: tuple[subprocess.CompletedProcess[str], ...]) -> None:
    secrets = [PASSWORD, base64.b64encode(PASSWORD.encode()).decode(),
               base64.b64encode(f"\0monitor\0{PASSWORD}".encode()).decode()]
    for result in log_runs:
        assert result.returncode == 1, result.stderr  # sending stopped: `once` did not do its job
        assert "CRITICAL SMTP authentication failed" in result.stderr and "535" in result.stderr
        for secret in secrets:
            assert secret not in result.stdout + result.stderr


def test_logs_have_levels_and_timestamps_only_off_journald(
        log_runs: tuple[subprocess.CompletedProcess[str], ...]) -> None:
    journal, terminal, debug = log_runs
    for result in (journal, debug):
        records = [line for line in result.stderr.splitlines() if LEVEL_LINE.match(line)]
        assert any(r.startswith("INFO feed ") for r in records), result.stderr
        assert not any(STAMPED_LINE.match(line) for line in result.stderr.splitlines())
    records = [line for line in terminal.stderr.splitlines() if STAMPED_LINE.match(line)]
    assert any(" CRITICAL SMTP authentication failed" in r for r in records), terminal.stderr


@pytest.mark.parametrize("run", [0, 2], ids=["info", "debug"])
def test_one_line_per_event_under_journald(log_runs: tuple[subprocess.CompletedProcess[str], ...],
                                           run: int) -> None:
    lines = log_runs[run].stderr.splitlines()
    assert lines and all(LEVEL_LINE.match(line) for line in lines), log_runs[run].stderr
