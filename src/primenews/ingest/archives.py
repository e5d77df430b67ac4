"""Read saved pages from WARC files and folders of .html files.

This is the shell side of ingestion (it opens files), but it only reads:
each HTML page comes out as a :class:`~primenews.domain.Page`, as if just
fetched, for the same extraction stage the fetcher feeds.

- WARC / WARC.gz: ``response`` (and ``resource``) records with an HTML
  content type and a 2xx status. warcio undoes chunked transfer coding and
  gzip/deflate content coding; the record's target URI and ``WARC-Date``
  become the page's URL and fetch time.
- Folders (searched recursively) and single files: ``*.html``/``*.htm``
  pages, URL from ``<link rel=canonical>`` or ``og:url`` else a ``file://``
  URI, fetch time from the file's mtime. WARC files inside folders are read too.

A broken record or unreadable file is logged, counted in :class:`ArchiveStats`
and skipped; iteration goes on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import brotli  # no stubs (mypy override in pyproject.toml)
from lxml import etree
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader, ChunkedDataReader

from primenews.domain import Page
from primenews.errors import ParseError
from primenews.ingest.feeds import absolute_url

logger = logging.getLogger(__name__)

MAX_PAGE_BYTES = 20 * 1024 * 1024  # larger "pages" are media or junk, not articles
SCAN_BYTES = 1024 * 1024  # window when looking for the next record after a broken one
HEAD_BYTES = 256 * 1024  # where <link rel=canonical> and og:url live
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
WARC_SUFFIXES = (".warc", ".warc.gz")
_CODING_HEADERS = ("content-encoding", "transfer-encoding", "content-length")


@dataclass(slots=True)
class ArchiveStats:
    """What one pass over archives yielded and skipped (filled in as it goes)."""

    pages: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    log: bool = True

    def skip(self, where: str, why: str) -> None:
        """Record one skipped record or file, and log it."""
        why = why if len(why) <= 200 else why[:200] + "…"  # warcio quotes whole binary lines
        self.skipped += 1
        self.problems.append(f"archive: {where}: {why}")
        if self.log:
            logger.warning("archive: skipped %s: %s", where, why, extra={"url": where})


def iter_archive(path: Path, stats: ArchiveStats | None = None) -> Iterator[Page]:
    """Yield every HTML page in a WARC file, an HTML file or a folder of them.

    Args:
        path: a ``.warc``/``.warc.gz`` file, an ``.html``/``.htm`` file or a folder.
        stats: filled with counts of pages yielded and records skipped.

    Raises:
        ParseError: the path does not exist or is not a file type we read.
    """
    stats = stats if stats is not None else ArchiveStats()
    for file in _archive_files(path):
        if _is_warc(file):
            yield from _iter_warc(file, stats)
        else:
            page = _read_html_file(file, stats)
            if page is not None:
                stats.pages += 1
                yield page


def count_archive(path: Path) -> int:
    """How many pages :func:`iter_archive` will yield, at most (for a progress bar).

    WARC records are counted from their headers without reading bodies;
    records that turn out broken are later skipped, so the count can be high.
    """
    total = 0
    quiet = ArchiveStats(log=False)
    for file in _archive_files(path):
        if _is_warc(file):
            total += sum(1 for _ in _html_records(file, quiet))
        else:
            total += 1
    return total


def _archive_files(path: Path) -> Iterator[Path]:
    """The WARC and HTML files at ``path``, folders walked in sorted order."""
    if path.is_file():
        if not (_is_warc(path) or path.name.lower().endswith(HTML_SUFFIXES)):
            raise ParseError(f"archive: {path}: not a WARC or HTML file")
        yield path
        return
    if not path.is_dir():
        raise ParseError(f"archive: {path} does not exist")
    for folder, dirs, files in os.walk(path):  # os.walk does not follow symlinked folders
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(HTML_SUFFIXES + WARC_SUFFIXES):
                yield Path(folder, name)


def _is_warc(path: Path) -> bool:
    return path.name.lower().endswith(WARC_SUFFIXES)


def _is_gzip_file(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(2) == b"\x1f\x8b"


def _wanted(record: Any) -> bool:
    """A response/resource record holding an HTML document with a 2xx status."""
    if record.rec_type not in ("response", "resource"):
        return False
    headers = record.http_headers
    if headers is None:  # resource records carry the type in the WARC header
        return "html" in (record.rec_headers.get_header("Content-Type") or "").lower()
    status = headers.get_statuscode()
    content_type = (headers.get_header("content-type") or "").lower()
    return "html" in content_type and str(status).startswith("2")


def _iter_warc(file: Path, stats: ArchiveStats) -> Iterator[Page]:
    """Pages from one WARC file; broken records are skipped and counted."""
    fallback_date = _mtime(file)
    for record in _html_records(file, stats):
        page = _warc_page(record, file, fallback_date, stats)
        if page is not None:
            stats.pages += 1
            yield page


def _html_records(file: Path, stats: ArchiveStats) -> Iterator[Any]:
    """The wanted records of a WARC file, resyncing past stretches warcio cannot read."""
    try:
        with file.open("rb") as stream:
            start: int | None = 0
            while start is not None:
                start = yield from _records_from(stream, start, file, stats)
    except OSError as err:
        stats.skip(str(file), f"unreadable ({err})")


def _records_from(
    stream: BinaryIO, start: int, file: Path, stats: ArchiveStats
) -> Generator[Any, None, int | None]:
    """Wanted records from offset ``start``; returns where to resume after a failure, or None."""
    stream.seek(start)
    records = ArchiveIterator(stream)
    try:
        yield from (record for record in records if _wanted(record))
    except Exception as err:  # warcio's ArchiveLoadFailed, zlib errors & co share no base class
        failed_at = max(records.offset, start)
        resume = _next_record_start(stream, failed_at + 1, gzipped=_is_gzip_file(file))
        stats.skip(f"{file.name}@{failed_at}", f"broken WARC data ({type(err).__name__}: {err})")
        return resume
    finally:
        records.close()
    return None


def _next_record_start(stream: BinaryIO, pos: int, gzipped: bool) -> int | None:
    """Where the next record may start at or after ``pos``: a gzip member or a WARC/1.x line."""
    marker = b"\x1f\x8b\x08" if gzipped else b"WARC/1."
    stream.seek(pos)
    while window := stream.read(SCAN_BYTES):
        found = window.find(marker)
        if found >= 0:
            return pos + found
        pos += len(window) - len(marker) + 1  # overlap: a marker may straddle two windows
        stream.seek(pos)
        if len(window) < SCAN_BYTES:
            return None
    return None


def _warc_page(record: Any, file: Path, fallback: datetime, stats: ArchiveStats) -> Page | None:
    """One record as a Page, or None (logged and counted) when it cannot be read."""
    url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip().strip("<>")
    where = f"{file.name}: {url or record.rec_headers.get_header('WARC-Record-ID')}"
    headers = _http_headers(record)
    coding = headers.get("content-encoding", "").lower()
    if coding and coding not in BufferedReader.get_supported_decompressors():
        stats.skip(where, f"unsupported content encoding {coding!r}")
        return None
    try:
        content = _read_body(record, coding)
    except Exception as err:  # zlib, brotli and chunking errors share no base class
        stats.skip(where, f"broken record ({type(err).__name__}: {err})")
        return None
    if len(content) > MAX_PAGE_BYTES:
        stats.skip(where, f"larger than {MAX_PAGE_BYTES // 2**20} MB")
        return None
    status = int(record.http_headers.get_statuscode()) if record.http_headers else 200
    for name in _CODING_HEADERS:  # the body is decoded now; these would describe the old one
        headers.pop(name, None)
    fetched = _warc_date(record.rec_headers.get_header("WARC-Date")) or fallback
    return Page(
        url=url, final_url=url, status=status, content=content, fetched_at=fetched, headers=headers
    )


def _read_body(record: Any, coding: str) -> bytes:
    """The decoded body, at most MAX_PAGE_BYTES + 1 bytes of it.

    warcio's own brotli path needs ``Decompressor.unused_data``, which
    brotli 1.2 dropped, so "br" bodies are de-chunked by warcio and inflated here.
    """
    if coding != "br":
        return bytes(record.content_stream().read(MAX_PAGE_BYTES + 1))
    chunked = record.http_headers.get_header("transfer-encoding") == "chunked"
    raw = ChunkedDataReader(record.raw_stream) if chunked else record.raw_stream
    inflater = brotli.Decompressor()
    return bytes(inflater.process(raw.read(), output_buffer_limit=MAX_PAGE_BYTES + 1))


def _http_headers(record: Any) -> dict[str, str]:
    """The HTTP headers, names lower-cased, repeated headers joined with ", "."""
    if record.http_headers is None:
        return {"content-type": record.rec_headers.get_header("Content-Type") or "text/html"}
    headers: dict[str, str] = {}
    for name, value in record.http_headers.headers:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _warc_date(value: str | None) -> datetime | None:
    """A WARC-Date (ISO 8601, UTC) as an aware datetime; None when missing or malformed."""
    try:
        parsed = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _read_html_file(file: Path, stats: ArchiveStats) -> Page | None:
    """A saved page as a Page, its URL from the page itself when it names one."""
    try:
        if file.stat().st_size > MAX_PAGE_BYTES:
            stats.skip(str(file), f"larger than {MAX_PAGE_BYTES // 2**20} MB")
            return None
        content = file.read_bytes()
    except OSError as err:
        stats.skip(str(file), f"unreadable ({err})")
        return None
    url = page_url(content) or file.resolve().as_uri()
    headers = {"content-type": "text/html"}
    return Page(
        url=url,
        final_url=url,
        status=200,
        content=content,
        fetched_at=_mtime(file),
        headers=headers,
    )


def page_url(content: bytes) -> str:
    """The absolute http(s) URL a saved page declares (canonical link, then og:url), or ""."""
    if not content.strip():
        return ""
    parser = etree.HTMLParser(no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(content[:HEAD_BYTES], parser)
    except (etree.ParserError, ValueError):
        return ""
    if root is None:
        return ""
    canonical = [
        str(link.get("href") or "")
        for link in root.iter("link")
        if "canonical" in str(link.get("rel") or "").lower().split()
    ]
    og_url = [
        str(meta.get("content") or "")
        for meta in root.iter("meta")
        if str(meta.get("property") or meta.get("name") or "").lower() == "og:url"
    ]
    return next((url for url in (absolute_url(c, "") for c in canonical + og_url) if url), "")


def _mtime(file: Path) -> datetime:
    """The file's modification time in UTC (the epoch when it cannot be read)."""
    try:
        return datetime.fromtimestamp(file.stat().st_mtime, UTC)
    except OSError:
        return datetime.fromtimestamp(0, UTC)
