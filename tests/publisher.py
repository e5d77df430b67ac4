"""A small "publisher" web server on 127.0.0.1 for tests that need real HTTP.

    with PublisherServer() as site:
        site.add("/feed.xml", b"<rss/>", headers={"Content-Type": "application/rss+xml"},
                 etag='"v1"', last_modified="Wed, 01 May 2024 10:00:00 GMT")
        site.redirect("/old", "/feed.xml")
        site.add_sequence("/flaky", [Route(status=503), Route(b"ok")])
        page = fetch_once(site.url("/old"), options)
        assert [r.path for r in site.requests] == ["/robots.txt", "/old", "/feed.xml"]

Each path answers with a ``Route`` (status, headers, body or a stream of chunks,
on-the-fly gzip/br/deflate, ETag/Last-Modified with 304 on a matching
conditional GET, a delay before answering and between chunks). Unknown paths
(so /robots.txt unless added) get 404. Every request is logged in
``requests``; ``max_in_flight`` is the most requests held at once between
arrival and the start of their answer (so ``delay_seconds`` holds them). The
server is a threaded ``http.server`` bound to port 0, HTTP/1.1 with keep-alive;
streams without a declared length are sent chunked.
"""

from __future__ import annotations

import email.utils
import gzip
import itertools
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import brotli  # type: ignore[import-untyped]


@dataclass
class Route:
    """How one path answers.

    Attributes:
        body: the response body (ignored when ``chunks`` is set).
        status: the status code.
        headers: extra response headers.
        etag / last_modified: sent, and a matching If-None-Match / If-Modified-Since gets 304.
        encoding: "gzip", "br" or "deflate": compress ``body`` and label it.
        chunks: a factory of body chunks, called per request (huge or endless bodies).
        content_length: the Content-Length to declare (may lie); None means the real
            length for ``body`` and chunked transfer for ``chunks``.
        delay_seconds: wait before answering (to hold a request in flight).
        chunk_delay_seconds: wait before each chunk (a trickling server).
    """

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    encoding: str | None = None
    chunks: Callable[[], Iterable[bytes]] | None = None
    content_length: int | None = None
    delay_seconds: float = 0.0
    chunk_delay_seconds: float = 0.0


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it (header names lower-cased)."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]
    at: float  # time.monotonic() when it arrived

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class PublisherServer:
    """A threaded HTTP server on 127.0.0.1:<free port>; use as a context manager."""

    def __init__(self, *, tls_names: Sequence[str] = ()) -> None:
        """Bind 127.0.0.1:0; with ``tls_names``, serve HTTPS with a fresh self-signed
        certificate for those names (and 127.0.0.1), trusted via ``ca_file``; needs
        the ``openssl`` command."""
        self.requests: list[RecordedRequest] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._routes: dict[str, list[Route]] = {}
        self._served: dict[str, int] = {}
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.publisher = self
        self.scheme = "https" if tls_names else "http"
        self._cert_dir = tempfile.mkdtemp(prefix="publisher-") if tls_names else ""
        self.ca_file = self._serve_tls(tls_names) if tls_names else ""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return self.url("")

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        """The URL of ``path``; ``host`` lets tests use a name their fake resolver knows."""
        return f"{self.scheme}://{host}:{self.port}{path}"

    def add(self, path: str, body: bytes = b"", **route: Any) -> str:
        """Serve ``body`` (and the ``Route`` fields given) at ``path``; returns its URL."""
        return self.add_sequence(path, [Route(body, **route)])

    def add_sequence(self, path: str, routes: list[Route]) -> str:
        """Answer successive requests to ``path`` with each route in turn; the last repeats."""
        with self._lock:
            self._routes[path] = list(routes)
            self._served[path] = 0
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        """Redirect ``path`` to ``location`` (relative or absolute, any scheme)."""
        return self.add(path, status=status, headers={"Location": location})

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    def start(self) -> PublisherServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        if self._cert_dir:
            shutil.rmtree(self._cert_dir, ignore_errors=True)

    def _serve_tls(self, names: Sequence[str]) -> str:
        cert, key = f"{self._cert_dir}/cert.pem", f"{self._cert_dir}/key.pem"
        alt_names = ",".join([*(f"DNS:{name}" for name in names), "IP:127.0.0.1"])
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "1",
                "-keyout",
                key,
                "-out",
                cert,
                "-subj",
                f"/CN={names[0]}",
                "-addext",
                f"subjectAltName={alt_names}",
            ],
            check=True,
            capture_output=True,
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        return cert

    def __enter__(self) -> PublisherServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _route_for(self, request: RecordedRequest) -> Route | None:
        path = request.path.split("?", 1)[0]
        with self._lock:
            self.requests.append(request)
            routes = self._routes.get(path)
            if not routes:
                return None
            index = min(self._served[path], len(routes) - 1)
            self._served[path] += 1
            return routes[index]

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    publisher: PublisherServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, ssl.SSLError)):
            return  # a client that hangs up (as a capped fetcher does) is no server error
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the body waits for
    # the client's delayed ACK, 40 ms a page on loopback that no real publisher adds.
    disable_nagle_algorithm = True
    server: _Server
    timeout = 10  # an idle keep-alive connection is dropped after this

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # keep test output quiet

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._answer(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        publisher = self.server.publisher
        headers = {key.lower(): value for key, value in self.headers.items()}
        request = RecordedRequest(self.command, self.path, headers, time.monotonic())
        route = publisher._route_for(request)
        publisher._enter()
        try:
            time.sleep(route.delay_seconds if route else 0)
        finally:
            # Counted out before answering: once the client has its answer it may send
            # the next request, which must not overlap this one in ``max_in_flight``.
            publisher._leave()
        try:
            if route is None:
                self._send_simple(404, b"not found\n")
            else:
                self._send_route(route, headers, head)
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away: fine, it was told to

    def _send_simple(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_route(self, route: Route, request_headers: dict[str, str], head: bool) -> None:
        if _not_modified(route, request_headers):
            self.send_response(304)
            self._validators(route)
            self.end_headers()
            return
        body = _encode(route.body, route.encoding) if route.chunks is None else b""
        self.send_response(route.status)
        self._validators(route)
        for name, value in route.headers.items():
            self.send_header(name, value)
        if route.encoding:
            self.send_header("Content-Encoding", route.encoding)
        chunked = route.chunks is not None and route.content_length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            length = route.content_length if route.content_length is not None else len(body)
            self.send_header("Content-Length", str(length))
        self.end_headers()
        if not head:
            self._send_body(route, body, chunked)

    def _validators(self, route: Route) -> None:
        if route.etag:
            self.send_header("ETag", route.etag)
        if route.last_modified:
            self.send_header("Last-Modified", route.last_modified)

    def _send_body(self, route: Route, body: bytes, chunked: bool) -> None:
        chunks: Iterable[bytes] = route.chunks() if route.chunks is not None else [body]
        for chunk in chunks:
            if route.chunk_delay_seconds:
                time.sleep(route.chunk_delay_seconds)
            if not chunk:
                continue
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            else:
                self.wfile.write(chunk)
            self.wfile.flush()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        if route.content_length is not None:
            self.close_connection = True  # the declared length may have been a lie


def _not_modified(route: Route, request_headers: dict[str, str]) -> bool:
    if route.status != 200:
        return False
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None and route.etag:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or route.etag.removeprefix("W/") in tags
    since = request_headers.get("if-modified-since")
    if since and route.last_modified:
        try:
            return email.utils.parsedate_to_datetime(
                route.last_modified
            ) <= email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return since == route.last_modified
    return False


def _encode(body: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        return gzip.compress(body)
    if encoding == "deflate":
        return zlib.compress(body)
    if encoding == "br":
        return bytes(brotli.compress(body))
    return body


def repeat_chunks(chunk: bytes, count: int | None = None) -> Callable[[], Iterator[bytes]]:
    """A ``Route.chunks`` factory: ``chunk`` ``count`` times (forever when None)."""

    def chunks() -> Iterator[bytes]:
        return itertools.repeat(chunk) if count is None else itertools.repeat(chunk, count)

    return chunks


def gzip_bomb(decompressed_bytes: int = 1 << 30) -> bytes:
    """A valid gzip stream of ``decompressed_bytes`` zeros (1 GiB -> about 1 MB), made fast.

    After a full flush, deflate starts afresh, so every MiB of zeros compresses to
    the same block: compress one MiB, repeat its block, then add an empty final
    block and the gzip trailer (CRC-32 and length) ourselves.
    """
    mib = bytes(1 << 20)
    blocks, rest = divmod(decompressed_bytes, len(mib))

    def deflate(data: bytes) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)

    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(mib, crc)
    crc = zlib.crc32(bytes(rest), crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # gzip, deflate, no name, no mtime
    body = deflate(mib) * blocks + (deflate(bytes(rest)) if rest else b"")
    final_block = b"\x03\x00"  # BFINAL=1, fixed Huffman, end-of-block: an empty last block
    trailer = crc.to_bytes(4, "little") + (decompressed_bytes & 0xFFFFFFFF).to_bytes(4, "little")
    return header + body + final_block + trailer


def brotli_bomb(decompressed_bytes: int = 1 << 30) -> bytes:
    """A brotli stream of ``decompressed_bytes`` zeros (1 GiB -> about 200 KB at quality 1)."""
    compressor = brotli.Compressor(quality=1)
    mib = bytes(1 << 20)
    blocks, rest = divmod(decompressed_bytes, len(mib))
    parts = [compressor.process(mib) for _ in range(blocks)]
    parts.append(compressor.process(bytes(rest)))
    parts.append(compressor.finish())
    return b"".join(parts)
