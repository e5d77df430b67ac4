"""parse_sitemap: urlset, news and image extensions, indexes, gzip, plain text, hostile input."""

from __future__ import annotations

import gzip
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primenews.errors import ParseError
from primenews.ingest.sitemaps import MAX_SITEMAP_BYTES, gunzip, parse_sitemap

DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"
NEWS_SITEMAP = (DATA / "news_sitemap.xml").read_bytes()
BASE = "https://news.example.com/sitemap.xml"


def test_news_sitemap_entry() -> None:
    sitemap = parse_sitemap(NEWS_SITEMAP, BASE)
    assert (sitemap.kind, sitemap.self_url, sitemap.sitemaps) == ("sitemap", BASE, ())
    entry = sitemap.entries[0]
    assert entry.url == "https://news.example.com/world/2026/08/13/storm"
    assert entry.updated == datetime(2026, 8, 13, 4, 0, tzinfo=UTC)
    assert entry.published == datetime(2026, 8, 13, 3, 30, tzinfo=UTC)
    assert entry.title == "Storm & floods hit the coast"
    assert entry.language == "en"
    assert entry.categories == ("weather", "storm", "floods")
    assert entry.image == "https://img.example.com/storm.jpg"


def test_sloppy_entries_are_repaired_or_dropped() -> None:
    entries = parse_sitemap(NEWS_SITEMAP, BASE).entries
    assert [entry.url for entry in entries] == [
        "https://news.example.com/world/2026/08/13/storm",
        "https://news.example.com/search?q=storm&page=2",  # bare "&" kept, not eaten
        "https://news.example.com/relative/path",  # resolved, whitespace trimmed
    ]  # the duplicate and the <url> without <loc> are gone
    assert entries[1].updated == datetime(2026, 8, 12, tzinfo=UTC)
    assert entries[2].updated is None  # "last tuesday"


def test_sitemap_index() -> None:
    content = b"""<?xml version="1.0" encoding="UTF-8"?>
    <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://e.com/sitemap-news.xml</loc><lastmod>2026-08-13</lastmod></sitemap>
      <sitemap><loc>sitemap-2.xml.gz</loc></sitemap>
      <sitemap><loc>https://e.com/sitemap-news.xml</loc></sitemap>
      <sitemap><loc>javascript:alert(1)</loc></sitemap>
    </sitemapindex>"""
    index = parse_sitemap(content, "https://e.com/robots-sitemap.xml")
    assert index.kind == "sitemapindex"
    assert index.sitemaps == ("https://e.com/sitemap-news.xml", "https://e.com/sitemap-2.xml.gz")
    assert index.entries == ()


def test_namespace_is_not_required() -> None:
    content = b"<urlset><url><loc>https://e.com/a</loc></url></urlset>"
    assert parse_sitemap(content).entries[0].url == "https://e.com/a"


def test_gzip_sitemap() -> None:
    sitemap = parse_sitemap(gzip.compress(NEWS_SITEMAP), BASE)
    assert len(sitemap.entries) == 3


def test_gzip_bomb_is_refused_quickly() -> None:
    bomb = gzip.compress(b"\0" * (MAX_SITEMAP_BYTES + 1024), compresslevel=9)
    assert len(bomb) < 100_000
    started = time.perf_counter()
    with pytest.raises(ParseError, match="sitemap: gzip inflates to more than 50 MB"):
        parse_sitemap(bomb)
    assert time.perf_counter() - started < 2.0


def test_broken_gzip() -> None:
    with pytest.raises(ParseError, match="sitemap: broken gzip data"):
        parse_sitemap(b"\x1f\x8b\x08\x00garbage-not-deflate")


def test_gunzip_limit() -> None:
    assert gunzip(gzip.compress(b"x" * 100), limit=100) == b"x" * 100
    with pytest.raises(ParseError):
        gunzip(gzip.compress(b"x" * 101), limit=100)


def test_plain_text_sitemap() -> None:
    content = b"\xef\xbb\xbfhttps://e.com/a\r\n\r\nhttps://e.com/b\nnot a url\nhttps://e.com/a\n"
    sitemap = parse_sitemap(content, "https://e.com/sitemap.txt")
    assert [entry.url for entry in sitemap.entries] == ["https://e.com/a", "https://e.com/b"]
    assert sitemap.warnings == ("sitemap: 1 lines are not http(s) URLs",)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "sitemap: empty document"),
        (b'<rss version="2.0"><channel/></rss>', "root element <rss>"),
        (b"<html><body>404</body></html>", "root element <html>"),
        (b"hello world", "neither XML nor a list of URLs"),
        (
            b'<!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]><urlset>'
            b"<url><loc>https://e.com/&x;</loc></url></urlset>",
            "sitemap: refused: declares the external entity 'x'",
        ),
    ],
)
def test_not_sitemaps(content: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=re.escape(message)):
        parse_sitemap(content)


def test_billion_laughs_is_refused_quickly() -> None:
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    content = f"<!DOCTYPE urlset [{entities}]><urlset><url><loc>&l9;</loc></url></urlset>"
    started = time.perf_counter()
    with pytest.raises(ParseError, match="sitemap: refused: .*entity expansion"):
        parse_sitemap(content.encode())
    assert time.perf_counter() - started < 1.0


def test_parser_complaints_become_warnings() -> None:
    content = b"<urlset><url><loc>https://e.com/a</loc></url><url><loc>https://e.com/b</loc>"
    sitemap = parse_sitemap(content)
    assert [entry.url for entry in sitemap.entries] == ["https://e.com/a", "https://e.com/b"]
    assert sitemap.warnings and sitemap.warnings[0].startswith("sitemap: line ")


@st.composite
def mutated_sitemaps(draw: st.DrawFn) -> bytes:
    content = bytearray(NEWS_SITEMAP)
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(content)))
        end = min(len(content), start + draw(st.integers(0, 64)))
        content[start:end] = draw(st.binary(max_size=16))
    return bytes(content)


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.binary(max_size=2048), mutated_sitemaps()))
def test_any_bytes_parse_or_raise_parse_error(content: bytes) -> None:
    try:
        sitemap = parse_sitemap(content, BASE)
    except ParseError as err:
        assert str(err).startswith("sitemap: ")
        return
    assert sitemap.kind in ("sitemap", "sitemapindex")
    assert all(entry.url.startswith(("http://", "https://")) for entry in sitemap.entries)
