"""iter_archive / count_archive over WARC files written here with warcio, and folders of pages."""

from __future__ import annotations

import gzip
import io
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import brotli  # type: ignore[import-untyped]
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from primenews.errors import ParseError
from primenews.ingest.archives import ArchiveStats, count_archive, iter_archive, page_url

WARC_DATE = "2026-08-13T09:30:00Z"
FETCHED = datetime(2026, 8, 13, 9, 30, tzinfo=UTC)
HTML = "text/html; charset=utf-8"


@dataclass
class Record:
    url: str
    body: bytes
    status: str = "200 OK"
    headers: list[tuple[str, str]] = field(default_factory=lambda: [("Content-Type", HTML)])
    kind: str = "response"


def _write_warc(path: Path, records: list[Record], compress: bool = True) -> list[int]:
    """Write the records; return each record's start offset."""
    offsets = []
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=compress)
        for record in records:
            offsets.append(out.tell())
            writer.write_record(_build(writer, record))
    return offsets


def _build(writer: WARCWriter, record: Record) -> object:
    warc_headers = {"WARC-Date": WARC_DATE}
    payload = io.BytesIO(record.body)
    if record.kind == "resource":
        return writer.create_warc_record(
            record.url, "resource", payload=payload, length=len(record.body),
            warc_content_type="text/html", warc_headers_dict=warc_headers,
        )  # fmt: skip
    is_request = record.kind == "request"  # then ``status`` is the request line, "GET /a"
    http = StatusAndHeaders(record.status, record.headers, "HTTP/1.1", is_http_request=is_request)
    # an explicit length keeps warcio from spooling the payload to a temporary file
    return writer.create_warc_record(
        record.url, record.kind, payload=payload, length=len(record.body), http_headers=http,
        warc_headers_dict=warc_headers,
    )  # fmt: skip


RECORDS = [
    Record("http://news.example.com/a", b"<html><title>A</title></html>"),
    Record("http://news.example.com/logo.png", b"\x89PNG", headers=[("Content-Type", "image/png")]),
    Record("http://news.example.com/old", b"", status="301 Moved Permanently"),
    Record("http://news.example.com/a", b"", "GET /a", [("Host", "news.example.com")], "request"),
    Record(
        "http://news.example.com/gz",
        gzip.compress(b"<html>gzipped</html>"),
        headers=[
            ("Content-Type", HTML),
            ("Content-Encoding", "gzip"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ],
    ),  # fmt: skip
    Record(
        "http://news.example.com/chunked",
        b"6\r\n<html>\r\n7\r\nchunked\r\n0\r\n\r\n",
        headers=[("Content-Type", HTML), ("Transfer-Encoding", "chunked")],
    ),
    Record(
        "http://news.example.com/br",
        brotli.compress(b"<html>brotli</html>"),
        headers=[("Content-Type", HTML), ("Content-Encoding", "br")],
    ),
    Record("http://news.example.com/saved", b"<html>resource</html>", kind="resource"),
]
EXPECTED = {
    "http://news.example.com/a": b"<html><title>A</title></html>",
    "http://news.example.com/gz": b"<html>gzipped</html>",
    "http://news.example.com/chunked": b"<html>chunked",
    "http://news.example.com/br": b"<html>brotli</html>",
    "http://news.example.com/saved": b"<html>resource</html>",
}


@pytest.mark.parametrize("compress", [True, False], ids=["warc.gz", "warc"])
def test_warc_html_responses_become_pages(tmp_path: Path, compress: bool) -> None:
    path = tmp_path / ("crawl.warc.gz" if compress else "crawl.warc")
    _write_warc(path, RECORDS, compress)
    stats = ArchiveStats()
    pages = list(iter_archive(path, stats))
    assert {page.url: page.content for page in pages} == EXPECTED
    assert (stats.pages, stats.skipped) == (5, 0)
    assert count_archive(path) == 5
    first = pages[0]
    assert (first.final_url, first.status, first.fetched_at) == (first.url, 200, FETCHED)
    assert first.content_type == HTML
    gzipped = next(page for page in pages if page.url.endswith("/gz"))
    assert "content-encoding" not in gzipped.headers  # the body is decoded now
    assert gzipped.headers["set-cookie"] == "a=1, b=2"


def test_a_broken_record_is_skipped_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "broken.warc.gz"
    records = [
        Record("http://e.com/1", b"<html>1</html>"),
        Record(
            "http://e.com/bad",
            b"this is not brotli data at all",
            headers=[("Content-Type", HTML), ("Content-Encoding", "br")],
        ),  # fmt: skip
        Record("http://e.com/2", b"<html>2</html>"),
    ]
    _write_warc(path, records)
    stats = ArchiveStats()
    with caplog.at_level(logging.WARNING, logger="primenews.ingest.archives"):
        urls = [page.url for page in iter_archive(path, stats)]
    assert urls == ["http://e.com/1", "http://e.com/2"]
    assert stats.skipped == 1 and "http://e.com/bad" in stats.problems[0]
    assert "http://e.com/bad" in caplog.text


@pytest.mark.parametrize("compress", [True, False], ids=["warc.gz", "warc"])
def test_reading_resumes_after_a_corrupt_stretch(tmp_path: Path, compress: bool) -> None:
    path = tmp_path / ("corrupt.warc.gz" if compress else "corrupt.warc")
    records = [Record(f"http://e.com/{i}", f"<html>{i}</html>".encode()) for i in range(4)]
    offsets = _write_warc(path, records, compress)
    data = path.read_bytes()
    path.write_bytes(data[: offsets[2]] + b"GARBAGE\r\n\r\n" + os.urandom(300) + data[offsets[2] :])
    stats = ArchiveStats()
    urls = [page.url for page in iter_archive(path, stats)]
    assert urls == [f"http://e.com/{i}" for i in range(4)]
    assert stats.skipped >= 1
    assert all(problem.startswith("archive: corrupt.warc") for problem in stats.problems)


def test_a_truncated_warc_keeps_what_it_has(tmp_path: Path) -> None:
    path = tmp_path / "cut.warc.gz"
    records = [Record(f"http://e.com/{i}", b"<html>" + b"x" * 2000 + b"</html>") for i in range(3)]
    offsets = _write_warc(path, records)
    path.write_bytes(path.read_bytes()[: offsets[2] + 40])
    urls = [page.url for page in iter_archive(path, ArchiveStats(log=False))]
    assert urls[:2] == ["http://e.com/0", "http://e.com/1"]


def _saved_page(path: Path, head: str, mtime: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<html><head>{head}</head><body>text</body></html>", "utf-8")
    os.utime(path, (mtime, mtime))
    return path


def test_folder_of_saved_pages(tmp_path: Path) -> None:
    canonical = '<link rel="canonical" href="https://news.example.com/story-1">'
    og_url = '<meta property="og:url" content="https://news.example.com/story-2">'
    _saved_page(tmp_path / "a" / "one.html", canonical, 1_786_000_000)
    _saved_page(tmp_path / "a" / "b" / "two.HTM", og_url, 1_786_000_100)
    plain = _saved_page(tmp_path / "c.htm", "<title>no url</title>", 1_786_000_200)
    (tmp_path / "notes.txt").write_text("not a page", "utf-8")
    (tmp_path / "z").mkdir()
    _write_warc(tmp_path / "z" / "crawl.warc.gz", RECORDS[:1])
    pages = list(iter_archive(tmp_path))
    assert [page.url for page in pages] == [  # each folder's files before its subfolders
        plain.resolve().as_uri(),  # c.htm
        "https://news.example.com/story-1",  # a/one.html
        "https://news.example.com/story-2",  # a/b/two.HTM
        "http://news.example.com/a",  # z/crawl.warc.gz
    ]
    assert pages[1].fetched_at == datetime.fromtimestamp(1_786_000_000, UTC)
    assert (pages[1].status, pages[1].content_type) == (200, "text/html")
    assert count_archive(tmp_path) == 4


def test_a_single_html_file(tmp_path: Path) -> None:
    page = _saved_page(tmp_path / "p.html", "", 1_786_000_000)
    assert [p.url for p in iter_archive(page)] == [page.resolve().as_uri()]
    assert count_archive(page) == 1


def test_paths_we_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="does not exist"):
        list(iter_archive(tmp_path / "missing"))
    other = tmp_path / "data.csv"
    other.write_text("a,b", "utf-8")
    with pytest.raises(ParseError, match="not a WARC or HTML file"):
        list(iter_archive(other))


_CANONICAL = '<link rel="canonical" href="{}">'
_OG_URL = '<meta property="og:url" content="{}">'


@pytest.mark.parametrize(
    ("head", "url"),
    [
        (
            _CANONICAL.format("https://e.com/c") + _OG_URL.format("https://e.com/o"),
            "https://e.com/c",
        ),
        (_CANONICAL.format("/relative") + _OG_URL.format("https://e.com/o"), "https://e.com/o"),
        ('<link rel="Canonical Other" href="https://e.com/c2">', "https://e.com/c2"),
        ('<meta name="og:url" content="https://e.com/n">', "https://e.com/n"),
        ("<title>none</title>", ""),
    ],
)
def test_page_url(head: str, url: str) -> None:
    assert page_url(f"<html><head>{head}</head></html>".encode()) == url
