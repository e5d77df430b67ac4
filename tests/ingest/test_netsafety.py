"""Address checks, the connect-time safe backend and bounded body decoding."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import Callable, Mapping, Sequence

import brotli  # type: ignore[import-untyped]
import httpcore
import pytest

from primenews.errors import BlockedURLError, ConfigError, FetchError
from primenews.ingest.netsafety import (
    DECODE_CHUNK_BYTES,
    AddressPolicy,
    Resolver,
    SafeNetworkBackend,
    address_problem,
    check_url,
    decoder_for,
    parse_ip_literal,
)

from publisher import brotli_bomb, gzip_bomb

STRICT = AddressPolicy()

# host as written in a URL -> the reason it is refused
SSRF_MATRIX = [
    ("127.0.0.1", "a loopback address"),
    ("127.255.255.254", "a loopback address"),
    ("10.0.0.1", "a private address"),
    ("10.255.255.255", "a private address"),
    ("172.16.0.1", "a private address"),
    ("172.31.255.255", "a private address"),
    ("192.168.1.1", "a private address"),
    ("169.254.169.254", "a link-local address"),  # cloud metadata
    ("0.0.0.0", "an unspecified address"),
    ("0", "an unspecified address"),
    ("[::1]", "a loopback address"),
    ("[::]", "an unspecified address"),
    ("[fe80::1]", "a link-local address"),
    ("[fe80::1%25eth0]", "a link-local address"),
    ("[fc00::1]", "a private address"),
    ("[fd12:3456::1]", "a private address"),
    ("[::ffff:127.0.0.1]", "a loopback address"),
    ("[::ffff:10.0.0.1]", "a private address"),
    ("[::ffff:169.254.169.254]", "a link-local address"),
    ("[2002:7f00:1::]", "a loopback address"),  # 6to4 around 127.0.0.1
    ("[64:ff9b::a00:1]", "a private address"),  # NAT64 around 10.0.0.1
    ("2130706433", "a loopback address"),  # decimal 127.0.0.1
    ("0x7f000001", "a loopback address"),  # hex
    ("017700000001", "a loopback address"),  # octal
    ("127.1", "a loopback address"),  # short form
    ("0x7f.1", "a loopback address"),
    ("0177.1", "a loopback address"),
    ("127.0.0.1.", "a loopback address"),  # trailing dot
    ("3232235777", "a private address"),  # 192.168.1.1
    ("224.0.0.1", "a multicast address"),
    ("[ff02::1]", "a multicast address"),
    ("255.255.255.255", "a broadcast address"),
    ("100.64.0.1", "a shared (carrier-grade NAT) address"),
    ("240.0.0.1", "a reserved address"),
    ("192.0.2.1", "a special-purpose (non-public) address"),  # documentation range
]

PUBLIC_HOSTS = [
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "[2606:4700:4700::1111]",
    "[::ffff:8.8.8.8]",
    "[64:ff9b::808:808]",
    "134744072",  # 8.8.8.8 spelled as one number is still public
    "example.com",  # names pass here: checked after DNS, at connect time
    "10.example.com",
]


@pytest.mark.parametrize(("host", "reason"), SSRF_MATRIX)
def test_check_url_refuses_non_public_addresses(host: str, reason: str) -> None:
    url = f"http://{host}/latest.xml"
    with pytest.raises(BlockedURLError) as caught:
        check_url(url, STRICT)
    assert str(caught.value).startswith(f"fetch: {url}: refused, ")
    assert reason in str(caught.value)
    assert caught.value.url == url


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_check_url_lets_public_addresses_and_names_through(host: str) -> None:
    assert check_url(f"https://{host}/feed", STRICT).host


def test_refusal_message_says_what_to_do() -> None:
    with pytest.raises(BlockedURLError) as caught:
        check_url("http://10.0.0.1/y", STRICT)
    assert str(caught.value) == (
        "fetch: http://10.0.0.1/y: refused, 10.0.0.1 is a private address "
        "(set PRIMENEWS_ALLOW_PRIVATE_NETWORKS=true to allow)"
    )


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/feed.xml",
        "gopher://example.com/",
        "javascript:alert(1)",
        "data:text/plain,hi",
        "example.com/feed.xml",
        "http:///no-host",
    ],
)
def test_check_url_refuses_other_schemes_and_hostless_urls(url: str) -> None:
    with pytest.raises(BlockedURLError, match="refused"):
        check_url(url, STRICT)


@pytest.mark.parametrize("url", ["http://[::1/", "http://0177.0.0.01/", "http://a\x00b/"])
def test_check_url_reports_unparsable_urls_as_fetch_errors(url: str) -> None:
    # httpx refuses a dotted quad with leading zeros outright: never fetched either way.
    with pytest.raises(FetchError, match="not a valid URL"):
        check_url(url, STRICT)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.258", "10.1.1.2"),
        ("0xFFFFFFFF", "255.255.255.255"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("example.com", None),
        ("08.0.0.1", None),  # 08 is no octal number: a name
        ("1.2.3.4.5", None),
        ("256.1.1.1", None),
        ("4294967296", None),
        ("0x-1", None),
        ("1_0.0.0.1", None),
        ("", None),
    ],
)
def test_parse_ip_literal_reads_inet_aton_spellings(host: str, expected: str | None) -> None:
    parsed = parse_ip_literal(host)
    assert (None if parsed is None else str(parsed)) == expected


def test_allow_private_networks_lifts_all_but_unusable_addresses() -> None:
    policy = AddressPolicy(allow_private_networks=True)
    for host in ("127.0.0.1", "10.0.0.1", "[::1]", "169.254.169.254", "100.64.0.1"):
        check_url(f"http://{host}/", policy)
    for host in ("0.0.0.0", "224.0.0.1", "255.255.255.255", "[::]"):
        with pytest.raises(BlockedURLError):
            check_url(f"http://{host}/", policy)


def test_allowlist_admits_networks_and_host_names() -> None:
    policy = AddressPolicy.from_allowlist(["10.1.0.0/16", " intranet.example. ", "", "::1"])
    check_url("http://10.1.2.3/", policy)
    check_url("http://[::ffff:10.1.2.3]/", policy)
    check_url("http://[::1]/", policy)
    assert policy.refusal(parse_ip_literal("192.168.0.1"), "Intranet.Example") is None  # type: ignore[arg-type]
    with pytest.raises(BlockedURLError):
        check_url("http://10.2.0.1/", policy)
    with pytest.raises(ConfigError, match="10.0.0.0/33"):
        AddressPolicy.from_allowlist(["10.0.0.0/33"])


def test_address_problem_is_none_for_public_addresses() -> None:
    for text in ("8.8.8.8", "2606:4700:4700::1111"):
        literal = parse_ip_literal(text)
        assert literal is not None and address_problem(literal) is None


def _resolver(table: Mapping[str, Sequence[str]]) -> Resolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]

    return resolve


def _connect(backend: SafeNetworkBackend, host: str, timeout: float = 1.0) -> None:
    async def go() -> None:
        stream = await backend.connect_tcp(host, 80, timeout=timeout)
        await stream.aclose()

    asyncio.run(go())


def test_backend_refuses_a_name_that_resolves_to_a_private_address() -> None:
    backend = SafeNetworkBackend(STRICT, resolver=_resolver({"rebind.test": ["127.0.0.1"]}))
    with pytest.raises(BlockedURLError, match=r"rebind\.test resolves to 127\.0\.0\.1, which is a"):
        _connect(backend, "rebind.test")


def test_backend_refuses_when_any_resolved_address_is_private() -> None:
    table = {"mixed.test": ["93.184.216.34", "::ffff:10.0.0.1"]}
    backend = SafeNetworkBackend(STRICT, resolver=_resolver(table))
    with pytest.raises(BlockedURLError, match="private address"):
        _connect(backend, "mixed.test")


def test_backend_checks_literal_spellings_without_dns() -> None:
    backend = SafeNetworkBackend(STRICT, resolver=_resolver({}))
    with pytest.raises(BlockedURLError, match="127.0.0.1 is a loopback"):
        _connect(backend, "2130706433")


def test_backend_turns_lookup_failures_into_connect_errors() -> None:
    backend = SafeNetworkBackend(STRICT, resolver=_resolver({}))
    with pytest.raises(httpcore.ConnectError, match="cannot resolve nowhere.test"):
        _connect(backend, "nowhere.test")

    async def slow(host: str, port: int) -> Sequence[str]:
        await asyncio.sleep(5)
        return []

    with pytest.raises(httpcore.ConnectTimeout):
        _connect(SafeNetworkBackend(STRICT, resolver=slow), "slow.test", timeout=0.05)


def _decode_all(encoding: str, data: bytes, step: int = 4096) -> list[bytes]:
    decode = decoder_for(encoding)
    chunks = [data[start : start + step] for start in range(0, len(data), step)]
    return [piece for chunk in chunks for piece in decode(chunk)]


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
        ("", bytes),
        ("identity", bytes),
        ("gzip, br", lambda data: brotli.compress(gzip.compress(data))),
    ],
)
def test_decoders_round_trip_in_bounded_pieces(encoding: str, encode: object) -> None:
    original = bytes(range(256)) * 4000 + bytes(3_000_000)
    pieces = _decode_all(encoding, encode(original))  # type: ignore[operator]
    assert b"".join(pieces) == original
    if encoding not in ("", "identity"):
        assert max(len(piece) for piece in pieces) <= 2 * DECODE_CHUNK_BYTES


@pytest.mark.parametrize(("encoding", "make_bomb"), [("gzip", gzip_bomb), ("br", brotli_bomb)])
def test_a_whole_bomb_in_one_chunk_still_comes_out_in_small_pieces(
    encoding: str, make_bomb: Callable[[int], bytes]
) -> None:
    pieces = decoder_for(encoding)(make_bomb(200_000_000))
    sizes = [len(next(pieces)) for _ in range(10)]
    assert all(0 < size <= 2 * DECODE_CHUNK_BYTES for size in sizes)


def test_gzip_decoder_reads_every_member() -> None:
    data = gzip.compress(b"first ") + gzip.compress(b"second")
    assert b"".join(_decode_all("gzip", data, step=7)) == b"first second"


@pytest.mark.parametrize(("encoding", "data"), [("gzip", b"not gzip at all"), ("br", b"\xff" * 40)])
def test_corrupt_bodies_raise_fetch_errors(encoding: str, data: bytes) -> None:
    with pytest.raises(FetchError, match=f"cannot decode {encoding}"):
        _decode_all(encoding, data)


def test_unknown_encodings_are_refused() -> None:
    with pytest.raises(FetchError, match="'zstd'"):
        decoder_for("zstd")
