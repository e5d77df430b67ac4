"""The pure composition of stages: listings, entry selection, article from page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from primenews.domain import FeedEntry, Page
from primenews.errors import ExtractError, ParseError
from primenews.pipeline import article_from_page, charset_of, read_listing, select_entries

NOW = datetime(2026, 11, 28, tzinfo=UTC)
BODY = "<p>" + "The minister said the budget would be presented on Tuesday. " * 12 + "</p>"


def _page(content: bytes, content_type: str = "") -> Page:
    headers = {"content-type": content_type} if content_type else {}
    return Page("https://x.example/f", "https://x.example/f", 200, content, NOW, headers)


def test_read_listing_reads_feeds_and_sitemaps_and_refuses_html() -> None:
    rss = (
        b'<rss version="2.0"><channel><title>T</title><item><link>https://x.example/a</link>'
        b"</item></channel></rss>"
    )
    assert read_listing(_page(rss)).entries[0].url == "https://x.example/a"
    sitemap = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url>'
        b"<loc>https://x.example/b</loc></url></urlset>"
    )
    assert read_listing(_page(sitemap)).entries[0].url == "https://x.example/b"
    with pytest.raises(ParseError, match="HTML page"):
        read_listing(_page(b"<html><body>hi</body></html>", "text/html"))


def test_select_entries_newest_first_canonical_and_once() -> None:
    old = FeedEntry(
        url="https://x.example/a?utm_source=rss", published=datetime(2026, 1, 1, tzinfo=UTC)
    )
    new = FeedEntry(url="https://x.example/b", published=datetime(2026, 2, 1, tzinfo=UTC))
    again = FeedEntry(url="https://x.example/a?utm_medium=email")
    relative = FeedEntry(url="/c")
    chosen = select_entries([old, new, again, relative], limit=10)
    assert [entry.url for entry in chosen] == ["https://x.example/b", "https://x.example/a"]
    assert len(select_entries([old, new], limit=1)) == 1


def test_feed_fills_only_what_the_page_leaves_empty() -> None:
    html = (
        f"<html><head><title>Page title</title></head><body><article>{BODY}</article></body></html>"
    )
    entry = FeedEntry(
        url="https://x.example/a",
        title="Feed title",
        author="Ana Diaz",
        published=NOW,
        categories=("Politics",),
    )
    article = article_from_page(html.encode(), "https://x.example/a", entry)
    assert article.title == "Page title"  # the page wins
    assert article.byline == "Ana Diaz" and article.published == NOW  # the feed fills gaps
    assert article.tags == ("Politics",)


def test_the_feeds_date_beats_a_date_guessed_from_the_page_but_not_a_declared_one() -> None:
    url = "https://x.example/2026/11/20/budget"  # htmldate would guess 20 November from the URL
    html = f"<html><head><title>Budget</title></head><body><article>{BODY}</article></body></html>"
    listed = FeedEntry(url=url, published=NOW)
    assert article_from_page(html.encode(), url, listed).published == NOW
    guessed = article_from_page(html.encode(), url).published
    assert guessed == datetime(2026, 11, 20, tzinfo=UTC)  # no feed: the guess stands
    declared = html.replace(
        "</head>", '<meta property="article:published_time" content="2026-11-19T08:30:00Z"></head>'
    )
    page_time = article_from_page(declared.encode(), url, listed).published
    assert page_time == datetime(2026, 11, 19, 8, 30, tzinfo=UTC)  # the page's own date wins


def test_http_charset_decodes_a_page_without_its_own() -> None:
    html = f"<html><body><article><h1>Caf\xe9 cr\xe8me</h1>{BODY}</article></body></html>"
    article = article_from_page(
        html.encode("latin-1"), "https://x.example/a", content_type="text/html; charset=ISO-8859-1"
    )
    assert "Café crème" in article.title + article.text


@pytest.mark.parametrize(
    ("header", "charset"),
    [
        ("text/html; charset=UTF-8", "UTF-8"),
        ('text/html;charset="koi8-r"', "koi8-r"),
        ("text/html", ""),
        ("", ""),
    ],
)
def test_charset_of(header: str, charset: str) -> None:
    assert charset_of(header) == charset


def test_no_article_is_an_extract_error() -> None:
    with pytest.raises(ExtractError):
        article_from_page(b"", "https://x.example/a")
