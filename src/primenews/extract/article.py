"""Article extraction: one HTML page in, one :class:`~primenews.domain.Article` out.

trafilatura finds the main text (its cascade of rules, readability and
jusText) and guesses metadata; htmldate the date when the page does not
state it. This module decodes the bytes, picks trafilatura's settings,
prefers a declared ``<link rel=canonical>`` and assembles the Article;
:mod:`primenews.extract.metadata` prefers what a news page declares about
itself (OpenGraph and ``article:*`` meta, JSON-LD) over those guesses.

Pure: no network, no clock. htmldate bounds dates by "today" unless told
otherwise, so the latest acceptable date comes from :class:`ExtractOptions`.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree
from lxml.html import HtmlElement
from trafilatura.core import bare_extraction
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.settings import Document, Extractor
from trafilatura.utils import decode_file, detect_encoding, load_html

from primenews.domain import Article
from primenews.errors import ExtractError
from primenews.extract import metadata
from primenews.extract.urls import canonical_url, is_plausible_canonical

__all__ = ["ExtractOptions", "decode_html", "extract_article"]

logger = logging.getLogger(__name__)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""",
    re.IGNORECASE,
)
# WHATWG encoding labels: browsers read all of these as windows-1252, and so do we
_AS_CP1252 = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"})
# what pages are written in (the WHATWG list, by Python's names): a detector's guess
# outside it (mac_latin2, cp775...) is noise
_WEB_ENCODINGS = frozenset(
    "cp1250 cp1251 cp1252 cp1253 cp1254 cp1255 cp1256 cp1257 cp1258 cp874 koi8_r koi8_u"
    " iso8859_2 iso8859_3 iso8859_4 iso8859_5 iso8859_6 iso8859_7 iso8859_8 iso8859_13"
    " iso8859_15 shift_jis cp932 euc_jp iso2022_jp gb2312 gbk gb18030 big5 euc_kr cp949".split()
)
_NOT_TEXT = frozenset({"script", "style", "noscript", "template", "svg"})
_KEPT_ATTRIBUTES = frozenset({"href", "src", "alt", "title", "colspan", "rowspan"})


@dataclass(frozen=True, slots=True)
class ExtractOptions:
    """How :func:`extract_article` reads a page.

    The defaults scored best on our benchmarks (docs/benchmarks.md): favour
    precision, leave reader comments out, keep tables, and ask trafilatura's
    balanced mode as well when precision mode finds (almost) nothing.
    """

    favor_precision: bool = True
    favor_recall: bool = False  # wins over favor_precision when both are set
    include_tables: bool = True
    include_comments: bool = False
    include_images: bool = False  # <img> in Article.html
    include_links: bool = False  # <a href> in Article.html
    fast: bool = False  # skip trafilatura's readability/jusText comparison: ~30 % less CPU
    fallback_below_chars: int = 300  # precision text shorter than this: try balanced mode
    min_text_chars: int = 25  # less text than this is "no article"
    max_html_chars: int = 20_000_000  # before parsing: inline scripts and SVG count here
    max_elements: int = 30_000  # after parsing: more is no article page
    max_text_chars: int = 1_000_000  # text outside scripts and styles
    latest_date: date | None = None  # no publication date after this day (e.g. the fetch day)
    extensive_date_search: bool = True  # htmldate's free-text search when the markup has no date
    detect_language: bool = True  # py3langid overrules the markup when the text clearly disagrees


def decode_html(raw: bytes | str, http_charset: str = "") -> str:
    """Decode a page's bytes: BOM, then UTF-8, then the declared charset, then detection.

    Valid UTF-8 with non-ASCII bytes is almost never anything else, so it
    wins over a (frequently wrong) declared latin-1; a declared charset that
    cannot decode the bytes is ignored. The HTTP header's charset
    (``http_charset``), when given, is tried before the page's own
    declaration, as browsers do. Never raises on bad bytes.
    """
    if isinstance(raw, str):
        return raw
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return raw.decode(codec, errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    match = _DECLARED_CHARSET.search(raw[:4096])
    declared = (match.group(1) or match.group(2)).decode("ascii", "ignore") if match else ""
    for label in (http_charset.strip().lower(), declared.lower()):
        if not label:
            continue
        try:
            return raw.decode("cp1252" if label in _AS_CP1252 else label)
        except (LookupError, UnicodeDecodeError):
            logger.debug("declared charset %s does not decode the page", label)
    guesses = [g for g in detect_encoding(raw) if g.replace("-", "_") in _WEB_ENCODINGS]
    # the detector often ranks cp1250 first on Western text, where the two read most
    # letters alike; windows-1252 is also the browsers' fallback in most locales
    if "cp1252" in guesses:
        return raw.decode("cp1252", errors="replace")
    return raw.decode(guesses[0], errors="replace") if guesses else str(decode_file(raw))


def extract_article(
    html: bytes | str,
    url: str = "",
    options: ExtractOptions | None = None,
    *,
    http_charset: str = "",
    listed_published: datetime | None = None,
) -> Article:
    """Extract the article of one HTML page: clean text, simple HTML and metadata.

    Args:
        html: the page as fetched (bytes are decoded with :func:`decode_html`) or text.
        url: the URL the page was fetched from; resolves relative links and
            is the identity when the page declares no usable canonical URL.
        options: extraction settings; the defaults suit news pages.
        http_charset: the charset of the response's Content-Type header, if any.
        listed_published: the publication time the feed or sitemap that
            listed the page gives; it beats guessing a date from the page's
            text when the page declares none.

    Returns:
        The article, ``url`` canonical and ``fetched_url`` set to ``url``.

    Raises:
        ExtractError: the page is empty, not HTML, too large, or holds no article text.
    """
    options = options or ExtractOptions()
    try:
        tree = _parse(decode_html(html, http_charset), options)
        declared = metadata.read_declared(tree)
        page = metadata.ParsedPage(tree, declared, _canonical(tree, declared, url), url)
        document = _extract_body(tree, page.url, options)
        if document is None or len(document.text or "") < options.min_text_chars:
            raise ExtractError(f"extract: no article text in {url!r}")
        return _build_article(page, document, options, listed_published)
    except (ValueError, TypeError, RecursionError, etree.LxmlError) as err:
        raise ExtractError(f"extract: cannot read page {url!r}: {err}") from err


def _parse(text: str, options: ExtractOptions) -> HtmlElement:
    if len(text) > options.max_html_chars:
        raise ExtractError(f"extract: page too large ({len(text)} characters)")
    tree = load_html(text) if text.strip() else None
    if tree is None:
        raise ExtractError("extract: empty page or not HTML")
    _check_size(tree, options)
    return tree


def _check_size(tree: HtmlElement, options: ExtractOptions) -> None:
    """Refuse pages no article needs and trafilatura would take seconds on.

    The largest pages of our corpora have ~5,500 elements and ~0.2 MB of
    text; extraction time grows with both.
    """
    elements = text_chars = 0
    for element in tree.iter():
        elements += 1
        if element.tag not in _NOT_TEXT:
            text_chars += len(element.text or "") + len(element.tail or "")
    if elements > options.max_elements or text_chars > options.max_text_chars:
        raise ExtractError(f"extract: page too big ({elements} elements, {text_chars} chars)")


def _canonical(tree: HtmlElement, declared: metadata.Declared, url: str) -> str:
    """The page's declared canonical URL when it is plausible, else the given one."""
    links = [
        link.get("href", "")
        for link in tree.iter("link")
        if "canonical" in (link.get("rel") or "").lower().split()
    ]
    for candidate in (*links, *declared.meta.get("og:url", ())):
        absolute = canonical_url(candidate, base=url)
        if is_plausible_canonical(absolute, url):
            return absolute
    return canonical_url(url) if url else ""


def _trafilatura_options(options: ExtractOptions, url: str, *, precision: bool) -> Extractor:
    return Extractor(
        output_format="python",
        fast=options.fast,
        precision=precision and not options.favor_recall,
        recall=options.favor_recall,
        comments=options.include_comments,
        tables=options.include_tables,
        images=options.include_images,
        links=options.include_links,
        url=url or None,
        date_params=metadata.date_params(options),
    )


def _run_trafilatura(tree: HtmlElement, options: Extractor) -> Document | None:
    result = bare_extraction(tree, options=options)
    return result if isinstance(result, Document) else None


def _extract_body(tree: HtmlElement, url: str, options: ExtractOptions) -> Document | None:
    """Run trafilatura; when precision mode comes up (nearly) empty, ask balanced mode too."""
    precise = options.favor_precision and not options.favor_recall
    document = _run_trafilatura(tree, _trafilatura_options(options, url, precision=precise))
    found = len(document.text or "") if document else 0
    if precise and found < options.fallback_below_chars:
        balanced = _run_trafilatura(tree, _trafilatura_options(options, url, precision=False))
        # only a clearly longer text is worth the precision given up
        if balanced is not None and len(balanced.text or "") > 2 * found:
            logger.debug("precision mode found %d chars, balanced mode used", found)
            document = balanced
    return document


def _paragraphs(text: str, title: str) -> str:
    """One block (paragraph, heading, list item) per paragraph, blank lines between.

    A leading block that repeats the headline goes: the title has its own field.
    """
    blocks = [line.strip() for line in text.splitlines() if line.strip()]
    if len(blocks) > 1 and metadata.squash(blocks[0]) == metadata.squash(title):
        blocks = blocks[1:]
    return "\n\n".join(blocks)


def _body_html(document: Document, title: str) -> str:
    """The extracted body as plain HTML: trafilatura's tags mapped back, attributes dropped.

    Fallback extractors (readability, jusText) hand back the page's own
    elements, so class, style and event attributes are stripped here too;
    links and images keep only what renders them. A leading headline goes.
    """
    body = convert_to_html(document.body).find("body")
    if body is None:
        return ""
    body.tag = "article"
    headline = "".join(str(text) for text in body[0].itertext()) if len(body) > 1 else ""
    if headline and metadata.squash(headline) == metadata.squash(title):
        body.remove(body[0])  # its tail is whitespace between blocks
    for element in body.iter():
        for name in [name for name in element.attrib if name not in _KEPT_ATTRIBUTES]:
            del element.attrib[name]
    return str(etree.tostring(body, encoding="unicode", method="html"))


def _build_article(
    page: metadata.ParsedPage,
    document: Document,
    options: ExtractOptions,
    listed_published: datetime | None,
) -> Article:
    tree, declared = page.tree, page.declared
    guessed = metadata.guess_metadata(tree, declared)
    site_name = metadata.site_name(
        declared, guessed, " ".join(tree.xpath("string(//head/title)").split())
    )
    title = metadata.title(tree, declared, guessed, site_name)
    text = _paragraphs(document.text or "", title)
    return Article(
        url=page.url,
        title=title,
        text=text,
        html=_body_html(document, title),
        byline=", ".join(filter(None, (guessed.author or "").split("; "))),
        published=metadata.published(page, options, listed_published),
        updated=metadata.updated(declared, options.latest_date),
        language=metadata.language(tree, declared, text, detect=options.detect_language),
        image=metadata.image(declared, guessed, page.url),
        site_name=site_name,
        section=metadata.section(declared),
        description=guessed.description or metadata.ld_text(declared.ld_value("description")),
        tags=metadata.tags(declared),
        fetched_url=page.fetched_url,
    )
