"""Jinja2 environments and CSS inlining for digest and alert templates.

A user's templates_dir overrides our templates file by file (ChoiceLoader), so a custom
digest.html can reuse our digest.txt and subject.txt.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import css_inline
import jinja2

import monitor
from monitor.digest_text import header_text

BUILTIN_TEMPLATES = Path(monitor.__file__).parent / "templates"

# Inline only what the template carries: never fetch a remote stylesheet, drop <style>/<link>
# (Gmail strips them anyway) so the HTML works where only inline styles survive.
_INLINER = css_inline.CSSInliner(keep_style_tags=False, keep_link_tags=False, load_remote_stylesheets=False)


@lru_cache(maxsize=8)
def environment(templates_dir: Path | None) -> jinja2.Environment:
    """One cached environment per template folder; autoescape for .html, StrictUndefined."""
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
        auto_reload=True,  # edited templates apply at the next render, no restart
    )
    return env


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
