"""Read XML sitemaps, sitemap indexes, Google News sitemaps and plain-text URL lists.

Pure: bytes in, :class:`~primenews.domain.Feed` out. Gzip bodies are
inflated here (capped, since a few KB of gzip can claim gigabytes). XML goes
through lxml with entities, DTDs, the network and huge trees all switched
off, and in recover mode, because real sitemaps are often slightly broken
(a bare ``&`` in a URL is the classic). Elements are matched by local name,
so a sitemap with a wrong or missing namespace still reads.

    >>> parse_sitemap(b'<urlset><url><loc>https://example.com/a</loc></url></urlset>').entries[0].url
    'https://example.com/a'
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Iterator

from lxml import etree

from primenews.domain import Feed, FeedEntry
from primenews.errors import ParseError
from primenews.ingest import sniff
from primenews.ingest.feeds import absolute_url, parse_date, plain_text

logger = logging.getLogger(__name__)

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one uncompressed file
MAX_WARNINGS = 10
_BARE_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z_][\w.-]*|#[0-9]+|#x[0-9A-Fa-f]+);)")


def parse_sitemap(content: bytes, url: str = "") -> Feed:
    """Parse a sitemap (``urlset``), a sitemap index or a plain-text list of URLs.

    Args:
        content: the body, gzip-compressed or not.
        url: where it came from; relative ``<loc>`` values are resolved against it.

    Returns:
        kind "sitemap" with one entry per URL (``lastmod`` as ``updated``;
        Google News ``title``/``publication_date``/``language``/``keywords``
        and the first ``image:loc`` when present), or kind "sitemapindex"
        with the child sitemap URLs in ``sitemaps``. Duplicate URLs are dropped.

    Raises:
        ParseError: not a sitemap, too large once inflated, broken gzip, or an unsafe DTD.
    """
    if sniff.is_gzip(content):
        content = gunzip(content)
    if len(content) > MAX_SITEMAP_BYTES:
        raise ParseError(f"sitemap: larger than {MAX_SITEMAP_BYTES // 2**20} MB")
    if not content.strip():
        raise ParseError("sitemap: empty document")
    root = sniff.root_element(content)
    if root in sniff.SITEMAP_ROOTS:
        return _parse_xml(content, url)
    if not root and sniff.is_url_list(content):
        return _parse_text(content, url)
    what = f"root element <{root}>" if root else "neither XML nor a list of URLs"
    raise ParseError(f"sitemap: not a sitemap ({what})")


def gunzip(content: bytes, limit: int = MAX_SITEMAP_BYTES) -> bytes:
    """Inflate a gzip body, refusing to produce more than ``limit`` bytes.

    Raises:
        ParseError: the data is not valid gzip or inflates beyond ``limit``.
    """
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        inflated = inflater.decompress(content, limit + 1)
    except zlib.error as err:
        raise ParseError(f"sitemap: broken gzip data ({err})") from err
    if len(inflated) > limit:
        raise ParseError(f"sitemap: gzip inflates to more than {limit // 2**20} MB")
    return inflated


def read_xml(content: bytes, layer: str) -> tuple[etree._Element, tuple[str, ...]]:
    """Parse XML safely: entities, DTDs, the network and huge trees all off; recover mode on.

    Args:
        content: the document.
        layer: the name errors and warnings start with ("sitemap", "opml").

    Returns:
        The root element and the parser's complaints (at most MAX_WARNINGS).

    Raises:
        ParseError: an unsafe DTD, or nothing recoverable.
    """
    reason = sniff.unsafe_dtd_reason(content)
    if reason:
        raise ParseError(f"{layer}: refused: {reason}")
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        recover=True,
        remove_comments=True,
        remove_pis=True,
    )
    # "?a=1&b=2" unescaped in <loc> is the commonest sitemap error; recover mode would drop "&b"
    content = _BARE_AMPERSAND.sub(b"&amp;", content)
    try:
        root = etree.fromstring(content, parser)
    except (etree.XMLSyntaxError, ValueError) as err:
        raise ParseError(f"{layer}: unable to parse XML ({err})") from err
    if root is None:
        raise ParseError(f"{layer}: unable to parse XML (no root element)")
    warnings = tuple(f"{layer}: line {e.line}: {e.message}" for e in parser.error_log)
    return root, warnings[:MAX_WARNINGS]


def _parse_xml(content: bytes, url: str) -> Feed:
    """Map a ``urlset`` or ``sitemapindex`` document onto a Feed."""
    root, warnings = read_xml(content, "sitemap")
    if local_name(root) == "sitemapindex":
        children = (
            absolute_url(_child_text(node, "loc"), url) for node in _children(root, "sitemap")
        )
        return Feed(
            kind="sitemapindex",
            sitemaps=tuple(dict.fromkeys(child for child in children if child)),
            self_url=url,
            warnings=warnings,
        )
    entries = _unique(_url_entry(node, url) for node in _children(root, "url"))
    return Feed(kind="sitemap", entries=entries, self_url=url, warnings=warnings)


def _url_entry(node: etree._Element, base: str) -> FeedEntry:
    """One ``<url>`` element as a FeedEntry (url "" when its ``<loc>`` is missing or unusable)."""
    news = _child(node, "news")
    publication = _child(news, "publication") if news is not None else None
    image = _child(node, "image")
    keywords = _child_text(news, "keywords") if news is not None else ""
    return FeedEntry(
        url=absolute_url(_child_text(node, "loc"), base),
        updated=parse_date(_child_text(node, "lastmod")),
        title=plain_text(_child_text(news, "title")) if news is not None else "",
        published=parse_date(_child_text(news, "publication_date")) if news is not None else None,
        language=_child_text(publication, "language") if publication is not None else "",
        categories=tuple(dict.fromkeys(k.strip() for k in keywords.split(",") if k.strip())),
        image=absolute_url(_child_text(image, "loc"), base) if image is not None else "",
    )


def _parse_text(content: bytes, url: str) -> Feed:
    """A plain-text sitemap: one URL per line, blank and non-URL lines skipped."""
    lines = content.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()
    urls = [absolute_url(line, "") for line in lines if line.strip()]
    skipped = sum(1 for found in urls if not found)
    warnings = (f"sitemap: {skipped} lines are not http(s) URLs",) if skipped else ()
    entries = _unique(FeedEntry(url=found) for found in urls)
    return Feed(kind="sitemap", entries=entries, self_url=url, warnings=warnings)


def _unique(entries: Iterator[FeedEntry]) -> tuple[FeedEntry, ...]:
    """Entries with a URL, the first of each URL kept, in document order."""
    seen: dict[str, FeedEntry] = {}
    for entry in entries:
        if entry.url and entry.url not in seen:
            seen[entry.url] = entry
    return tuple(seen.values())


def local_name(node: etree._Element) -> str:
    """An element's tag without its namespace ("" for comments and PIs)."""
    tag = node.tag
    if not isinstance(tag, str):
        return ""
    # not etree.QName: recover mode can leave names like "urlset:" that QName rejects
    local = tag.rsplit("}", 1)[-1]
    return local.rsplit(":", 1)[-1] or local


def _children(node: etree._Element, name: str = "") -> Iterator[etree._Element]:
    """Child elements, optionally only those with this local name."""
    return (
        child for child in node if local_name(child) and (not name or local_name(child) == name)
    )


def _child(node: etree._Element, name: str) -> etree._Element | None:
    """The first child element with this local name."""
    return next(_children(node, name), None)


def _child_text(node: etree._Element | None, name: str) -> str:
    """The stripped text of the first child with this local name ("" when absent)."""
    child = _child(node, name) if node is not None else None
    if child is None:
        return ""
    try:
        return (child.text or "").strip()
    except UnicodeDecodeError:
        # Recover mode keeps what it could not decode (bad bytes, "&#xD800;"), and lxml then
        # cannot hand the text out: an unusable value, like a missing one (found by bench/fuzz.py).
        return ""
