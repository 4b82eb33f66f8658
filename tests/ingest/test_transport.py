"""Feeds over HTTPS through the transport: certificates are checked, errors say why."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
import trustme
from support.ingest_server import IngestServer, Route

from monitor.config.types import PollingConfig
from monitor.errors import FetchError
from monitor.ingest.fetch import Fetcher
from monitor.ingest.transport import ReqwestTransport
from monitor.service.runtime import utc_now

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _https_server(ca: trustme.CA, *names: str) -> IngestServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return IngestServer({"/feed.xml": Route(body=FEED)}, tls=context).start()


@pytest.fixture
def server(ca: trustme.CA) -> Iterator[IngestServer]:
    started = _https_server(ca, "127.0.0.1")
    yield started
    started.close()


def _trusting(ca: trustme.CA, polling: PollingConfig) -> ReqwestTransport:
    return ReqwestTransport(polling.concurrency, extra_ca_pem=ca.cert_pem.bytes())


async def test_a_certificate_from_a_trusted_authority_is_accepted(ca: trustme.CA, server: IngestServer) -> None:
    polling = PollingConfig(timeout_seconds=5)
    async with Fetcher(polling, _trusting(ca, polling), clock=utc_now) as fetcher:
        result = await fetcher.fetch(server.url("/feed.xml"))
    assert result.status == 200 and result.body == FEED


async def test_an_untrusted_certificate_is_refused_with_the_reason(server: IngestServer) -> None:
    async with Fetcher(PollingConfig(timeout_seconds=5), clock=utc_now) as fetcher:  # the default trust store
        with pytest.raises(FetchError, match=r"127\.0\.0\.1.*ConnectError: invalid peer certificate: UnknownIssuer"):
            await fetcher.fetch(server.url("/feed.xml"))
    assert server.hits("/feed.xml") == []  # nothing was sent over the unverified connection


async def test_a_certificate_for_another_host_is_refused(ca: trustme.CA) -> None:
    other = _https_server(ca, "feeds.example.it")
    try:
        polling = PollingConfig(timeout_seconds=5)
        async with Fetcher(polling, _trusting(ca, polling), clock=utc_now) as fetcher:
            with pytest.raises(FetchError, match='certificate not valid for name "127.0.0.1"'):
                await fetcher.fetch(other.url("/feed.xml"))
    finally:
        other.close()
