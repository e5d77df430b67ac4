"""Find the feeds an HTML page points at.

Announced feeds come from ``<link rel="alternate" type="application/rss+xml">``
(and Atom, JSON Feed, RDF) in document order. When a site announces none,
links in the page that look like feeds (``/feed``, ``*.rss``, ``atom.xml``)
are returned as guesses, after the announced ones, for the caller to try last.

    >>> discover_feeds(b'<link rel="alternate" type="application/rss+xml" href="/rss">',
    ...                "https://example.com/")[0].url
    'https://example.com/rss'
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from primenews.ingest.feeds import absolute_url

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
        "application/rdf+xml",
        "application/x.atom+xml",
        "application/x-atom+xml",
        "text/xml",
        "application/xml",
    }
)
MAX_GUESSES = 10
# the URL path of an <a href> that is probably a feed
_FEED_PATH = re.compile(
    r"(?:\.rss|\.atom|\.rdf|/feed|/feeds?/(?:posts/)?default|/rss|/atom|"
    r"(?:rss|atom|feed|index)\.xml|feed\.json)/?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class DiscoveredFeed:
    """A feed URL found in a page; ``guess`` when only an ordinary link suggested it."""

    url: str
    title: str = ""
    type: str = ""
    guess: bool = False


def discover_feeds(html: bytes | str, base_url: str) -> list[DiscoveredFeed]:
    """The feeds a page announces, then links that look like feeds (marked ``guess``).

    Args:
        html: the page; bytes are decoded by lxml (meta charset, BOM).
        base_url: the page's URL; a ``<base href>`` in the page takes precedence.

    Returns:
        Absolute http(s) URLs, each once, announced feeds first, in document
        order. WordPress's ``application/json`` REST links are not feeds and
        are left out. Empty for an empty or unreadable page.
    """
    root = _parse_html(html)
    if root is None:
        return []
    base = _base_href(root, base_url)
    found: dict[str, DiscoveredFeed] = {}
    for feed in _announced(root, base):
        found.setdefault(feed.url, feed)
    guesses = 0
    for feed in _guessed(root, base):
        if feed.url not in found and guesses < MAX_GUESSES:
            found[feed.url] = feed
            guesses += 1
    return list(found.values())


def _parse_html(html: bytes | str) -> etree._Element | None:
    """The document's root, or None when there is nothing to parse."""
    content = html.encode("utf-8") if isinstance(html, str) else html
    if not content.strip():
        return None
    # text arrives as UTF-8 bytes: its own <meta charset> would otherwise mislead lxml
    parser = etree.HTMLParser(
        encoding="utf-8" if isinstance(html, str) else None, no_network=True, huge_tree=False
    )
    try:
        return etree.fromstring(content, parser)
    except (etree.ParserError, ValueError):
        return None


def _base_href(root: etree._Element, base_url: str) -> str:
    """The page's ``<base href>`` resolved against its URL, else the URL itself."""
    for base in root.iter("base"):
        href = absolute_url(str(base.get("href") or ""), base_url)
        if href:
            return href
    return base_url


def _announced(root: etree._Element, base: str) -> Iterator[DiscoveredFeed]:
    """``<link rel="alternate">`` elements with a feed type, and ``rel="feed"`` links."""
    for link in root.iter("link"):
        rels = str(link.get("rel") or "").lower().split()
        mime = str(link.get("type") or "").split(";", 1)[0].strip().lower()
        href = absolute_url(str(link.get("href") or ""), base)
        if not href or not (("alternate" in rels and mime in FEED_TYPES) or "feed" in rels):
            continue
        if mime == "application/json" and "/wp-json/" in href:
            continue  # WordPress REST API, not a JSON Feed
        yield DiscoveredFeed(url=href, title=_squash(str(link.get("title") or "")), type=mime)


def _guessed(root: etree._Element, base: str) -> Iterator[DiscoveredFeed]:
    """``<a href>`` links whose path looks like a feed's."""
    for anchor in root.iter("a"):
        href = absolute_url(str(anchor.get("href") or ""), base)
        if href and _FEED_PATH.search(urlsplit(href).path):
            title = _squash(" ".join(str(text) for text in anchor.itertext())) or _squash(
                str(anchor.get("title") or "")
            )
            yield DiscoveredFeed(url=href, title=title, guess=True)


def _squash(text: str) -> str:
    """Whitespace runs collapsed to one space, ends trimmed."""
    return " ".join(text.split())
