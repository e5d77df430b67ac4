"""The fetcher: polite, bounded, SSRF-safe HTTP GETs that come back as a ``Page``.

    async with Fetcher(FetchOptions.from_settings(settings)) as fetcher:
        page = await fetcher.fetch(url, etag=source.etag, last_modified=source.last_modified)

Per hop: check the URL (scheme, IP literal), ask robots.txt, take a per-host slot
(concurrency, spacing of starts) then a global one; the address is checked again
after DNS (``netsafety.SafeTransport``); the body is decoded as it streams, capped
at ``max_bytes``, within ``total_timeout_seconds``. 5xx, 429 (Retry-After up to a
cap), timeouts and connection failures are retried with backoff and jitter.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from primenews.domain import Page
from primenews.errors import BlockedURLError, FetchError, FetchTimeoutError, HTTPStatusError
from primenews.ingest.netsafety import AddressPolicy, Resolver, SafeTransport, check_url, read_body
from primenews.ingest.robots import RobotsCache

if TYPE_CHECKING:
    from primenews.config import Settings

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = (
    "PrimeNews/0.1 (self-hosted news reader; +https://github.com/primenews/primenews)"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309 2.5: crawlers must read at least 500 KiB
ROBOTS_HINT = "set PRIMENEWS_RESPECT_ROBOTS_TXT=false to ignore robots.txt"


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """How the fetcher behaves; ``from_settings`` maps the ``fetch_*`` settings onto it.

    ``allowlist`` holds CIDRs (``10.1.0.0/16``) or host names (``intranet.example``)
    that may be private even while ``allow_private_networks`` is off.
    """

    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 20.0
    total_timeout_seconds: float = 60.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    retries: int = 2
    backoff_base_seconds: float = 0.5
    max_retry_after_seconds: float = 120.0
    concurrency: int = 16
    per_host_concurrency: int = 2
    per_host_delay_ms: int = 500
    user_agent: str = DEFAULT_USER_AGENT
    respect_robots: bool = True
    robots_ttl_seconds: float = 3600.0
    allow_private_networks: bool = False
    allowlist: tuple[str, ...] = ()
    policy: AddressPolicy = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Parse the allowlist once, so a bad entry fails when the options are built.
        policy = AddressPolicy.from_allowlist(
            self.allowlist, allow_private_networks=self.allow_private_networks
        )
        object.__setattr__(self, "policy", policy)

    @classmethod
    def from_settings(cls, settings: Settings, *, allowlist: Sequence[str] = ()) -> FetchOptions:
        """The options the settings ask for; ``allowlist`` adds to ``fetch_allowlist``."""
        configured = [item.strip() for item in settings.fetch_allowlist.split(",") if item.strip()]
        return cls(
            connect_timeout_seconds=settings.fetch_connect_timeout_seconds,
            read_timeout_seconds=settings.fetch_read_timeout_seconds,
            total_timeout_seconds=settings.fetch_total_timeout_seconds,
            max_bytes=settings.fetch_max_bytes,
            max_redirects=settings.fetch_max_redirects,
            retries=settings.fetch_retries,
            concurrency=settings.fetch_concurrency,
            per_host_concurrency=settings.fetch_per_host_concurrency,
            per_host_delay_ms=settings.fetch_per_host_delay_ms,
            user_agent=settings.user_agent,
            respect_robots=settings.respect_robots_txt,
            allow_private_networks=settings.allow_private_networks,
            allowlist=(*configured, *allowlist),
        )


@dataclass(frozen=True, slots=True)
class _Ask:
    """What one fetch asks for, carried through the redirect and retry loops."""

    headers: Mapping[str, str]
    robots: bool
    max_bytes: int


@dataclass(frozen=True, slots=True)
class _Reply:
    url: str
    status: int
    reason: str
    headers: dict[str, str]
    content: bytes = b""


@dataclass(slots=True)
class _Host:
    slots: asyncio.Semaphore
    spacing: asyncio.Lock
    last_start: float = float("-inf")


class _Politeness:
    """Per-host concurrency and spacing between request starts, then a global limit."""

    def __init__(self, options: FetchOptions) -> None:
        self._per_host = options.per_host_concurrency
        self._delay = options.per_host_delay_ms / 1000
        self._global = asyncio.Semaphore(options.concurrency)
        self._hosts: dict[str, _Host] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host(asyncio.Semaphore(self._per_host), asyncio.Lock())
        async with state.slots:
            async with state.spacing:
                wait = state.last_start + self._delay - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                state.last_start = time.monotonic()
            async with self._global:
                yield


class Fetcher:
    """Fetches URLs politely and safely. Share one per event loop: it holds the per-host
    politeness state and the robots.txt cache.

    Args:
        options: limits and manners; defaults are ``FetchOptions()``.
        client: an ``httpx.AsyncClient`` to use as is (not closed by ``aclose``). Build
            it on ``SafeTransport``, or the connect-time address check is lost.
        transport: a transport for the client we build (default ``SafeTransport``).
        resolver: DNS for the default ``SafeTransport`` (``async (host, port) -> [ip]``).
    """

    def __init__(
        self,
        options: FetchOptions | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.options = options or FetchOptions()
        self._owns_client = client is None
        self._client = client or self._build_client(transport, resolver)
        self._politeness = _Politeness(self.options)
        self._timeout = httpx.Timeout(
            self.options.read_timeout_seconds, connect=self.options.connect_timeout_seconds
        )
        # Sent per request, so an injected client speaks for us too.
        self._headers = {"User-Agent": self.options.user_agent, "Accept-Encoding": "gzip, br"}
        self._robots = RobotsCache(
            self._fetch_robots, self.options.user_agent, ttl_seconds=self.options.robots_ttl_seconds
        )

    def _build_client(
        self, transport: httpx.AsyncBaseTransport | None, resolver: Resolver | None
    ) -> httpx.AsyncClient:
        transport = transport or SafeTransport(self.options.policy, resolver=resolver)
        return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if we built it."""
        if self._owns_client:
            await self._client.aclose()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        robots: bool = True,
    ) -> Page:
        """GET ``url`` and return the page: a 2xx with its body, or a 304 with none.

        Args:
            url: an http or https URL.
            etag: sent as If-None-Match (a conditional GET).
            last_modified: sent as If-Modified-Since.
            robots: consult robots.txt (when the options also say so).

        Raises:
            BlockedURLError: bad scheme, refused address (also after redirects/DNS), robots.txt.
            ResponseTooLargeError: Content-Length or decoded body over ``max_bytes``.
            FetchTimeoutError: connect, read or total deadline passed (after retries).
            HTTPStatusError: a 4xx/5xx answer (after retries for 5xx and 429).
            FetchError: too many redirects, connection failed, undecodable body.
        """
        conditions = (("If-None-Match", etag), ("If-Modified-Since", last_modified))
        headers = {name: value for name, value in conditions if value}
        use_robots = robots and self.options.respect_robots
        return await self._fetch_page(url, _Ask(headers, use_robots, self.options.max_bytes))

    async def _fetch_robots(self, url: str) -> Page:
        cap = min(ROBOTS_MAX_BYTES, self.options.max_bytes)
        return await self._fetch_page(url, _Ask({}, robots=False, max_bytes=cap))

    async def _fetch_page(self, url: str, ask: _Ask) -> Page:
        fetched_at = datetime.now(UTC)
        started = time.monotonic()
        reply = await self._follow(url, ask)
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.debug(
            "fetch: %s: HTTP %s, %d bytes in %.0f ms",
            url,
            reply.status,
            len(reply.content),
            elapsed_ms,
            extra={"url": url, "elapsed_ms": elapsed_ms},
        )
        return Page(
            url=url,
            final_url=reply.url,
            status=reply.status,
            content=reply.content,
            fetched_at=fetched_at,
            headers=reply.headers,
            elapsed_ms=elapsed_ms,
        )

    async def _follow(self, url: str, ask: _Ask) -> _Reply:
        """Follow redirects ourselves, checking scheme, address and robots.txt at every hop."""
        current = url
        for hop in range(self.options.max_redirects + 1):
            try:
                reply = await self._hop(current, ask)
            except FetchError as err:
                if hop == 0:
                    raise
                raise type(err)(
                    f"{err} (redirected from {url})", url=err.url, status=err.status
                ) from err
            if reply.status not in REDIRECT_STATUSES:
                return reply
            current = _redirect_target(reply)
        why = f"more than {self.options.max_redirects} redirects (next: {current})"
        raise FetchError(f"fetch: {url}: {why}", url=url)

    async def _hop(self, url: str, ask: _Ask) -> _Reply:
        target = check_url(url, self.options.policy)
        if ask.robots and not await self._robots.allowed(url):
            why = f"refused by robots.txt for {self._robots.agent} ({ROBOTS_HINT})"
            raise BlockedURLError(f"fetch: {url}: {why}", url=url)
        return await self._with_retries(target, ask)

    async def _with_retries(self, url: httpx.URL, ask: _Ask) -> _Reply:
        for attempt in range(self.options.retries + 1):
            last_try = attempt == self.options.retries
            delay: float | None
            try:
                reply = await self._attempt(url, ask)
            except FetchError as err:
                if last_try or not _retryable(err):
                    raise
                delay, why = self._backoff(attempt), str(err)
            else:
                if not (reply.status >= 500 or reply.status == 429):
                    return _checked(reply)
                delay, why = (
                    self._status_delay(attempt, reply),
                    f"fetch: {url}: HTTP {reply.status}",
                )
                if last_try or delay is None:
                    raise _status_error(reply)
            logger.info(  # why names the URL, as the error will if the retries run out
                "%s; retry %d of %d in %.2f s",
                why,
                attempt + 1,
                self.options.retries,
                delay,
                extra={"url": str(url)},
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _backoff(self, attempt: int) -> float:
        # Exponential with "equal jitter": half fixed, half random, so clients spread out.
        step = self.options.backoff_base_seconds * 2.0**attempt
        return step / 2 + random.uniform(0, step / 2)

    def _status_delay(self, attempt: int, reply: _Reply) -> float | None:
        """Retry-After when given (None if over the cap: give up), else the backoff."""
        retry_after = _retry_after_seconds(reply.headers.get("retry-after", ""))
        if retry_after is None:
            return self._backoff(attempt)
        return retry_after if retry_after <= self.options.max_retry_after_seconds else None

    async def _attempt(self, url: httpx.URL, ask: _Ask) -> _Reply:
        """One request: politeness slot, total deadline, errors turned into our family."""
        where, total = str(url), self.options.total_timeout_seconds
        try:  # the deadline starts once we hold a slot: polite queueing is not the server's fault
            async with self._politeness.slot(url.host):
                async with asyncio.timeout(total):
                    return await self._request(url, ask)
        except httpx.TimeoutException as err:
            kind = type(err).__name__
            raise FetchTimeoutError(f"fetch: {where}: timed out ({kind})", url=where) from err
        except TimeoutError as err:
            why = f"no complete answer within {total:g} s (total deadline)"
            raise FetchTimeoutError(f"fetch: {where}: {why}", url=where) from err
        except httpx.HTTPError as err:
            raise FetchError(f"fetch: {where}: connection failed: {err}", url=where) from err
        except FetchError as err:
            if err.url:
                raise
            # Raised below httpx (address check at connect, body decoding): add the URL.
            raise type(err)(f"fetch: {where}: {err}", url=where, status=err.status) from err

    async def _request(self, url: httpx.URL, ask: _Ask) -> _Reply:
        async with self._client.stream(
            "GET",
            url,
            headers={**self._headers, **ask.headers},
            timeout=self._timeout,
            follow_redirects=False,
        ) as response:
            reply = _Reply(
                url=str(response.url),
                status=response.status_code,
                reason=response.reason_phrase,
                headers={key.lower(): value for key, value in response.headers.items()},
            )
            if not 200 <= reply.status < 300:
                return reply  # redirects, 304 and errors: the body is not wanted
            return replace(reply, content=await read_body(response, reply.url, ask.max_bytes))


def _redirect_target(reply: _Reply) -> str:
    location = reply.headers.get("location", "").strip()
    if not location:
        raise FetchError(f"fetch: {reply.url}: HTTP {reply.status}, no Location", url=reply.url)
    try:
        return str(httpx.URL(reply.url).join(location))
    except httpx.InvalidURL as err:
        raise FetchError(
            f"fetch: {reply.url}: redirect to an invalid URL {location!r}", url=reply.url
        ) from err


def _checked(reply: _Reply) -> _Reply:
    if 200 <= reply.status < 300 or reply.status == 304 or reply.status in REDIRECT_STATUSES:
        return reply
    raise _status_error(reply)


def _status_error(reply: _Reply) -> HTTPStatusError:
    message = f"fetch: {reply.url}: HTTP {reply.status} {reply.reason}".rstrip()
    retry_after = _retry_after_seconds(reply.headers.get("retry-after", ""))
    return HTTPStatusError(
        message, url=reply.url, status=reply.status, retry_after_seconds=retry_after
    )


def _retryable(err: FetchError) -> bool:
    """Timeouts and connection failures are worth another try; refusals and caps are not."""
    if isinstance(err, FetchTimeoutError):
        return True
    return type(err) is FetchError and isinstance(err.__cause__, httpx.TransportError)


def _retry_after_seconds(value: str) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None if absent or bad."""
    value = value.strip()
    if not value or value.isdigit():
        return float(value) if value else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def fetch_once(
    url: str,
    options: FetchOptions | None = None,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Page:
    """Fetch one URL from synchronous code (the CLI): ``asyncio.run`` around ``Fetcher.fetch``.

    Not for use inside a running event loop; raises the same errors as ``Fetcher.fetch``.
    """

    async def run() -> Page:
        async with Fetcher(options) as fetcher:
            return await fetcher.fetch(url, etag=etag, last_modified=last_modified)

    return asyncio.run(run())
