"""Output feeds: Atom 1.0, RSS 2.0 and JSON Feed 1.1 from plain items, as bytes.

Pure functions: ``write_feed(meta, items, fmt)`` takes a ``FeedMeta`` and a
list of ``FeedItem`` (any page — latest articles, a section, a source, a
search, later a story or an entity — makes those) and returns the document.
Atom and RSS are lxml trees, so escaping is right by construction (feedgen
1.0 was tried and dropped: it writes entry links without their ``rel``, so
an item's "related" original became a second "alternate"); JSON Feed is a
plain dict per the 1.1 spec.

Ids are stable URLs on this site (an article's page, a feed's own address):
they never change for the same thing and never repeat for another. Times
are RFC 3339 in Atom and JSON Feed and RFC 822 in RSS. Item HTML must be
sanitised by the caller (``web.sanitize``); text is stripped of the control
characters XML 1.0 cannot hold, so no article can break a feed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from enum import StrEnum

from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Nothing updated yet: a fixed time, so an empty feed keeps one ETag and Last-Modified.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)
GENERATOR = "Prime News"
# Characters XML 1.0 forbids (C0 controls but tab, newline, return; surrogates; U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class FeedFormat(StrEnum):
    ATOM = "atom"
    RSS = "rss"
    JSON = "json"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]

    @property
    def label(self) -> str:
        return _LABELS[self]


_MEDIA_TYPES = {
    FeedFormat.ATOM: "application/atom+xml",
    FeedFormat.RSS: "application/rss+xml",
    FeedFormat.JSON: "application/feed+json",
}
_LABELS = {FeedFormat.ATOM: "Atom", FeedFormat.RSS: "RSS", FeedFormat.JSON: "JSON Feed"}


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry: an article today, a story or anything with a page tomorrow."""

    id: str  # stable and unique: the item's page on this site
    title: str
    url: str  # where a reader goes: the item's page on this site
    published: datetime
    updated: datetime
    summary: str = ""  # plain text
    html: str = ""  # sanitised HTML of the full content, or empty
    external_url: str = ""  # the original at the publisher
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """What a feed is: its id and title, where it lives and the page it mirrors."""

    id: str
    title: str
    self_url: str  # this document's own address
    page_url: str  # the HTML page with the same items (rel="alternate")
    description: str = ""
    language: str = "en"


def feed_updated(items: Sequence[FeedItem]) -> datetime:
    """When the feed last changed: its newest item's update, or a fixed time when empty."""
    return max((item.updated for item in items), default=EMPTY_FEED_UPDATED)


def write_feed(meta: FeedMeta, items: Sequence[FeedItem], fmt: FeedFormat) -> bytes:
    """The feed document in ``fmt``, UTF-8."""
    if fmt is FeedFormat.JSON:
        return write_json_feed(meta, items)
    root = _atom(meta, items) if fmt is FeedFormat.ATOM else _rss(meta, items)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def etag_of(body: bytes) -> str:
    """A strong ETag: the same bytes, the same tag."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _sub(parent: etree._Element, tag: str, text: str = "", **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attributes)
    if text:
        element.text = _clean(text)
    return element


def _atom(meta: FeedMeta, items: Sequence[FeedItem]) -> etree._Element:
    """RFC 4287: id, title, updated, self and alternate links; each entry the same plus dates."""
    a = f"{{{ATOM_NS}}}"
    # None is lxml's key for the default namespace; lxml-stubs only allow str keys.
    feed = etree.Element(a + "feed", nsmap={None: ATOM_NS})  # type: ignore[dict-item]
    feed.set(XML_LANG, meta.language)
    _sub(feed, a + "id", meta.id)
    _sub(feed, a + "title", meta.title)
    if meta.description:
        _sub(feed, a + "subtitle", meta.description)
    _sub(feed, a + "updated", rfc3339(feed_updated(items)))
    _sub(feed, a + "link", rel="self", type=FeedFormat.ATOM.media_type, href=meta.self_url)
    _sub(feed, a + "link", rel="alternate", type="text/html", href=meta.page_url)
    _sub(feed, a + "generator", GENERATOR)
    for item in items:
        entry = _sub(feed, a + "entry")
        _sub(entry, a + "id", item.id)
        _sub(entry, a + "title", item.title or item.url)
        _sub(entry, a + "link", rel="alternate", type="text/html", href=item.url)
        if item.external_url:
            _sub(entry, a + "link", rel="related", type="text/html", href=item.external_url)
        _sub(entry, a + "published", rfc3339(item.published))
        _sub(entry, a + "updated", rfc3339(item.updated))
        for author in item.authors:
            _sub(_sub(entry, a + "author"), a + "name", author)
        for tag in item.tags:
            _sub(entry, a + "category", term=_clean(tag))
        if item.summary:
            _sub(entry, a + "summary", item.summary, type="text")
        if item.html:
            _sub(entry, a + "content", item.html, type="html")
    return feed


def _rss(meta: FeedMeta, items: Sequence[FeedItem]) -> etree._Element:
    """RSS 2.0: title, link (the page), description; guid, pubDate and full content per item."""
    rss = etree.Element("rss", nsmap={"atom": ATOM_NS, "content": CONTENT_NS}, version="2.0")
    channel = _sub(rss, "channel")
    _sub(channel, "title", meta.title)
    _sub(channel, "link", meta.page_url)
    _sub(channel, "description", meta.description or meta.title)  # required by RSS 2.0
    _sub(channel, "language", meta.language)
    _sub(channel, "generator", GENERATOR)
    _sub(channel, "lastBuildDate", http_date(feed_updated(items), gmt=False))
    self_link = f"{{{ATOM_NS}}}link"
    _sub(channel, self_link, rel="self", type=FeedFormat.RSS.media_type, href=meta.self_url)
    for item in items:
        entry = _sub(channel, "item")
        _sub(entry, "title", item.title or item.url)
        _sub(entry, "link", item.url)
        _sub(entry, "guid", item.id, isPermaLink="true" if item.id == item.url else "false")
        _sub(entry, "pubDate", http_date(item.published, gmt=False))
        for tag in item.tags:
            _sub(entry, "category", tag)
        _sub(entry, "description", item.summary or item.title)
        if item.html:
            _sub(entry, f"{{{CONTENT_NS}}}encoded", item.html)
    return rss


def write_json_feed(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""
    document: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": meta.title,
        "home_page_url": meta.page_url,
        "feed_url": meta.self_url,
        "description": meta.description or meta.title,
        "language": meta.language,
        "items": [_json_item(item) for item in items],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _json_item(item: FeedItem) -> dict[str, object]:
    entry: dict[str, object] = {"id": item.id, "url": item.url, "title": _clean(item.title)}
    if item.external_url:
        entry["external_url"] = item.external_url
    # 1.1: an item needs content_html or content_text; the summary stands in when there is no HTML.
    if item.html:
        entry["content_html"] = item.html
    else:
        entry["content_text"] = item.summary or item.title
    if item.summary:
        entry["summary"] = item.summary
    entry["date_published"] = rfc3339(item.published)
    entry["date_modified"] = rfc3339(item.updated)
    if item.authors:
        entry["authors"] = [{"name": author} for author in item.authors]
    if item.tags:
        entry["tags"] = list(item.tags)
    return entry


def rfc3339(when: datetime) -> str:
    """``2026-11-28T12:00:00Z``."""
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def http_date(when: datetime, *, gmt: bool = True) -> str:
    """RFC 822 time: ``Sat, 28 Nov 2026 12:00:00 GMT`` (``+0000`` with ``gmt=False``)."""
    return format_datetime(when.astimezone(UTC).replace(microsecond=0), usegmt=gmt)
