"""What the tests share, whatever stage they test (tests/ is on sys.path, see tests/conftest.py).

- `support.ingest_server`: the loopback HTTP server (routes, recorded requests, the `ingest_server` fixture).
- `support.smtp_server`: the SMTP sink (aiosmtpd on loopback, TLS/AUTH, injected replies).
- `support.world`: state fixtures: a clock the test owns, RSS bodies, a complete config file, a
  runtime over it (open, run, close), SQLite and message helpers, and the `world` fixture
  (one loopback feed + an SMTP sink + a config pointing at both).
"""
