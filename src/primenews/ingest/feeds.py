"""Read RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed 1.0/1.1 bodies.

Pure: bytes in, :class:`~primenews.domain.Feed` out, no network and no
file access. feedparser does RSS and Atom (charset detection, xml:base,
date formats, HTML sanitising); JSON Feed, which feedparser does not read,
is mapped here. Before feedparser sees a byte, the DTD is checked and entity
tricks (XXE, "billion laughs") are refused.
"""

from __future__ import annotations

import calendar
import html
import io
import json
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from primenews.domain import Feed, FeedEntry
from primenews.errors import ParseError
from primenews.ingest import sniff

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")
_BLOCK_TAGS = frozenset({"p", "br", "div", "li", "tr", "td", "h1", "h2", "h3", "h4", "blockquote"})
_MERIDIEM = re.compile(r"\b(\d{1,2})(:\d{2}(?::\d{2})?)\s*([AaPp][Mm])\b")
_WEEKDAY = re.compile(r"^\s*[^\W\d]+\.?,\s*")
_NOT_A_FEED = {
    "html": "HTML",
    "urlset": "a sitemap",
    "sitemapindex": "a sitemap index",
    "opml": "OPML",
}


def parse_feed(content: bytes, url: str = "", content_type: str = "") -> Feed:
    """Parse an RSS, Atom or JSON Feed body.

    Args:
        content: the body as fetched (not decoded; the charset is worked out
            from the BOM, the XML declaration and ``content_type``).
        url: the feed's own URL; relative links are resolved against it.
        content_type: the ``Content-Type`` header, charset included.

    Returns:
        The feed with its entries in document order. Entry URLs are absolute
        http(s) URLs, or "" when the entry has none.

    Raises:
        ParseError: the body is empty, not a feed, or declares unsafe entities.
    """
    if not content.strip():
        raise ParseError("feed: empty document")
    if sniff.looks_like_json(content):
        return parse_json_feed(content, url)
    root = _refuse_non_feeds(content)
    parsed = _run_feedparser(content, url, content_type)
    if not parsed.get("version") and not parsed.get("entries") and root not in sniff.FEED_ROOTS:
        why = _bozo_message(parsed) or (f"root element <{root}>" if root else "no root element")
        raise ParseError(f"feed: not a feed ({why})")
    return _feed_from_parsed(parsed, url)


def _refuse_non_feeds(content: bytes) -> str:
    """Raise ParseError for dangerous DTDs and plain non-feeds; return the root element's name."""
    reason = sniff.unsafe_dtd_reason(content)
    if reason:
        raise ParseError(f"feed: refused: {reason}")
    root = sniff.root_element(content)
    if root in sniff.HTML_ROOTS:
        root = "html"
    if root in _NOT_A_FEED:
        raise ParseError(f"feed: not a feed (looks like {_NOT_A_FEED[root]})")
    return root


def _run_feedparser(content: bytes, url: str, content_type: str) -> Any:
    """Call feedparser on the bytes (wrapped in a stream so it never opens a URL or a file)."""
    # without a content type feedparser flags even a perfect feed as bozo; application/xml
    # lets the BOM and the XML declaration decide the charset (RFC 7303)
    headers = {"content-type": content_type or "application/xml"}
    if url:
        headers["content-location"] = url
    try:
        parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    except Exception as err:  # feedparser has no error family of its own; keep the cause
        logger.warning("feedparser failed", extra={"url": url}, exc_info=True)
        raise ParseError(f"feed: unable to parse ({type(err).__name__}: {err})") from err
    return parsed


def _bozo_message(parsed: Mapping[str, Any]) -> str:
    """feedparser's complaint about a document, as text ("" when it had none)."""
    if not parsed.get("bozo"):
        return ""
    exc = parsed.get("bozo_exception")
    return f"{type(exc).__name__}: {exc}" if exc is not None else "malformed document"


def _feed_from_parsed(parsed: Any, url: str) -> Feed:
    """Map feedparser's result onto a Feed."""
    channel = parsed.get("feed", {})
    base = url or _link(channel, "self", "")
    language = str(channel.get("language") or "") or _language(channel)
    warning = _bozo_message(parsed)
    kind = "atom" if str(parsed.get("version", "")).startswith("atom") else "rss"
    return Feed(
        kind=kind,
        title=plain_text(str(channel.get("title", ""))),
        site_url=absolute_url(str(channel.get("link", "")), base),
        entries=tuple(_entry_from_parsed(item, base, language, kind) for item in parsed["entries"]),
        hub_url=_link(channel, "hub", base),
        self_url=_link(channel, "self", base),
        ttl_minutes=_minutes(channel.get("ttl")),
        language=language,
        warnings=(f"feed: {warning}",) if warning else (),
    )


def _entry_from_parsed(item: Any, base: str, feed_language: str, kind: str) -> FeedEntry:
    """Map one feedparser entry onto a FeedEntry.

    RSS items carry one date; feedparser files ``dc:date`` (RSS 1.0, many
    RSS 2.0 CMSs) under "updated", so for RSS that date doubles as published.
    """
    author = item.get("author_detail", {}).get("name") or item.get("author", "")
    updated = _entry_date(item, "updated")
    published = _entry_date(item, "published") or (updated if kind == "rss" else None)
    return FeedEntry(
        url=_entry_url(item, base),
        title=plain_text(str(item.get("title", ""))),
        guid=str(item.get("id", "")).strip(),
        published=published,
        updated=updated,
        summary=plain_text(str(item.get("summary", ""))),
        content_html=_content_html(item.get("content", [])),
        author=plain_text(str(author)),
        categories=_dedupe(
            plain_text(str(tag.get("label") or tag.get("term") or ""))
            for tag in item.get("tags", [])
        ),
        image=_entry_image(item, base),
        language=_language(item) or feed_language,
    )


def _entry_url(item: Any, base: str) -> str:
    """The entry's link; else its guid/id when that is a URL; else an enclosure or other link."""
    links = item.get("links", [])
    # a guid is only a URL when it says so itself: "123" must not become base + "/123"
    guid = absolute_url(str(item.get("id", "")), "")
    candidates = [str(item.get("link", "")), guid]
    candidates += [link.get("href", "") for link in links if link.get("rel") == "enclosure"]
    candidates += [link.get("href", "") for link in links]
    return first_url(candidates, base)


def _entry_image(item: Any, base: str) -> str:
    """media:content image, else media:thumbnail, else an image enclosure, else itunes:image."""
    candidates = [
        media.get("url", "")
        for media in item.get("media_content", [])
        if _is_image(media.get("medium", ""), media.get("type", ""), media.get("url", ""))
    ]
    candidates += [thumb.get("url", "") for thumb in item.get("media_thumbnail", [])]
    candidates += [
        link.get("href", "")
        for link in item.get("links", [])
        if link.get("rel") == "enclosure" and _is_image("", link.get("type", ""), link.get("href"))
    ]
    candidates.append(item.get("image", {}).get("href", ""))
    return first_url(candidates, base)


def _is_image(medium: str, mime: str, url: str | None) -> bool:
    """True when media metadata (or, lacking it, the URL's suffix) says image."""
    if medium or mime:
        return medium == "image" or str(mime).startswith("image/")
    return urlsplit(str(url or "")).path.lower().endswith(IMAGE_SUFFIXES)


def _content_html(contents: Iterable[Mapping[str, Any]]) -> str:
    """The first HTML (or XHTML) content block; plain-text content is escaped into HTML."""
    blocks = [block for block in contents if block.get("value")]
    marked_up = [block for block in blocks if "html" in str(block.get("type", ""))]
    if marked_up:
        return str(marked_up[0]["value"])
    return html.escape(str(blocks[0]["value"])) if blocks else ""


def _language(node: Mapping[str, Any]) -> str:
    """The xml:lang or <language> recorded on a node's text details."""
    details = (node.get(key) or {} for key in ("title_detail", "summary_detail", "subtitle_detail"))
    return next((str(detail["language"]) for detail in details if detail.get("language")), "")


def _link(node: Mapping[str, Any], rel: str, base: str) -> str:
    """The first link with this rel, as an absolute URL."""
    return first_url(
        (link.get("href") for link in node.get("links", []) if link.get("rel") == rel), base
    )


def _minutes(value: object) -> int | None:
    """RSS <ttl> as a positive integer, None when absent or nonsense."""
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else None


def _entry_date(item: Any, key: str) -> datetime | None:
    """feedparser's date for ``key``, re-read by hand where feedparser gets it wrong.

    feedparser cannot read a localised weekday ("mer, 16 nov 2022") and
    takes "02:02:33 PM" for 02:02:33 in a time zone called PM.
    """
    # dict.get: feedparser's own get() quietly falls back from updated to published
    raw = str(dict.get(item, key) or "")
    if _MERIDIEM.search(raw):
        return parse_date(raw)
    parsed = _struct_to_datetime(dict.get(item, f"{key}_parsed"))
    return parsed or (parse_date(raw) if raw else None)


def _struct_to_datetime(value: object) -> datetime | None:
    """feedparser's UTC struct_time as an aware datetime (None when absent or impossible)."""
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def parse_date(value: str) -> datetime | None:
    """An RFC 3339 or RFC 822 date (12-hour clocks and foreign weekdays allowed) in UTC.

    A date without an offset is read as UTC, as feedparser does; None when unreadable.
    """
    text = _MERIDIEM.sub(_to_24_hour, value.strip())
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(_WEEKDAY.sub("", text))
        except (TypeError, ValueError, IndexError):
            return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _to_24_hour(match: re.Match[str]) -> str:
    """ "2:05:09 PM" as "14:05:09"."""
    hour = int(match.group(1)) % 12 + (12 if match.group(3).upper() == "PM" else 0)
    return f"{hour:02d}{match.group(2)}"


def absolute_url(href: str, base: str) -> str:
    """``href`` resolved against ``base``; "" unless the result is an http(s) URL."""
    href = href.strip()
    if not href:
        return ""
    try:
        resolved = urljoin(base, href) if base else href
        parts = urlsplit(resolved)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return ""
    return resolved if parts.scheme in ("http", "https") and parts.netloc else ""


def first_url(candidates: Iterable[object], base: str) -> str:
    """The first candidate that resolves to an absolute http(s) URL ("" if none does)."""
    return next((url for url in (absolute_url(str(c or ""), base) for c in candidates) if url), "")


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    """Non-empty values, first occurrence kept, order preserved."""
    return tuple(dict.fromkeys(value for value in values if value))


class _TextCollector(HTMLParser):
    """Gathers the text of an HTML fragment, leaving out scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._mark(tag, 1)

    def handle_endtag(self, tag: str) -> None:
        self._mark(tag, -1)

    def _mark(self, tag: str, step: int) -> None:
        if tag in ("script", "style"):
            self._hidden = max(0, self._hidden + step)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def plain_text(markup: str) -> str:
    """Text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed.

    Feeds often escape twice (``AT&amp;amp;T``), so entities are decoded even
    where the feed claims plain text.
    """
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return " ".join("".join(collector.parts).split())


def parse_json_feed(content: bytes, url: str = "") -> Feed:
    """Parse a JSON Feed 1.0/1.1 body (https://jsonfeed.org/version/1.1).

    Raises:
        ParseError: the body is not JSON or has no jsonfeed.org ``version``.
    """
    try:
        data = json.loads(content)
    except (ValueError, RecursionError) as err:
        raise ParseError(f"feed: invalid JSON ({err})") from err
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, str) or "jsonfeed.org/version/" not in version:
        raise ParseError("feed: not a feed (JSON without a jsonfeed.org version)")
    base = url or _text(data.get("feed_url"))
    language = _text(data.get("language"))
    author = _json_author(data)
    items = data.get("items")
    return Feed(
        kind="json",
        title=plain_text(_text(data.get("title"))),
        site_url=absolute_url(_text(data.get("home_page_url")), base),
        entries=tuple(
            _json_entry(item, base, language, author)
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict)
        ),
        hub_url=_json_hub(data.get("hubs"), base),
        self_url=absolute_url(_text(data.get("feed_url")), base),
        language=language,
    )


def _json_entry(item: dict[str, Any], base: str, language: str, author: str) -> FeedEntry:
    """Map one JSON Feed item onto a FeedEntry (author and language inherit from the feed)."""
    guid = _text(item.get("id"))
    content_html = _text(item.get("content_html")) or html.escape(_text(item.get("content_text")))
    tags = item.get("tags")
    return FeedEntry(
        url=first_url([_text(item.get("url")), _text(item.get("external_url"))], base)
        or absolute_url(guid, ""),
        title=plain_text(_text(item.get("title"))),
        guid=guid,
        published=parse_date(_text(item.get("date_published"))),
        updated=parse_date(_text(item.get("date_modified"))),
        summary=plain_text(_text(item.get("summary"))),
        content_html=content_html,
        author=_json_author(item) or author,
        categories=_dedupe(_text(tag) for tag in (tags if isinstance(tags, list) else [])),
        image=absolute_url(_text(item.get("image")) or _text(item.get("banner_image")), base),
        language=_text(item.get("language")) or language,
    )


def _json_author(node: dict[str, Any]) -> str:
    """The first author's name: ``authors`` (1.1) before ``author`` (1.0)."""
    authors = node.get("authors")
    first = authors[0] if isinstance(authors, list) and authors else node.get("author")
    return plain_text(_text(first.get("name"))) if isinstance(first, dict) else ""


def _json_hub(hubs: object, base: str) -> str:
    """The WebSub hub among JSON Feed ``hubs`` (any hub when none says WebSub)."""
    found = [hub for hub in hubs if isinstance(hub, dict)] if isinstance(hubs, list) else []
    found.sort(key=lambda hub: _text(hub.get("type")).lower() != "websub")
    return first_url((_text(hub.get("url")) for hub in found), base)


def _text(value: object) -> str:
    """A JSON string (or number) as stripped text; anything else as ""."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value).strip()
