"""discover_feeds: announced feeds in document order, then guesses from ordinary links."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primenews.ingest.discovery import MAX_GUESSES, DiscoveredFeed, discover_feeds

DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"
PAGE = (DATA / "page_with_feeds.html").read_bytes()
_LATIN1_PAGE = (
    '<meta charset="iso-8859-1">'
    '<link rel="alternate" type="application/rss+xml" title="Café" href="/f">'
)


def test_announced_feeds_then_guesses() -> None:
    assert discover_feeds(PAGE, "https://blog.example.com/") == [
        DiscoveredFeed(
            "https://blog.example.com/feed/", "Example Blog » Feed", "application/rss+xml"
        ),
        DiscoveredFeed(
            "https://blog.example.com/comments/feed/",
            "Example Blog » Comments Feed",
            "application/rss+xml",
        ),
        # relative to <base href>, type parameters dropped, case folded
        DiscoveredFeed("https://blog.example.com/en/atom.xml", "Atom", "application/atom+xml"),
        DiscoveredFeed("https://blog.example.com/feed.json", "JSON Feed", "application/feed+json"),
        DiscoveredFeed("https://blog.example.com/h-feed", "", ""),  # rel="feed"
        DiscoveredFeed("https://blog.example.com/rss.xml", "Subscribe via RSS", "", guess=True),
        DiscoveredFeed("https://feeds.example.net/example.rss", "Mirror", "", guess=True),
    ]


def test_text_input_ignores_its_meta_charset() -> None:
    page = _LATIN1_PAGE
    assert discover_feeds(page, "https://e.com/")[0].title == "Café"


def test_bytes_input_follows_its_meta_charset() -> None:
    page = _LATIN1_PAGE
    assert discover_feeds(page.encode("latin-1"), "https://e.com/")[0].title == "Café"


def test_guesses_are_capped() -> None:
    anchors = "".join(f'<a href="/section{i}/feed">s{i}</a>' for i in range(30))
    found = discover_feeds(f"<body>{anchors}</body>", "https://e.com/")
    assert len(found) == MAX_GUESSES
    assert all(feed.guess for feed in found)


@pytest.mark.parametrize(
    "page",
    [
        b"",
        b"   ",
        b"<!-- only a comment -->",
        b"\x00\xff\xfe",
        "<html></html>",
        b"<a href='http://[::1'>",
    ],
)
def test_nothing_to_find(page: bytes | str) -> None:
    assert discover_feeds(page, "https://e.com/") == []


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.binary(max_size=1024), st.text(max_size=1024)))
def test_any_input_gives_absolute_urls(page: bytes | str) -> None:
    for feed in discover_feeds(page, "https://e.com/"):
        assert feed.url.startswith(("http://", "https://"))
