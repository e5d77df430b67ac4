"""What a body is, judged from its first bytes, and whether its DTD is safe.

Servers lie about content types (feeds served as ``text/html``, error pages
served as ``application/rss+xml``), so the bytes win and the content type and
URL only break ties. Everything here reads a bounded head of the body and
never parses more than that.

    >>> sniff_kind(b'<?xml version="1.0"?><rss version="2.0">...')
    <SourceKind.FEED: 'feed'>
"""

from __future__ import annotations

import codecs
import re
import zlib

from primenews.domain import SourceKind

HEAD_BYTES = 64 * 1024  # enough for a long comment header or a large DOCTYPE
FEED_ROOTS = frozenset({"rss", "feed", "rdf", "channel", "entry"})  # entry: an Atom entry document
SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
HTML_ROOTS = frozenset({"html", "head", "body", "meta", "title", "div", "script", "p", "link"})
FEED_TYPES = ("rss", "atom", "rdf", "feed+json", "jsonfeed")
MAX_PROLOG_BYTES = 256 * 1024  # real DOCTYPEs are a few KB; bounding the scan bounds its time
MAX_ENTITY_DECLARATIONS = 64
MAX_ENTITY_VALUE_CHARS = 4096

_PROLOG_ITEM = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_DOCTYPE_START = re.compile(r"\s*<!DOCTYPE\b", re.IGNORECASE)
_DOCTYPE_MARK = re.compile(r"\"[^\"]*\"|'[^']*'|<!--|[\"'\[\]>]")
_ELEMENT = re.compile(r"\s*<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_JSON_FEED_VERSION = re.compile(r'"version"\s*:\s*"https?://jsonfeed\.org/version/')
_ENTITY_DECL = re.compile(r"<!ENTITY\s+(%\s+)?(\S+)\s+(?:(SYSTEM|PUBLIC)\b|\"([^\"]*)\"|'([^']*)')")
_CHAR_REF_ONLY = re.compile(r"&#(?:\d+|x[0-9a-fA-F]+);")
_URL_LINE = re.compile(r"https?://\S+$")


def decode_head(content: bytes, limit: int = HEAD_BYTES) -> str:
    """Decode the first ``limit`` bytes well enough to look at markup.

    A BOM or the NUL pattern of UTF-16/32 picks the codec; anything else is
    read as UTF-8 with replacement, which keeps ASCII markup intact for every
    ASCII-compatible charset. Gzip bodies are inflated (bounded) first.
    """
    head = inflate_head(content, limit) if is_gzip(content) else content[:limit]
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            return head.decode(codec, errors="replace")
    if head[:4] in (b"\x00\x00\x00<", b"<\x00\x00\x00"):  # XML's own no-BOM UTF-32 sniffing
        return head.decode("utf-32-be" if head[0] == 0 else "utf-32-le", errors="replace")
    if head[:1] == b"\x00" and head[1:2] not in (b"", b"\x00"):
        return head.decode("utf-16-be", errors="replace")
    if head[1:2] == b"\x00" and head[3:4] == b"\x00" and head[2:3] != b"\x00":
        return head.decode("utf-16-le", errors="replace")
    return head.decode("utf-8", errors="replace")


def is_gzip(content: bytes) -> bool:
    """True when the body starts with the gzip magic number."""
    return content[:2] == b"\x1f\x8b"


def inflate_head(content: bytes, limit: int = HEAD_BYTES) -> bytes:
    """Return at most ``limit`` decompressed bytes of a gzip body (b"" if broken)."""
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(content, limit)
    except zlib.error:
        return b""


def root_element(content: bytes) -> str:
    """The lower-cased local name of the first element ("" when there is none).

    XML declarations, processing instructions, comments and the DOCTYPE
    (with its internal subset) are skipped; a namespace prefix is dropped,
    so ``<rdf:RDF>`` gives ``"rdf"``.
    """
    text = decode_head(content)
    pos, _ = _scan_prolog(text)
    element = _ELEMENT.match(text, pos)
    return element.group(2).lower() if element else ""


def _scan_prolog(text: str) -> tuple[int, str]:
    """Skip the prolog; return where the first element may start and the DOCTYPE text."""
    pos, doctype = (1 if text.startswith("\ufeff") else 0), ""
    while True:
        item = _PROLOG_ITEM.match(text, pos)
        if item is not None and item.end() > pos:
            pos = item.end()
            continue
        start = _DOCTYPE_START.match(text, pos)
        if start is None:
            return pos, doctype
        pos = _doctype_end(text, start.end())
        doctype = text[start.start() : pos]


def _doctype_end(text: str, pos: int) -> int:
    """Where a DOCTYPE that opened before ``pos`` ends, honouring quotes, comments and ``[...]``.

    Linear on hostile input: a quoted string only fails to match when no
    closing quote follows at all (then the scan stops), and comments are
    closed with str.find instead of a backtracking pattern.
    """
    depth = 0
    while (mark := _DOCTYPE_MARK.search(text, pos)) is not None:
        token, pos = mark.group(), mark.end()
        if token in ('"', "'"):  # a quote that is never closed
            break
        if token == "<!--":
            found = text.find("-->", pos)
            if found < 0:
                break
            pos = found + 3
        elif token == "[":
            depth += 1
        elif token == "]":
            depth = max(0, depth - 1)
        elif token == ">" and depth == 0:
            return pos
    return len(text)


def looks_like_json(content: bytes) -> bool:
    """True when the first non-blank character is ``{``."""
    return decode_head(content, 1024).lstrip("\ufeff \t\r\n")[:1] == "{"


def is_json_feed(content: bytes) -> bool:
    """True for a JSON object declaring a jsonfeed.org version near its start."""
    return looks_like_json(content) and bool(_JSON_FEED_VERSION.search(decode_head(content)))


def is_url_list(content: bytes) -> bool:
    """True for a plain-text sitemap: the first non-blank line is an http(s) URL."""
    for line in decode_head(content, 4096).lstrip("\ufeff").splitlines():
        if line.strip():
            return bool(_URL_LINE.match(line.strip()))
    return False


def unsafe_dtd_reason(content: bytes) -> str | None:
    """Why the document's DTD must not reach an XML parser, or None if it is harmless.

    Refused: external entities (``SYSTEM``/``PUBLIC``, the XXE family),
    parameter entities, entities whose value refers to other entities (the
    "billion laughs" amplification), too many or too long declarations, and
    a prolog (DOCTYPE included) longer than MAX_PROLOG_BYTES. A simple
    ``<!ENTITY name "text">`` passes.
    """
    if b"<!ENTITY" not in content and b"\x00" not in content[:4]:  # NULs: UTF-16/32 text
        return None
    head = decode_head(content, MAX_PROLOG_BYTES)
    end, doctype = _scan_prolog(head)
    if end >= len(head) and len(content) > MAX_PROLOG_BYTES:
        return f"its DOCTYPE runs past the first {MAX_PROLOG_BYTES // 1024} KB"
    declarations = _ENTITY_DECL.findall(doctype)
    if len(declarations) > MAX_ENTITY_DECLARATIONS:
        return f"declares {len(declarations)} XML entities"
    for parameter, name, external, double, single in declarations:
        value = double or single
        if parameter:
            return f"declares the parameter entity {name!r}"
        if external:
            return f"declares the external entity {name!r} (XXE)"
        if "&" in _CHAR_REF_ONLY.sub("", value) or "%" in value:
            return f"entity {name!r} refers to other entities (entity expansion)"
        if len(value) > MAX_ENTITY_VALUE_CHARS:
            return f"entity {name!r} is {len(value)} characters long"
    return None


def sniff_kind(content: bytes, content_type: str = "", url: str = "") -> SourceKind:
    """Decide whether a body is a feed, a sitemap or an HTML page.

    Args:
        content: the body (gzip-compressed sitemaps are recognised too).
        content_type: the ``Content-Type`` header, if any; used only when
            the bytes do not say.
        url: where the body came from; a last hint (``sitemap.xml``, ``/feed``).

    Returns:
        The kind; PAGE when nothing points elsewhere.
    """
    root = root_element(content)
    if root in FEED_ROOTS:
        return SourceKind.FEED
    if root in SITEMAP_ROOTS:
        return SourceKind.SITEMAP
    if root in HTML_ROOTS:
        return SourceKind.PAGE
    if is_json_feed(content):
        return SourceKind.FEED
    head = inflate_head(content, 4096) if is_gzip(content) else content
    if is_url_list(head) and "html" not in content_type.lower():
        return SourceKind.SITEMAP
    return _kind_from_hints(content_type, url)


def _kind_from_hints(content_type: str, url: str) -> SourceKind:
    """Fall back on the content type, then the URL, when the bytes are inconclusive."""
    mime = content_type.split(";", 1)[0].strip().lower()
    if any(marker in mime for marker in FEED_TYPES):
        return SourceKind.FEED
    path = url.split("?", 1)[0].lower()
    if "sitemap" in path:
        return SourceKind.SITEMAP
    if path.endswith((".rss", ".atom", "/feed", "/feed/", "/rss", "/rss/", "atom.xml", ".rdf")):
        return SourceKind.FEED
    return SourceKind.PAGE
