"""Jinja2 environments and CSS inlining for digest and alert templates.

A user's templates_dir overrides our templates file by file (ChoiceLoader), so a custom
digest.html can reuse our digest.txt and subject.txt.
"""

from __future__ import annotations

import textwrap
from functools import lru_cache
from pathlib import Path
from typing import Any

import css_inline
import jinja2

import monitor
from monitor.digest.text import header_text

BUILTIN_TEMPLATES = Path(monitor.__file__).parent / "templates"

# Inline only what the template carries: never fetch a remote stylesheet, drop <style>/<link>
# (Gmail strips them anyway) so the HTML works where only inline styles survive.
_INLINER = css_inline.CSSInliner(keep_style_tags=False, keep_link_tags=False, load_remote_stylesheets=False)


def environment(templates_dir: Path | None) -> jinja2.Environment:
    """The environment for a template folder, rebuilt when a file there is added, removed or edited."""
    return _environment(templates_dir, _fingerprint(templates_dir))


def _fingerprint(templates_dir: Path | None) -> tuple[tuple[str, int], ...]:
    # Jinja's own reload check misses a file newly added to the user's folder (the built-in
    # one was cached under that name), so the folder's listing is part of the cache key.
    if templates_dir is None:
        return ()
    try:
        return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in templates_dir.iterdir() if p.is_file()))
    except OSError:
        return ()


@lru_cache(maxsize=8)
def _environment(templates_dir: Path | None, fingerprint: tuple[tuple[str, int], ...]) -> jinja2.Environment:
    """autoescape for .html (and strings), StrictUndefined; user folder first, ours as fallback."""
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
    loaders.append(jinja2.FileSystemLoader(str(BUILTIN_TEMPLATES)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm"), default_for_string=True,
                                            default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = wrap
    return env


def wrap(text: str, indent: int = 2, width: int = 76) -> str:
    """Plain-text paragraphs wrapped for reading; continuation lines indented under the first."""
    return textwrap.fill(text, width=width, subsequent_indent=" " * indent, break_long_words=True,
                         break_on_hyphens=False)


def render_parts(templates_dir: Path | None, kind: str, values: dict[str, Any]) -> tuple[str, str, str]:
    """(text, inlined html, one-line subject) for `kind` in {"digest", "alert"}."""
    env = environment(templates_dir)
    text = env.get_template(f"{kind}.txt").render(values)
    html = _INLINER.inline(env.get_template(f"{kind}.html").render(values))
    subject = header_text(env.get_template("subject.txt").render(values))
    return _tidy_text(text), html, subject


def _tidy_text(text: str) -> str:
    # Templates leave runs of blank lines around optional blocks; readers want at most one.
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"
