"""Article extraction: one HTML page in, one :class:`~primenews.domain.Article` out.

trafilatura finds the main text (its cascade of rules, readability and
jusText) and guesses metadata; htmldate the date when the page does not
state it. This module decodes the bytes, picks trafilatura's settings, and
prefers what a news page declares about itself (``<link rel=canonical>``,
OpenGraph and ``article:*`` meta, JSON-LD) over those guesses.

Pure: no network, no clock. htmldate bounds dates by "today" unless told
otherwise, so the latest acceptable date comes from :class:`ExtractOptions`.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import py3langid
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.core import bare_extraction
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.json_metadata import normalize_authors
from trafilatura.metadata import examine_meta, extract_author, extract_title
from trafilatura.settings import Document, Extractor
from trafilatura.utils import decode_file, detect_encoding, load_html

from primenews.domain import Article
from primenews.errors import ExtractError
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
_FAR_FUTURE = date(2100, 1, 1)  # the date bound when the caller gives none
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# meta names (property, name or itemprop, lower-cased), most specific first
_PUBLISHED_KEYS = tuple(
    "article:published_time og:article:published_time og:published_time datepublished"
    " article.published pubdate publishdate publish-date parsely-pub-date sailthru.date"
    " dc.date.issued dcterms.issued dcterms.created dc.date date".split()
)
_UPDATED_KEYS = tuple(
    "article:modified_time og:article:modified_time og:updated_time datemodified"
    " article.updated dcterms.modified last-modified".split()
)
_SECTION_KEYS = ("article:section", "og:article:section", "parsely-section", "section")
_TAG_KEYS = ("article:tag", "og:article:tag", "news_keywords", "keywords", "parsely-tags")
_LANGUAGE_KEYS = ("content-language", "og:locale", "language", "dc.language", "inlanguage")
# between a headline and the site's name: "Headline | Site", "見出し：サイト", "Site ㅣ Headline"
_TITLE_SEPARATOR = re.compile(r"\s+[|–—·•»«/~*-]{1,2}\s+|\s*[|｜ㅣ：]\s*")
_ARTICLE_TYPE = re.compile(r"(article|posting|report)$", re.IGNORECASE)
_HAS_OFFSET = re.compile(r"(?:[+-]\d\d:?\d\d|Z|GMT|UTC)\s*$", re.IGNORECASE)
_LANG_CODE = re.compile(r"^([a-z]{2})(?:[-_][a-z0-9]+)*$", re.IGNORECASE)
_MAX_TAGS = 30
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


@dataclass(frozen=True, slots=True)
class _Declared:
    """What a page says about itself: ``<meta>`` values and JSON-LD objects."""

    meta: dict[str, list[str]] = field(default_factory=dict)
    ld: tuple[dict[str, Any], ...] = ()  # article-like objects first

    def first(self, keys: tuple[str, ...]) -> str:
        return next((v for key in keys for v in self.meta.get(key, ()) if v.strip()), "").strip()

    def ld_value(self, key: str) -> Any:
        return next((obj[key] for obj in self.ld if obj.get(key)), None)


@dataclass(frozen=True, slots=True)
class _Page:
    """A parsed page with what it declares and the URLs it goes by."""

    tree: HtmlElement
    declared: _Declared
    url: str  # canonical
    fetched_url: str


def decode_html(raw: bytes | str) -> str:
    """Decode a page's bytes: BOM, then UTF-8, then the declared charset, then detection.

    Valid UTF-8 with non-ASCII bytes is almost never anything else, so it
    wins over a (frequently wrong) declared latin-1; a declared charset that
    cannot decode the bytes is ignored. Never raises on bad bytes.
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
    if match:
        label = (match.group(1) or match.group(2)).decode("ascii", "ignore").lower()
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
    html: bytes | str, url: str = "", options: ExtractOptions | None = None
) -> Article:
    """Extract the article of one HTML page: clean text, simple HTML and metadata.

    Args:
        html: the page as fetched (bytes are decoded with :func:`decode_html`) or text.
        url: the URL the page was fetched from; resolves relative links and
            is the identity when the page declares no usable canonical URL.
        options: extraction settings; the defaults suit news pages.

    Returns:
        The article, ``url`` canonical and ``fetched_url`` set to ``url``.

    Raises:
        ExtractError: the page is empty, not HTML, too large, or holds no article text.
    """
    options = options or ExtractOptions()
    try:
        tree = _parse(html, options)
        declared = _read_declared(tree)
        page = _Page(tree, declared, _canonical(tree, declared, url), url)
        document = _extract_body(tree, page.url, options)
        if document is None or len(document.text or "") < options.min_text_chars:
            raise ExtractError(f"extract: no article text in {url!r}")
        return _build_article(page, document, options)
    except (ValueError, TypeError, RecursionError, etree.LxmlError) as err:
        raise ExtractError(f"extract: cannot read page {url!r}: {err}") from err


def _parse(html: bytes | str, options: ExtractOptions) -> HtmlElement:
    text = decode_html(html)
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


def _canonical(tree: HtmlElement, declared: _Declared, url: str) -> str:
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
        date_params=_date_params(options),
    )


def _date_params(options: ExtractOptions) -> dict[str, Any]:
    """htmldate settings; an explicit max_date keeps it off the clock."""
    latest = options.latest_date or _FAR_FUTURE
    return {
        "original_date": True,
        "extensive_search": options.extensive_date_search,
        "max_date": latest.isoformat(),
    }


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
    if len(blocks) > 1 and _squash(blocks[0]) == _squash(title):
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
    if headline and _squash(headline) == _squash(title):
        body.remove(body[0])  # its tail is whitespace between blocks
    for element in body.iter():
        for name in [name for name in element.attrib if name not in _KEPT_ATTRIBUTES]:
            del element.attrib[name]
    return str(etree.tostring(body, encoding="unicode", method="html"))


def _build_article(page: _Page, document: Document, options: ExtractOptions) -> Article:
    tree, declared = page.tree, page.declared
    guessed = _guess_metadata(tree, declared)
    site_name = _site_name(declared, guessed, " ".join(tree.xpath("string(//head/title)").split()))
    title = _title(tree, declared, guessed, site_name)
    text = _paragraphs(document.text or "", title)
    return Article(
        url=page.url,
        title=title,
        text=text,
        html=_body_html(document, title),
        byline=", ".join(filter(None, (guessed.author or "").split("; "))),
        published=_published(page, options),
        updated=_updated(declared, options.latest_date),
        language=_language(tree, declared, text, detect=options.detect_language),
        image=_image(declared, guessed, page.url),
        site_name=site_name,
        section=_section(declared),
        description=guessed.description or _ld_text(declared.ld_value("description")),
        tags=_tags(declared),
        fetched_url=page.fetched_url,
    )


def _guess_metadata(tree: HtmlElement, declared: _Declared) -> Document:
    """trafilatura's reading of the meta tags, plus JSON-LD authors and its fallbacks.

    Like ``trafilatura.extract_metadata`` without the date (htmldate runs
    only when the page declares none), categories and licence (a dozen
    XPath scans of the page we do not use), and with JSON-LD read once,
    strictly: trafilatura's regex rescue of broken JSON-LD can take 0.2 s.
    """
    guessed = examine_meta(tree)
    if guessed.author and " " not in guessed.author:  # a handle or a first name only
        guessed.author = None
    for name in _ld_names(declared.ld_value("author")):
        guessed.author = normalize_authors(guessed.author, name)
    guessed.author = guessed.author or extract_author(tree)
    guessed.title = guessed.title or extract_title(tree)
    guessed.clean_and_trim()
    return guessed


def _ld_names(value: Any) -> list[str]:
    """Names in a JSON-LD ``author``: a string, a Person, or a list of either."""
    items = value if isinstance(value, list) else [value]
    names = [item.get("name") if isinstance(item, dict) else item for item in items]
    return [name.strip() for name in names if isinstance(name, str) and name.strip()]


# --- what the page declares ---------------------------------------------------------------


def _read_declared(tree: HtmlElement) -> _Declared:
    meta: dict[str, list[str]] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        key = key or element.get("http-equiv") or ""
        if key and element.get("content"):
            meta.setdefault(key.strip().lower(), []).append(element.get("content", ""))
    for element in tree.xpath(
        '//*[@itemprop="datePublished" or @itemprop="dateModified"][@datetime]'
    ):
        meta.setdefault(element.get("itemprop").lower(), []).append(element.get("datetime"))
    objects = [
        obj
        for script in tree.xpath('//script[@type="application/ld+json"]/text()')
        for obj in _json_objects(str(script))
    ]
    objects.sort(key=lambda obj: not _ARTICLE_TYPE.search(" ".join(_types(obj))))
    return _Declared(meta=meta, ld=tuple(objects))


def _json_objects(text: str) -> Iterator[dict[str, Any]]:
    """The objects of one JSON-LD script, ``@graph`` and top-level lists flattened."""
    try:
        data = json.loads(text, strict=False)
    except ValueError:
        return
    pending = data if isinstance(data, list) else [data]
    for item in pending:
        if isinstance(item, dict):
            graph = item.get("@graph")
            yield from (
                obj for obj in (graph if isinstance(graph, list) else []) if isinstance(obj, dict)
            )
            yield item


def _types(obj: dict[str, Any]) -> list[str]:
    kind = obj.get("@type", [])
    return [str(k) for k in (kind if isinstance(kind, list) else [kind])]


def _ld_text(value: Any) -> str:
    """A JSON-LD value as text: strings as they are, objects by ``name``, lists by first item."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("url") or ""
    return value.strip() if isinstance(value, str) else ""


# --- dates -------------------------------------------------------------------------------


def _to_datetime(value: str, latest: date | None) -> datetime | None:
    """Parse ISO 8601 or RFC 2822; naive times are taken as UTC; implausible dates dropped."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    bound = datetime.combine(latest or _FAR_FUTURE, datetime.min.time(), UTC) + timedelta(days=2)
    return moment if _EARLIEST <= moment <= bound else None


def _declared_date(
    declared: _Declared, ld_key: str, keys: tuple[str, ...], latest: date | None
) -> datetime | None:
    """The first declared value that parses; one with a UTC offset beats a naive one."""
    values = [_ld_text(declared.ld_value(ld_key))] + [
        v for key in keys for v in declared.meta.get(key, ())
    ]
    values = [v.strip() for v in values if v.strip()]
    with_offset = [v for v in values if _HAS_OFFSET.search(v)]
    return next(filter(None, (_to_datetime(v, latest) for v in with_offset + values)), None)


def _published(page: _Page, options: ExtractOptions) -> datetime | None:
    """The declared publication time, else htmldate's guess of the day (at 00:00 UTC)."""
    found = _declared_date(page.declared, "datePublished", _PUBLISHED_KEYS, options.latest_date)
    if found is None:
        pruned = _without_big_scripts(page.tree)
        guessed = find_date(pruned, url=page.url or None, **_date_params(options))
        found = _to_datetime(guessed, options.latest_date) if guessed else None
    return found


def _without_big_scripts(tree: HtmlElement) -> HtmlElement:
    """A copy for htmldate without inline bundles and app state over 50 kB.

    htmldate's text search reads scripts too (small ones do hold dates), and
    takes seconds on a page carrying megabytes of them.
    """
    copied = deepcopy(tree)
    for script in list(copied.iter("script")):
        if len(script.text or "") > 50_000:
            script.drop_tree()
    return copied


def _updated(declared: _Declared, latest: date | None) -> datetime | None:
    return _declared_date(declared, "dateModified", _UPDATED_KEYS, latest)


# --- names -------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _title_ends(page_title: str, headlines: list[str]) -> set[str]:
    """Segments at either end of ``<title>`` that no headline contains: the site's name."""
    parts = [part for part in _TITLE_SEPARATOR.split(page_title) if part.strip()]
    ends = {parts[0], parts[-1]} if len(parts) > 1 else set()
    text = " ".join(_squash(h) for h in headlines)
    return {_squash(end) for end in ends if _squash(end) not in text and len(end.split()) <= 5}


def _site_name(declared: _Declared, guessed: Document, page_title: str) -> str:
    publisher = _ld_text(declared.ld_value("publisher"))
    named = declared.first(("og:site_name", "application-name")) or publisher
    ends = _TITLE_SEPARATOR.split(page_title)
    suffix = ends[-1].strip() if len(ends) > 1 and len(ends[-1].split()) <= 5 else ""
    return named or suffix or (guessed.sitename or "")


def _strip_site(title: str, site_names: set[str]) -> str:
    """Drop a leading "Site Name | " or a trailing " | Site Name" from a headline."""
    separators = list(_TITLE_SEPARATOR.finditer(title))
    if separators and _squash(title[separators[-1].end() :]) in site_names:
        title = title[: separators[-1].start()]
    if separators and _squash(title[: separators[0].start()]) in site_names:
        title = title[separators[0].end() :]
    return title.strip()


def _title(tree: HtmlElement, declared: _Declared, guessed: Document, site_name: str) -> str:
    """The headline most of the page's sources agree on, without the site's name.

    Sources: JSON-LD ``headline``, ``og:title``, trafilatura's guess and the
    first ``<h1>``. Each, stripped of a site-name suffix, scores one point
    per source (``<title>`` and ``twitter:title`` too) that contains it;
    ties go to the earlier source. A truncated one ("…") or the bare site
    name is never chosen.
    """
    h1 = next((t for t in (" ".join(h.text_content().split()) for h in tree.iter("h1")) if t), "")
    sources = [
        _ld_text(declared.ld_value("headline")),
        declared.first(("og:title",)),
        guessed.title or "",
        h1,
    ]
    sources = [" ".join(s.split()) for s in sources]
    page_title = " ".join(tree.xpath("string(//head/title)").split())
    names = {_squash(n) for n in (site_name, guessed.sitename or "") if n} | _title_ends(
        page_title, sources
    )
    names.discard("")
    pool = [_squash(s) for s in (*sources, page_title, declared.first(("twitter:title",))) if s]
    candidates = [
        c for c in (_strip_site(s, names) for s in sources if s) if _is_headline(c, names)
    ]
    if not candidates:
        return next((s for s in sources if s), "")
    return max(candidates, key=lambda c: sum(_squash(c) in source for source in pool))


def _is_headline(candidate: str, site_names: set[str]) -> bool:
    truncated = candidate.endswith(("...", "…"))
    return bool(candidate) and not truncated and _squash(candidate) not in site_names


def _section(declared: _Declared) -> str:
    """``article:section``, JSON-LD ``articleSection``, else the breadcrumb after "Home"."""
    section = declared.first(_SECTION_KEYS) or _ld_text(declared.ld_value("articleSection"))
    return section or _breadcrumb_section(declared)


def _breadcrumb_section(declared: _Declared) -> str:
    trail = next((o for o in declared.ld if "BreadcrumbList" in _types(o)), {})
    items = [i for i in trail.get("itemListElement", []) if isinstance(i, dict)]
    items.sort(key=lambda item: str(item.get("position", "")).zfill(4))
    names = [_ld_text(item.get("name") or item.get("item")) for item in items]
    # the first crumb is the home page, the last one often the article itself
    return names[1] if len(names) >= 3 else ""


def _tags(declared: _Declared) -> tuple[str, ...]:
    keywords = declared.ld_value("keywords")
    raw = [v for key in _TAG_KEYS for v in declared.meta.get(key, ())]
    raw += keywords if isinstance(keywords, list) else [str(keywords or "")]
    tags: dict[str, str] = {}
    for value in raw:
        for tag in str(value).split(","):
            tags.setdefault(_squash(tag), tag.strip())
    tags.pop("", None)
    return tuple(tags.values())[:_MAX_TAGS]


def _image(declared: _Declared, guessed: Document, page_url: str) -> str:
    image = guessed.image or _ld_text(declared.ld_value("image"))
    return urljoin(page_url, image) if image else ""


def _language(tree: HtmlElement, declared: _Declared, text: str, *, detect: bool) -> str:
    """The declared language, unless py3langid is sure the text is in another one."""
    marked = [tree.get("lang") or tree.get("xml:lang") or "", declared.first(_LANGUAGE_KEYS)]
    marked.append(_ld_text(declared.ld_value("inLanguage")))
    codes = [m.group(1).lower() for m in map(_LANG_CODE.match, (c.strip() for c in marked)) if m]
    declared_code = codes[0] if codes else ""
    if not detect or len(text) < 200:
        return declared_code
    ranked = py3langid.rank(text[:1500])
    best, score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else score - 100.0
    # log-probabilities: a gap of 10 means the runner-up is e^10 times less likely
    if not declared_code or (best != declared_code and score - runner_up > 10.0):
        return str(best)
    return declared_code
