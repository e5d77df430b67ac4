"""The fetcher against a real HTTP server on 127.0.0.1 (no mocks of our own code)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from primenews.config import load_settings
from primenews.domain import Page
from primenews.errors import (
    BlockedURLError,
    ConfigError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    ResponseTooLargeError,
)
from primenews.ingest.fetch import Fetcher, FetchOptions, fetch_once
from primenews.ingest.netsafety import SafeTransport

from publisher import PublisherServer, Route, brotli_bomb, gzip_bomb, repeat_chunks

LOCAL = FetchOptions(
    allow_private_networks=True,  # the publisher lives on 127.0.0.1
    per_host_delay_ms=0,
    backoff_base_seconds=0.01,
    connect_timeout_seconds=2,
    read_timeout_seconds=2,
    total_timeout_seconds=5,
)
# Refuses private addresses, but trusts the name "publisher.test" (our fake DNS -> 127.0.0.1).
STRICT = replace(LOCAL, allow_private_networks=False, allowlist=("publisher.test",))
FAKE_DNS = {name: ["127.0.0.1"] for name in ("publisher.test", "other.test", "rebind.test")}


async def fake_resolver(host: str, port: int) -> Sequence[str]:
    if host not in FAKE_DNS:
        raise OSError(f"unknown test host {host}")
    return FAKE_DNS[host]


async def _fetch_many(options: FetchOptions, urls: Sequence[str], **kwargs: Any) -> list[Page]:
    async with Fetcher(options, resolver=fake_resolver) as fetcher:
        return list(await asyncio.gather(*(fetcher.fetch(url, **kwargs) for url in urls)))


def get(url: str, options: FetchOptions = LOCAL, **kwargs: Any) -> Page:
    return asyncio.run(_fetch_many(options, [url], **kwargs))[0]


def test_200_page_with_body_and_lower_case_headers(publisher: PublisherServer) -> None:
    url = publisher.add("/feed.xml", b"<rss/>", headers={"Content-Type": "application/rss+xml"})
    page = get(url)
    assert (page.status, page.content, page.url, page.final_url) == (200, b"<rss/>", url, url)
    assert page.content_type == "application/rss+xml"
    assert all(name == name.lower() for name in page.headers)
    assert page.elapsed_ms > 0 and page.fetched_at.tzinfo is not None
    seen = publisher.requests_to("/feed.xml")[0]
    assert seen.header("user-agent") == LOCAL.user_agent
    assert seen.header("accept-encoding") == "gzip, br"
    assert seen.header("if-none-match") is None


def test_304_when_the_etag_still_matches(publisher: PublisherServer) -> None:
    url = publisher.add("/feed.xml", b"<rss/>", etag='"v1"')
    first = get(url)
    again = get(url, etag=first.etag)
    assert first.etag == '"v1"'
    assert again.not_modified and again.content == b"" and again.etag == '"v1"'
    assert publisher.requests_to("/feed.xml")[1].header("if-none-match") == '"v1"'


def test_304_when_not_modified_since(publisher: PublisherServer) -> None:
    stamp = "Wed, 01 May 2024 10:00:00 GMT"
    url = publisher.add("/feed.xml", b"<rss/>", last_modified=stamp)
    assert get(url).last_modified == stamp
    assert get(url, last_modified=stamp).status == 304
    assert get(url, last_modified="Tue, 30 Apr 2024 10:00:00 GMT").status == 200


def test_redirects_are_followed_to_the_final_url(publisher: PublisherServer) -> None:
    publisher.redirect("/old", "/moved", status=301)
    publisher.redirect("/moved", publisher.url("/feed.xml"), status=307)
    publisher.add("/feed.xml", b"here")
    page = get(publisher.url("/old"))
    assert page.content == b"here"
    assert page.url == publisher.url("/old") and page.final_url == publisher.url("/feed.xml")


def test_redirect_count_is_limited(publisher: PublisherServer) -> None:
    publisher.redirect("/loop", "/loop")
    with pytest.raises(FetchError, match="more than 2 redirects"):
        get(publisher.url("/loop"), replace(LOCAL, max_redirects=2))
    assert len(publisher.requests_to("/loop")) == 3


def test_redirect_to_a_loopback_address_is_refused(publisher: PublisherServer) -> None:
    # The first hop is allowed (allowlisted name); its redirect to 127.0.0.1 is not.
    publisher.redirect("/go", publisher.url("/secret"))
    publisher.add("/secret", b"internal")
    with pytest.raises(BlockedURLError) as caught:
        get(publisher.url("/go", host="publisher.test"), STRICT)
    message = str(caught.value)
    assert "127.0.0.1 is a loopback address" in message and "redirected from" in message
    assert len(publisher.requests_to("/go")) == 1 and not publisher.requests_to("/secret")


def test_redirect_to_a_name_resolving_to_loopback_is_refused(publisher: PublisherServer) -> None:
    publisher.redirect("/go", publisher.url("/secret", host="rebind.test"))
    with pytest.raises(BlockedURLError, match=r"rebind\.test resolves to 127\.0\.0\.1"):
        get(publisher.url("/go", host="publisher.test"), STRICT)
    assert not publisher.requests_to("/secret")


def test_redirect_to_file_scheme_is_refused(publisher: PublisherServer) -> None:
    publisher.redirect("/go", "file:///etc/passwd")
    with pytest.raises(BlockedURLError, match="scheme 'file' is not http or https"):
        get(publisher.url("/go"))


def test_dns_rebinding_is_caught_at_connect_time(publisher: PublisherServer) -> None:
    publisher.add("/feed.xml", b"internal")
    with pytest.raises(BlockedURLError) as caught:
        get(publisher.url("/feed.xml", host="rebind.test"), STRICT)
    assert str(caught.value).startswith(f"fetch: {publisher.url('/feed.xml', host='rebind.test')}")
    assert "PRIMENEWS_ALLOW_PRIVATE_NETWORKS=true" in str(caught.value)
    assert publisher.requests == []  # not even robots.txt got through


def test_private_literal_is_refused_before_any_request(publisher: PublisherServer) -> None:
    with pytest.raises(BlockedURLError, match="loopback"):
        get(publisher.url("/"), STRICT)
    assert publisher.requests == []


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate"])
def test_compressed_bodies_are_decoded(publisher: PublisherServer, encoding: str) -> None:
    body = b"<p>news</p>" * 10_000
    page = get(publisher.add("/page", body, encoding=encoding))
    assert page.content == body
    assert page.headers["content-encoding"] == encoding


@pytest.mark.parametrize(("encoding", "make_bomb"), [("gzip", gzip_bomb), ("br", brotli_bomb)])
def test_decompression_bomb_stops_at_the_cap(
    publisher: PublisherServer, encoding: str, make_bomb: Any
) -> None:
    bomb = make_bomb(1 << 30)  # 1 GiB of zeros
    pieces = [bomb[start : start + 65536] for start in range(0, len(bomb), 65536)]
    # Sent chunked, with no Content-Length to refuse it by: the decoder must stop it.
    url = publisher.add("/bomb", chunks=lambda: pieces, headers={"Content-Encoding": encoding})
    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLargeError, match="over the 1000000-byte cap .decoded."):
            get(url, replace(LOCAL, max_bytes=1_000_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000


def test_content_length_over_the_cap_is_refused_unread(publisher: PublisherServer) -> None:
    url = publisher.add("/big", chunks=repeat_chunks(b"x" * 65536), content_length=10**9)
    with pytest.raises(ResponseTooLargeError, match="Content-Length 1000000000"):
        get(url, replace(LOCAL, max_bytes=1_000_000))


def test_streamed_body_over_the_cap_is_cut(publisher: PublisherServer) -> None:
    url = publisher.add("/huge", chunks=repeat_chunks(b"x" * 65536, 1000))  # chunked, no length
    with pytest.raises(ResponseTooLargeError):
        get(url, replace(LOCAL, max_bytes=200_000))


def test_trickling_server_is_stopped_by_the_total_deadline(publisher: PublisherServer) -> None:
    url = publisher.add("/slow", chunks=repeat_chunks(b"."), chunk_delay_seconds=0.02)
    started = time.monotonic()
    with pytest.raises(FetchTimeoutError, match="total deadline"):
        get(url, replace(LOCAL, total_timeout_seconds=0.5, retries=0))
    assert time.monotonic() - started < 3


def test_read_timeout(publisher: PublisherServer) -> None:
    url = publisher.add("/stuck", b"late", delay_seconds=1.0)
    with pytest.raises(FetchTimeoutError, match="ReadTimeout"):
        get(url, replace(LOCAL, read_timeout_seconds=0.2, retries=0), robots=False)


def test_503_then_200_is_retried(publisher: PublisherServer) -> None:
    url = publisher.add_sequence("/flaky", [Route(status=503), Route(b"ok")])
    assert get(url).content == b"ok"
    assert len(publisher.requests_to("/flaky")) == 2


def test_5xx_gives_up_after_the_retries(publisher: PublisherServer) -> None:
    url = publisher.add("/down", status=502)
    with pytest.raises(HTTPStatusError) as caught:
        get(url, replace(LOCAL, retries=2))
    assert caught.value.status == 502 and caught.value.retryable
    assert len(publisher.requests_to("/down")) == 3


def test_404_is_not_retried(publisher: PublisherServer) -> None:
    url = publisher.add("/gone", status=404)
    with pytest.raises(HTTPStatusError, match="HTTP 404 Not Found") as caught:
        get(url)
    assert caught.value.status == 404 and not caught.value.retryable
    assert len(publisher.requests_to("/gone")) == 1


def test_429_honours_retry_after_up_to_the_cap(publisher: PublisherServer) -> None:
    url = publisher.add_sequence(
        "/busy", [Route(status=429, headers={"Retry-After": "0"}), Route(b"ok")]
    )
    assert get(url).content == b"ok"
    publisher.add("/later", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(HTTPStatusError) as caught:
        get(publisher.url("/later"))
    assert caught.value.status == 429
    assert len(publisher.requests_to("/later")) == 1  # an hour is over the cap: no hammering


def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError, match="connection failed") as caught:
        get(f"http://127.0.0.1:{port}/", robots=False)
    assert type(caught.value) is FetchError


def test_robots_txt_disallow_is_respected(publisher: PublisherServer) -> None:
    publisher.add("/robots.txt", b"User-agent: PrimeNews\nDisallow: /private\n")
    publisher.add("/private/a", b"no")
    publisher.add("/public", b"yes")
    with pytest.raises(BlockedURLError, match="refused by robots.txt for PrimeNews"):
        get(publisher.url("/private/a"))
    assert not publisher.requests_to("/private/a")
    pages = asyncio.run(_fetch_many(LOCAL, [publisher.url("/public")] * 3))
    assert [page.content for page in pages] == [b"yes"] * 3
    assert len(publisher.requests_to("/robots.txt")) == 2  # once per Fetcher, cached after


def test_robots_can_be_skipped(publisher: PublisherServer) -> None:
    publisher.add("/robots.txt", b"User-agent: *\nDisallow: /\n")
    publisher.add("/feed", b"ok")
    assert get(publisher.url("/feed"), robots=False).content == b"ok"
    assert get(publisher.url("/feed"), replace(LOCAL, respect_robots=False)).content == b"ok"
    assert not publisher.requests_to("/robots.txt")


def test_robots_server_error_allows_the_fetch(publisher: PublisherServer) -> None:
    publisher.add("/robots.txt", status=500)
    publisher.add("/feed", b"ok")
    assert get(publisher.url("/feed"), replace(LOCAL, retries=0)).content == b"ok"


def test_per_host_concurrency_is_never_exceeded(publisher: PublisherServer) -> None:
    publisher.add("/slow", b"ok", delay_seconds=0.15)
    options = replace(LOCAL, per_host_concurrency=2)
    asyncio.run(_fetch_many(options, [publisher.url("/slow")] * 6, robots=False))
    assert publisher.max_in_flight == 2


def test_global_concurrency_spans_hosts(publisher: PublisherServer) -> None:
    publisher.add("/slow", b"ok", delay_seconds=0.1)
    urls = [publisher.url("/slow", host=host) for host in ("publisher.test", "other.test")] * 2
    asyncio.run(_fetch_many(replace(LOCAL, concurrency=1), urls, robots=False))
    assert publisher.max_in_flight == 1


def test_per_host_delay_spaces_request_starts(publisher: PublisherServer) -> None:
    url = publisher.add("/feed", b"ok")

    async def warm_then_burst() -> None:
        options = replace(LOCAL, per_host_delay_ms=200, per_host_concurrency=4)
        async with Fetcher(options) as fetcher:
            await fetcher.fetch(url, robots=False)  # the first connection's set-up is slow
            await asyncio.gather(*(fetcher.fetch(url, robots=False) for _ in range(3)))

    asyncio.run(warm_then_burst())
    starts = [request.at for request in publisher.requests_to("/feed")][1:]
    # Three starts 200 ms apart span 400 ms. The server notes arrivals, which a busy
    # machine can delay and bunch one by one, but never bring forward: check the span.
    assert len(starts) == 3 and starts[-1] - starts[0] >= 0.3


def _fetch_tls(site: PublisherServer, url: str) -> Page:
    async def run() -> Page:
        options = replace(STRICT, allowlist=("publisher.test", "other.test"))
        trust = ssl.create_default_context(cafile=site.ca_file)
        transport = SafeTransport(options.policy, resolver=fake_resolver, verify=trust)
        async with Fetcher(options, transport=transport) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(run())


def test_https_connects_to_the_vetted_ip_and_still_verifies_the_name(
    tls_publisher: PublisherServer,
) -> None:
    tls_publisher.add("/feed", b"secure")
    assert _fetch_tls(tls_publisher, tls_publisher.url("/feed", host="publisher.test")).content == (
        b"secure"
    )
    # Same address, a name the certificate does not carry: TLS refuses it.
    with pytest.raises(FetchError, match="connection failed.*certificate"):
        _fetch_tls(tls_publisher, tls_publisher.url("/feed", host="other.test"))


def test_unknown_content_encoding_is_a_fetch_error(publisher: PublisherServer) -> None:
    url = publisher.add("/odd", b"????", headers={"Content-Encoding": "zstd"})
    with pytest.raises(FetchError, match="cannot decode content-encoding 'zstd'"):
        get(url)


def test_fetch_once_for_synchronous_callers(publisher: PublisherServer) -> None:
    assert fetch_once(publisher.add("/feed", b"ok"), LOCAL).content == b"ok"


def test_options_from_settings(tmp_path: Path) -> None:
    config = tmp_path / "primenews.toml"
    config.write_text("fetch_max_bytes = 2048\nallow_private_networks = true\n")
    options = FetchOptions.from_settings(
        load_settings(config_file=config, environ={}), allowlist=["10.0.0.0/8"]
    )
    assert options.max_bytes == 2048 and options.allow_private_networks
    assert options.allowlist == ("10.0.0.0/8",) and options.per_host_concurrency == 2
    with pytest.raises(ConfigError):
        FetchOptions(allowlist=("300.0.0.0/8",))
