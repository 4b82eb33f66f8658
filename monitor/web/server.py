"""`monitor web`: check where to listen, open the archive (SQLite or PostgreSQL) read-only, serve with uvicorn."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitor.config.types import Config
from monitor.errors import ConfigError
from monitor.store.archive import open_archive
from monitor.web.app import build_app
from monitor.web.security import is_loopback

MIN_TOKEN_CHARS = 16


@dataclass(frozen=True)
class Listen:
    host: str
    port: int
    token: str | None  # required on every request when set


def parse_listen(value: str, where: str, key: str) -> tuple[str, int]:
    """'127.0.0.1:8080', '[::1]:8080' or 'localhost:8080' → (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535 or not host:
        raise ConfigError(where, key, f"must look like 127.0.0.1:8080 or [::1]:8080; got {value!r}")
    return host.strip("[]"), int(port)


def resolve_listen(config: Config, override: str | None) -> Listen:
    """Loopback needs nothing; any other address needs web.token_file, and says so."""
    where, key = (("--listen", "") if override else (str(config.path), "web.listen"))
    host, port = parse_listen(override or config.web.listen, where, key)
    token = read_token(config) if config.web.token_file else None
    if not is_loopback(host) and token is None:
        raise ConfigError(str(config.path), "web.token_file",
                          f"the console would listen on {host}, which is not loopback: set web.token_file "
                          "to a file holding a bearer token (every request must carry it), or listen on "
                          "127.0.0.1 and use an SSH tunnel (ssh -L 8080:127.0.0.1:8080 host)")
    return Listen(host, port, token)


def read_token(config: Config) -> str:
    path = Path(config.web.token_file)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(str(config.path), "web.token_file", f"cannot read {path}: {exc.strerror}") from None
    if len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(str(config.path), "web.token_file",
                          f"the token in {path} is shorter than {MIN_TOKEN_CHARS} characters "
                          "(e.g. `openssl rand -hex 32 > token`)")
    return token


def serve(config: Config, override: str | None = None) -> int:
    import uvicorn

    listen = resolve_listen(config, override)
    app = build_app(config, open_archive(config.store, config.database), token=listen.token, loopback_only=is_loopback(listen.host))
    print(f"monitor web: http://{'[' + listen.host + ']' if ':' in listen.host else listen.host}:{listen.port}/"
          + (" (bearer token required)" if listen.token else ""), flush=True)
    uvicorn.run(app, host=listen.host, port=listen.port, log_level="warning", server_header=False,
                proxy_headers=False)
    return 0
