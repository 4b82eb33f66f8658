"""`monitor demo` end to end: real loopback HTTP and SMTP, the real pipeline, files a user opens."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path


def test_demo_delivers_a_multipart_digest_naming_the_actors(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "monitor", "demo", "--output", str(out)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 feeds polled, 5 articles" in proc.stdout
    digests = sorted(out.glob("*-digest.eml"))
    assert len(digests) == 1, proc.stdout
    message = email.message_from_bytes(digests[0].read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert "DEMO" in str(message["Subject"]).upper()
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    for name in ("Elon Musk", "Sam Altman", "OpenAI", "Ilya Sutskever", "xAI"):
        assert name in text.get_content(), name
        assert name in html.get_content(), name
    # The article without tracked actors stays out of the digest.
    assert "visore" not in text.get_content().lower()
    # A quote with its speaker, as a reader sees it.
    assert "Hanno tradito la missione" in text.get_content()
    assert (out / digests[0].name.replace(".eml", ".html")).exists()


def test_demo_is_repeatable(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-m", "monitor", "demo", "--output", str(out)],
                              capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "5 articles" in proc.stdout
