"""The console as an ASGI application (Starlette): routes, templates, JSON twins.

Every page's data comes from `views.Console` as a dictionary; an HTML request renders it with the
page's template, `/api/...` or `Accept: application/json` returns it as JSON. Endpoints that
read SQLite or run the NLP are plain functions: Starlette runs them in its thread pool, so a slow
query never blocks the event loop.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

import monitor
from monitor.config.types import Config
from monitor.store.archive import Archive, message_raw
from monitor.store.search import SearchQuery
from monitor.web import security
from monitor.web.mail import parts
from monitor.web.views import KINDS, MAX_TEST_CHARS, Console, NotFound

TEMPLATES = Path(monitor.__file__).parent / "templates" / "web"
MAX_FORM_BYTES = 4 * MAX_TEST_CHARS + 1024  # a pasted text, percent-encoded


STATIC = {"console.css": "text/css", "favicon.svg": "image/svg+xml"}


@lru_cache(maxsize=len(STATIC))
def _static(name: str) -> bytes:
    return (TEMPLATES / name).read_bytes()


def environment(config: Config) -> jinja2.Environment:
    """Autoescape on for every template (not only .html): feed text is hostile everywhere."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    zone = config.timezone

    def local(value: str | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
        return datetime.fromisoformat(value).astimezone(zone).strftime(fmt) if value else "—"

    env.filters["local"] = local
    env.filters["link"] = safe_link
    env.globals["query"] = query_string
    return env


def safe_link(url: str | None) -> str | None:
    """Only http(s) URLs become links: a feed's `javascript:` or `data:` link stays text."""
    if not url:
        return None
    scheme = urlsplit(url.strip()).scheme.lower()
    return url.strip() if scheme in ("http", "https") else None


def query_string(values: dict[str, Any], **changes: Any) -> str:
    """The current filters with some changed, as '?a=b&…' (empty values left out)."""
    merged = {**values, **changes}
    return "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(request.query_params.get(name, default)), low), high)
    except ValueError:
        return default


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/api/") or ("application/json" in accept and "text/html" not in accept)


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


class Pages:
    """The route handlers, bound to one console and one template environment."""

    def __init__(self, console: Console, env: jinja2.Environment, token: str | None) -> None:
        self.console = console
        self.env = env
        self.token = token

    def render(self, request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
        if _wants_json(request):
            return JSONResponse(data, status_code=status)
        html = self.env.get_template(template).render(data=data, page=template.removesuffix(".html"),
                                                     path=request.url.path)
        return HTMLResponse(html, status_code=status)

    def not_found(self, request: Request, exc: NotFound) -> Response:
        return self.render(request, "error.html", {"error": str(exc)}, status=404)

    def guarded(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            try:
                return handler(request)
            except NotFound as exc:
                return self.not_found(request, exc)
            except OverflowError:  # an id past SQLite's 64-bit integers names nothing stored
                return self.not_found(request, NotFound("no such item"))
        return run

    def outlet(self, request: Request) -> int | None:
        value = request.query_params.get("outlet", "")
        return int(value) if value.isdigit() and len(value) < 19 else None

    def index(self, request: Request) -> Response:
        data = self.console.index(actor=request.query_params.get("actor", ""), outlet=self.outlet(request),
                                  days=_int(request, "days", 3, 1, 90))
        return self.render(request, "index.html", data)

    def search(self, request: Request) -> Response:
        p = request.query_params
        since, until = _parse_day(p.get("from", "")), _parse_day(p.get("to", ""))
        kind = p.get("kind", "")
        q = SearchQuery(text=p.get("q", "")[:500], actor=p.get("actor", ""), speaker=p.get("speaker", "")[:200],
                        kind=kind if kind in KINDS else "", outlet=self.outlet(request),
                        since=self.console.day_start(since) if since else None,
                        until=self.console.day_start(until + timedelta(days=1)) if until else None,
                        page=_int(request, "page", 1, 1, 1000), per_page=_int(request, "per_page", 20, 1, 100))
        data = self.console.search(q, since=since.isoformat() if since else "",
                                   until=until.isoformat() if until else "")
        return self.render(request, "search.html", data)

    def actor(self, request: Request) -> Response:
        data = self.console.actor(request.path_params["entity"], days=_int(request, "days", 90, 7, 730))
        return self.render(request, "actor.html", data)

    def story(self, request: Request) -> Response:
        return self.render(request, "story.html", self.console.story(request.path_params["article"]))

    def feeds(self, request: Request) -> Response:
        return self.render(request, "feeds.html", self.console.feeds())

    def digests(self, request: Request) -> Response:
        return self.render(request, "digests.html", self.console.digests(page=_int(request, "page", 1, 1, 10000)))

    def message(self, request: Request) -> Response:
        return self.render(request, "message.html", self.console.message(request.path_params["message"]))

    def mail_html(self, request: Request) -> Response:
        """The message's HTML part alone, for the sandboxed frame: its own, stricter policy."""
        raw = message_raw(self.console.store, request.path_params["message"])
        html = parts(raw)[1] if raw is not None else None
        if html is None:
            raise NotFound("no HTML part")
        return HTMLResponse(html, headers={"content-security-policy": security.MAIL_CSP,
                                           "x-frame-options": "SAMEORIGIN"})

    async def entity_test(self, request: Request) -> Response:
        text = ""
        if request.method == "POST":
            body = await request.body()
            if len(body) > MAX_FORM_BYTES:
                return self.render(request, "error.html", {"error": "text too long"}, status=413)
            text = parse_qs(body.decode("utf-8", "replace")).get("text", [""])[0]
        data = await run_in_threadpool(self.console.entity_test, text)
        return self.render(request, "entities_test.html", {**data, "max_chars": MAX_TEST_CHARS})

    async def login(self, request: Request) -> Response:
        if self.token is None:
            return RedirectResponse("/", status_code=303)
        failed = False
        if request.method == "POST":
            body = await request.body()
            given = parse_qs(body[:4096].decode("utf-8", "replace")).get("token", [""])[0].strip()
            if hmac.compare_digest(given.encode(), self.token.encode()):
                response = RedirectResponse("/", status_code=303)
                response.set_cookie(security.COOKIE, security.session_value(self.token), httponly=True,
                                    samesite="strict", path="/")
                return response
            failed = True
        return self.render(request, "login.html", {"failed": failed}, status=401 if failed else 200)

    def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            raise NotFound("no such file")
        return Response(_static(name), media_type=STATIC[name], headers={"cache-control": "max-age=3600"})


def build_app(config: Config, store: Archive, *, token: str | None = None, loopback_only: bool = True) -> Starlette:
    """The console over this archive. `token`: required on every request when set."""
    pages = Pages(Console(config, store), environment(config), token)
    g = pages.guarded
    routes = [
        Route("/", g(pages.index)),
        Route("/api/stories", g(pages.index)),
        Route("/search", g(pages.search)),
        Route("/api/search", g(pages.search)),
        Route("/actors/{entity}", g(pages.actor)),
        Route("/api/actors/{entity}", g(pages.actor)),
        Route("/stories/{article:int}", g(pages.story)),
        Route("/api/stories/{article:int}", g(pages.story)),
        Route("/feeds", g(pages.feeds)),
        Route("/api/feeds", g(pages.feeds)),
        Route("/digests", g(pages.digests)),
        Route("/api/digests", g(pages.digests)),
        Route("/digests/{message:int}", g(pages.message)),
        Route("/api/digests/{message:int}", g(pages.message)),
        Route("/digests/{message:int}/mail.html", g(pages.mail_html)),
        Route("/entities/test", pages.entity_test, methods=["GET", "POST"]),
        Route("/api/entities/test", pages.entity_test, methods=["POST"]),
        Route(security.LOGIN_PATH, pages.login, methods=["GET", "POST"]),
        Route("/static/{name}", g(pages.static)),
    ]

    async def missing(request: Request, exc: Exception) -> Response:
        return pages.not_found(request, NotFound("no such page"))

    return Starlette(routes=routes, exception_handlers={404: missing},
                     middleware=[Middleware(security.Guard, token=token, loopback_only=loopback_only)])
