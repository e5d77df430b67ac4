"""Network safety: which addresses we connect to, and bodies that cannot explode.

* Address checks (``address_problem``, ``AddressPolicy``, ``check_url``) refuse
  non-http(s) schemes and non-public addresses, IPv4 and IPv6, including
  IPv4-mapped/6to4/NAT64 forms and ``inet_aton`` spellings (``2130706433``, ``0x7f.1``).
* ``SafeTransport`` checks again at connect time, after its own DNS lookup, and
  connects to the vetted IP (TLS still checks the name): DNS rebinding cannot pass.
* ``read_body`` decodes gzip/deflate/br in bounded steps and stops at the byte cap,
  so a decompression bomb never lands in memory.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import string
import zlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import anyio
import brotli
import httpcore
import httpx

from primenews.errors import BlockedURLError, ConfigError, FetchError, ResponseTooLargeError

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``async (host, port) -> [ip, ...]``: how the backend looks names up (inject a fake in tests)."""

ALLOWED_SCHEMES = frozenset({"http", "https"})
ALLOW_HINT = "set PRIMENEWS_ALLOW_PRIVATE_NETWORKS=true to allow"
DECODE_CHUNK_BYTES = 64 * 1024

_PRIVATE_CIDRS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
_PRIVATE_NETWORKS = tuple(ipaddress.ip_network(cidr) for cidr in _PRIVATE_CIDRS)
_SHARED_NETWORK = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
_NAT64_NETWORK = ipaddress.ip_network("64:ff9b::/96")
_BROADCAST = ipaddress.ip_address("255.255.255.255")
# Never sensible to connect to, whatever the settings say.
_UNUSABLE = frozenset({"an unspecified address", "a multicast address", "a broadcast address"})


def parse_ip_literal(host: str) -> IPAddress | None:
    """The IP address a URL host spells, or None when the host is a name.

    Accepts every IPv4 form ``inet_aton`` does (1 to 4 parts, each decimal,
    ``0x`` hex or ``0``-prefixed octal), because resolvers and browsers do too:
    ``2130706433``, ``0x7f.1`` and ``017700000001`` all mean 127.0.0.1.
    """
    text = unquote(host).strip("[]")
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    return _parse_ipv4_lenient(text[:-1] if text.endswith(".") else text)


def _parse_ipv4_lenient(text: str) -> ipaddress.IPv4Address | None:
    try:
        *head, last = [_parse_inet_number(part) for part in text.split(".")]
    except ValueError:  # a part that is no number: a host name
        return None
    if len(head) > 3 or any(number > 255 for number in head) or last >= 256 ** (4 - len(head)):
        return None
    return ipaddress.IPv4Address(last + sum(n << (24 - 8 * i) for i, n in enumerate(head)))


def _parse_inet_number(part: str) -> int:
    lowered = part.lower()
    digits, base = (lowered[2:], 16) if lowered.startswith("0x") else (lowered, 10)
    if not all(char in string.hexdigits for char in digits) or (base == 10 and not digits):
        raise ValueError(part)  # int() alone would take "+1", " 1" and "1_0"
    if base == 10 and len(digits) > 1 and digits.startswith("0"):
        base = 8
    return int(digits or "0", base)


def _effective(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), else the address itself."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64_NETWORK:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def address_problem(ip: IPAddress) -> str | None:
    """What makes ``ip`` unfit for a public fetch ("a loopback address" ...), or None if public."""
    address = _effective(ip)
    checks: tuple[tuple[bool, str], ...] = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address == _BROADCAST, "a broadcast address"),
        (address in _SHARED_NETWORK, "a shared (carrier-grade NAT) address"),
        (any(address in network for network in _PRIVATE_NETWORKS), "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "a special-purpose (non-public) address"),
    )
    return next((problem for failed, problem in checks if failed), None)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which non-public addresses we may still connect to.

    ``allow_private_networks`` lifts every refusal except unspecified, multicast
    and broadcast addresses; ``allowed_networks`` and ``allowed_hosts`` lift
    them for some internal sources only.
    """

    allow_private_networks: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_allowlist(
        cls, entries: Iterable[str], *, allow_private_networks: bool = False
    ) -> AddressPolicy:
        """Build a policy from entries that are CIDRs/IPs (``10.1.0.0/16``) or host names.

        Raises:
            ConfigError: an entry with a "/" is not a valid network.
        """
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in filter(None, (item.strip() for item in entries)):
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError as err:
                if "/" in entry:
                    raise ConfigError(f"Allowlist entry {entry!r} is not a valid network.") from err
                hosts.add(_normal_host(entry))  # a host name
        return cls(allow_private_networks, tuple(networks), frozenset(hosts))

    def refusal(self, ip: IPAddress, host: str = "") -> str | None:
        """Why connecting to ``ip`` (for ``host``) is refused, or None when it is fine."""
        problem = address_problem(ip)
        if problem is None or problem in _UNUSABLE:
            return problem
        if self.allow_private_networks or _normal_host(host) in self.allowed_hosts:
            return None
        address = _effective(ip)
        if any(address in network or ip in network for network in self.allowed_networks):
            return None
        return f"{problem} ({ALLOW_HINT})"


def _normal_host(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def check_url(url: str, policy: AddressPolicy) -> httpx.URL:
    """Check a URL before any I/O: http(s), a host, no refused IP literal (names pass here).

    Raises:
        BlockedURLError: the scheme or the literal address is refused.
        FetchError: the URL cannot be parsed.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as err:
        raise FetchError(f"fetch: {url}: not a valid URL ({err})", url=url) from err
    if parsed.scheme not in ALLOWED_SCHEMES:
        why = f"scheme {parsed.scheme or '(none)'!r} is not http or https"
        raise BlockedURLError(f"fetch: {url}: refused, {why}", url=url)
    if not parsed.host:
        raise BlockedURLError(f"fetch: {url}: refused, the URL has no host", url=url)
    literal = parse_ip_literal(parsed.host)
    problem = policy.refusal(literal, parsed.host) if literal is not None else None
    if problem:
        raise BlockedURLError(f"fetch: {url}: refused, {literal} is {problem}", url=url)
    return parsed


async def resolve_host(host: str, port: int) -> list[str]:
    """The system resolver: every address ``host`` has, in the resolver's order."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class SafeNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore backend that resolves names itself and connects only to vetted IPs.

    Every address the name resolves to must pass ``policy`` (one bad address
    refuses the host: a public name with a private address is not trusted).
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        resolver: Resolver | None = None,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._policy = policy
        self._resolve = resolver or resolve_host
        self._backend = backend or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._vetted_addresses(host, port, timeout)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._backend.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as err:
                logger.debug("connect to %s (%s) failed: %s", host, address, err)
                failure = err
        raise failure or httpcore.ConnectError(f"{host} has no address")

    async def _vetted_addresses(
        self, host: str, port: int, timeout: float | None
    ) -> list[IPAddress]:
        literal = parse_ip_literal(host)
        addresses = [literal] if literal is not None else await self._lookup(host, port, timeout)
        for address in addresses:
            problem = self._policy.refusal(address, host)
            if problem:
                where = f"{host} resolves to {address}, which" if literal is None else str(address)
                raise BlockedURLError(f"refused, {where} is {problem}")
        return addresses

    async def _lookup(self, host: str, port: int, timeout: float | None) -> list[IPAddress]:
        try:
            with anyio.fail_after(timeout):
                found = await self._resolve(host, port)
            return [ipaddress.ip_address(address) for address in found]
        except TimeoutError as err:
            raise httpcore.ConnectTimeout(f"looking up {host} timed out") from err
        except (OSError, ValueError) as err:
            raise httpcore.ConnectError(f"cannot resolve {host}: {err}") from err

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class SafeTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` over ``SafeNetworkBackend``; never uses proxies.

    httpx 0.28 takes no ``network_backend`` argument, so the connection pool is
    rebuilt after the usual set-up, with the same settings and our backend.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        resolver: Resolver | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        backend = SafeNetworkBackend(policy, resolver=resolver, backend=network_backend)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


Decode = Callable[[bytes], Iterator[bytes]]
"""Turns one raw chunk into decoded pieces of at most about ``DECODE_CHUNK_BYTES`` each."""


def _identity(data: bytes) -> Iterator[bytes]:
    yield data


class _ZlibDecoder:
    """gzip (every member of a multi-member stream) or zlib-wrapped deflate."""

    def __init__(self, name: str, wbits: int) -> None:
        self._name, self._wbits = name, wbits
        self._obj = zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        pending = data
        while True:
            try:
                out = self._obj.decompress(pending, DECODE_CHUNK_BYTES)
            except zlib.error as err:
                raise FetchError(f"cannot decode {self._name} body: {err}") from err
            if out:
                yield out
            pending = self._obj.unconsumed_tail
            if self._obj.eof and self._obj.unused_data and self._name == "gzip":
                pending = self._obj.unused_data  # the next gzip member
                self._obj = zlib.decompressobj(self._wbits)
            elif not pending and len(out) < DECODE_CHUNK_BYTES:
                return


class _BrotliDecoder:
    def __init__(self) -> None:
        self._obj = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            out: bytes = self._obj.process(data, output_buffer_limit=DECODE_CHUNK_BYTES)
            # With a limit, brotli keeps the rest inside: drain it with empty input.
            while out or not self._obj.can_accept_more_data():
                if out:
                    yield out
                out = self._obj.process(b"", output_buffer_limit=DECODE_CHUNK_BYTES)
        except brotli.error as err:
            raise FetchError(f"cannot decode br body: {err}") from err


def _chain(decoders: list[Decode]) -> Decode:
    """Stacked encodings (``gzip, br``), every stage still bounded: generators all the way."""

    def feed(data: bytes, depth: int = 0) -> Iterator[bytes]:
        if depth == len(decoders):
            yield data
            return
        for piece in decoders[depth](data):
            yield from feed(piece, depth + 1)

    return feed


def decoder_for(content_encoding: str) -> Decode:
    """A bounded decoder for a Content-Encoding header (``""``, ``gzip``, ``br``, ``gzip, br`` ...).

    Raises:
        FetchError: an encoding we do not decode (we ask for gzip and br only).
    """
    names = [name.strip().lower() for name in content_encoding.split(",")]
    decoders: list[Decode] = []
    for name in reversed([name for name in names if name not in ("", "identity")]):
        if name in ("gzip", "x-gzip"):
            decoders.append(_ZlibDecoder("gzip", 16 + zlib.MAX_WBITS).feed)
        elif name == "deflate":
            decoders.append(_ZlibDecoder("deflate", zlib.MAX_WBITS).feed)
        elif name == "br":
            decoders.append(_BrotliDecoder().feed)
        else:
            raise FetchError(f"cannot decode content-encoding {name!r}")
    if len(decoders) > 1:
        return _chain(decoders)
    return decoders[0] if decoders else _identity


async def read_body(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    """The decoded body of a streamed response, refused as soon as it passes ``max_bytes``.

    Raises:
        ResponseTooLargeError: Content-Length, raw bytes or decoded bytes over the cap.
        FetchError: an unknown Content-Encoding or a corrupt compressed body.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        why = f"Content-Length {declared} is over the {max_bytes}-byte cap"
        raise ResponseTooLargeError(f"fetch: {url}: {why}", url=url)
    decode = decoder_for(response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    raw_size = size = 0
    async for raw in response.aiter_raw():
        raw_size += len(raw)
        for piece in decode(raw):
            size += len(piece)
            if size > max_bytes:
                break
            parts.append(piece)
        if size > max_bytes or raw_size > max_bytes:
            raise ResponseTooLargeError(
                f"fetch: {url}: body is over the {max_bytes}-byte cap (decoded)", url=url
            )
    return b"".join(parts)
