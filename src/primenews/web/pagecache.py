"""Rendered public pages kept for a few seconds: a busy front page is rendered once per TTL.

Only pages that look the same to every reader go through it (front and
section pages); what changed within the TTL shows on the next render, and
live updates (SSE) tell open pages sooner.

``PageCacheMiddleware`` answers a cached page before routing, dependencies and
the template engine run (a hit costs a dictionary lookup and one write), with
a precompressed gzip body for clients that accept it and an ETag for
``If-None-Match``. When a page is past its TTL, one request renders it again
while the others are answered with the page they would have got a moment
earlier ("stale while revalidate"): no reader waits for a render that another
is already doing, so the latency tail stays flat under load.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

DEFAULT_TTL_SECONDS = 3.0
# Past the TTL a page is still answered while another request renders it again,
# but never when older than this (a render that hangs must not freeze the page).
MAX_STALE_SECONDS = 30.0
MAX_ENTRIES = 256  # distinct URLs (pages of cursors, sources) kept at once
GZIP_LEVEL = 6  # once per render; 118 KB of HTML becomes ~20 KB in ~1 ms


@dataclass(frozen=True, slots=True)
class CachedPage:
    stored: float  # time.monotonic() when rendered
    body: bytes
    gzipped: bytes
    etag: str


class PageCache:
    """URL -> rendered body, each kept ``ttl`` seconds, least recently used dropped first."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        max_stale: float = MAX_STALE_SECONDS,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_stale = max_stale
        self._lock = threading.Lock()
        self._pages: OrderedDict[str, CachedPage] = OrderedDict()
        self._rendering: set[str] = set()

    def get(self, key: str) -> bytes | None:
        """The body of a fresh page (rendered within the TTL), else None."""
        page, fresh = self.lookup(key)
        return page.body if page is not None and fresh else None

    def lookup(self, key: str) -> tuple[CachedPage | None, bool]:
        """The page kept for ``key`` (None if absent or too old to serve), and if it is fresh."""
        now = time.monotonic()
        with self._lock:
            found = self._pages.get(key)
            if found is None or now - found.stored > self.ttl + self.max_stale:
                return None, False
            self._pages.move_to_end(key)
            return found, now - found.stored <= self.ttl

    def claim(self, key: str) -> bool:
        """True for the one caller that should render ``key`` again (call ``release`` after)."""
        with self._lock:
            if key in self._rendering:
                return False
            self._rendering.add(key)
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._rendering.discard(key)

    def put(self, key: str, body: bytes) -> None:
        if self.ttl <= 0:
            return
        # Compressed and hashed outside the lock, once per render rather than per reader.
        page = CachedPage(
            time.monotonic(),
            body,
            gzip.compress(body, GZIP_LEVEL, mtime=0),
            '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"',
        )
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)


def cache_key(path: str, query: str) -> str:
    """The key routes and the middleware agree on (``request.url.path``, ``.query``)."""
    return f"{path}?{query}"


class PageCacheMiddleware:
    """Answer GET and HEAD requests for cached pages without running the app.

    A page is in the cache only if its route put it there (``pages.cached_page``),
    so this serves nothing the routes did not choose to share between readers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        # Looked up per request: the app's cache may be swapped (settings, tests).
        cache: PageCache = scope["app"].state.page_cache
        key = cache_key(scope["path"], scope["query_string"].decode("latin-1"))
        page, fresh = cache.lookup(key)
        if page is not None and (fresh or not cache.claim(key)):
            await _send_page(scope, send, page)
            return
        if page is None:  # nothing to serve meanwhile: render (concurrent misses each do)
            await self.app(scope, receive, send)
            return
        try:  # this request renders the stale page again; the route stores it
            await self.app(scope, receive, send)
        finally:
            cache.release(key)


async def _send_page(scope: Scope, send: Send, page: CachedPage) -> None:
    headers = dict(_request_headers(scope))
    common = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"etag", page.etag.encode()),
        (b"vary", b"Accept-Encoding"),
    ]
    if page.etag in headers.get("if-none-match", ""):
        await send({"type": "http.response.start", "status": 304, "headers": common})
        await send({"type": "http.response.body", "body": b""})
        return
    gzipped = "gzip" in headers.get("accept-encoding", "")
    body = page.gzipped if gzipped else page.body
    common.append((b"content-length", str(len(body)).encode()))
    if gzipped:
        common.append((b"content-encoding", b"gzip"))
    await send({"type": "http.response.start", "status": 200, "headers": common})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def _request_headers(scope: Scope) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in scope["headers"]
        if name in (b"if-none-match", b"accept-encoding")
    ]
