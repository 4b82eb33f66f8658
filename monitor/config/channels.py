"""`[[channels]]`: chat and webhook destinations (Apprise URLs) and where their secrets live.

A channel's URL usually is the credential (a Slack webhook, a Telegram bot token), so it comes
from an environment variable or a file (a systemd credential); `url` in the TOML is accepted
only for a URL that carries none. No error message here ever repeats a URL's text.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from monitor.config.toml_table import Table
from monitor.errors import ConfigError

# Query arguments (and Apprise's "+Header"/"-Header" arguments) whose value is a secret even
# where Apprise's own privacy mode would print it.
_SECRET_ARG = re.compile(r"token|key|secret|pass|auth|sig|hook|bearer", re.IGNORECASE)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    url_env: str = ""
    url_file: str = ""
    # Only a URL without credentials (checked at load); repr=False all the same.
    url_plain: str = field(default="", repr=False)
    alerts: bool = False
    digests: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """Where the URL comes from, for messages: never the URL itself."""
        if self.url_env:
            return f"${self.url_env}"
        if self.url_file:
            return self.url_file
        return "url"

    def url(self) -> str:
        """The Apprise URL, read now (a reload or a rotated credential takes effect at once)."""
        if self.url_plain:
            return self.url_plain
        if self.url_file:
            try:
                value = Path(self.url_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(self.url_file, f"channel {self.name}.url_file",
                                  f"cannot read: {exc.strerror}") from None
            if not value:
                raise ConfigError(self.url_file, f"channel {self.name}.url_file", "the file is empty")
            return value
        value = os.environ.get(self.url_env, "").strip()
        if not value:
            raise ConfigError("environment", f"channel {self.name}.url_env",
                              f"${self.url_env} is not set")
        return value


def is_apprise_url(url: str) -> bool:
    import apprise  # noqa: PLC0415 (only configurations with channels pay for the import)

    return apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None


def carries_credentials(url: str) -> bool:
    """Whether the URL holds a secret: a password, a token Apprise masks, a secret-named argument.

    Apprise knows each service's secret parts (its privacy mode masks them), so a URL whose
    private and full forms differ carries one.
    """
    try:
        parts = urlsplit(url)
        if parts.password or any(_SECRET_ARG.search(k) for k, _ in parse_qsl(parts.query)):
            return True
    except ValueError:
        return True
    import apprise  # noqa: PLC0415 (only configurations with channels pay for the import)

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        return False  # not a URL at all: load_channels says so
    return bool(plugin.url(privacy=True) != plugin.url(privacy=False))


def load_channels(root: Table, base: Path) -> tuple[ChannelConfig, ...]:
    channels: list[ChannelConfig] = []
    for t in root.tables("channels"):
        name = t.text("name", required=True, empty=False)
        if not _NAME.fullmatch(name):
            raise t.error("name", "letters, digits, '.', '_' and '-' only (it names the channel in "
                                  "status and on the command line)")
        if name in (c.name for c in channels):
            raise t.error("name", f"duplicate channel name {name!r}")
        url_env, url_file, url = t.text("url_env"), t.text("url_file"), t.text("url")
        if sum(bool(v) for v in (url_env, url_file, url)) != 1:
            raise t.error("url_env", "give exactly one of url_env, url_file or url")
        if url and carries_credentials(url):
            raise t.error("url", "this URL carries a credential (a token, key or password), which never "
                                 "lives in the TOML: put it in an environment variable named by url_env, "
                                 "or in a file named by url_file (e.g. a systemd credential)")
        if url and not is_apprise_url(url):
            raise t.error("url", "not a URL Apprise knows (each service's form: "
                                 "https://github.com/caronc/apprise/wiki)")
        channels.append(ChannelConfig(
            name=name, url_env=url_env, url_file=str((base / url_file).resolve()) if url_file else "",
            url_plain=url, alerts=t.get("alerts", bool, False), digests=t.strings("digests")))
        t.done()
    return tuple(channels)


def check_channel_digests(channels: tuple[ChannelConfig, ...], digests: set[str], file: str) -> None:
    for i, channel in enumerate(channels):
        for j, name in enumerate(channel.digests):
            if name not in digests:
                raise ConfigError(file, f"channels[{i}].digests[{j}]",
                                  f"unknown digest {name!r} (known: {', '.join(sorted(digests)) or 'none'})")
