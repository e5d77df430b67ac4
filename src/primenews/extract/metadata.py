"""Article metadata: what a page declares about itself, preferred over guesses.

``<meta>`` tags (OpenGraph, ``article:*``, Dublin Core...) and JSON-LD come
first; trafilatura's metadata guesses and htmldate's date search fill in
what the page does not state. Read here: dates (published, updated),
headline and site name, section, tags, lead image and language, for
:func:`~primenews.extract.article.extract_article` to assemble.

Pure: no network, no clock. The latest acceptable date comes from
:class:`~primenews.extract.article.ExtractOptions`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import py3langid
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.json_metadata import normalize_authors
from trafilatura.metadata import examine_meta, extract_author, extract_title
from trafilatura.settings import Document

if TYPE_CHECKING:
    from primenews.extract.article import ExtractOptions

__all__ = [
    "Declared",
    "ParsedPage",
    "date_params",
    "guess_metadata",
    "image",
    "language",
    "ld_text",
    "published",
    "read_declared",
    "section",
    "site_name",
    "squash",
    "tags",
    "title",
    "updated",
]

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


@dataclass(frozen=True, slots=True)
class Declared:
    """What a page says about itself: ``<meta>`` values and JSON-LD objects."""

    meta: dict[str, list[str]] = field(default_factory=dict)
    ld: tuple[dict[str, Any], ...] = ()  # article-like objects first

    def first(self, keys: tuple[str, ...]) -> str:
        return next((v for key in keys for v in self.meta.get(key, ()) if v.strip()), "").strip()

    def ld_value(self, key: str) -> Any:
        return next((obj[key] for obj in self.ld if obj.get(key)), None)


@dataclass(frozen=True, slots=True)
class ParsedPage:
    """A parsed page with what it declares and the URLs it goes by."""

    tree: HtmlElement
    declared: Declared
    url: str  # canonical
    fetched_url: str


def guess_metadata(tree: HtmlElement, declared: Declared) -> Document:
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


def read_declared(tree: HtmlElement) -> Declared:
    """What the page declares: ``<meta>`` and ``itemprop`` dates by key, and its JSON-LD."""
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
    return Declared(meta=meta, ld=tuple(objects))


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


def ld_text(value: Any) -> str:
    """A JSON-LD value as text: strings as they are, objects by ``name``, lists by first item."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("url") or ""
    return value.strip() if isinstance(value, str) else ""


# --- dates -------------------------------------------------------------------------------


def date_params(options: ExtractOptions) -> dict[str, Any]:
    """htmldate settings; an explicit max_date keeps it off the clock."""
    latest = options.latest_date or _FAR_FUTURE
    return {
        "original_date": True,
        "extensive_search": options.extensive_date_search,
        "max_date": latest.isoformat(),
    }


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
    declared: Declared, ld_key: str, keys: tuple[str, ...], latest: date | None
) -> datetime | None:
    """The first declared value that parses; one with a UTC offset beats a naive one."""
    values = [ld_text(declared.ld_value(ld_key))] + [
        v for key in keys for v in declared.meta.get(key, ())
    ]
    values = [v.strip() for v in values if v.strip()]
    with_offset = [v for v in values if _HAS_OFFSET.search(v)]
    return next(filter(None, (_to_datetime(v, latest) for v in with_offset + values)), None)


def published(
    page: ParsedPage, options: ExtractOptions, listed: datetime | None = None
) -> datetime | None:
    """The declared publication time, else the listing's, else htmldate's guess of the day.

    A guess (from the URL or the text, at 00:00 UTC) is the weakest witness:
    the time a feed or sitemap gives for the page is the publisher's own, and
    taking it first spares htmldate's search, the costliest part of reading
    a page's metadata.
    """
    declared = _declared_date(page.declared, "datePublished", _PUBLISHED_KEYS, options.latest_date)
    found = declared or listed
    if found is None:
        pruned = _without_big_scripts(page.tree)
        guessed = find_date(pruned, url=page.url or None, **date_params(options))
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


def updated(declared: Declared, latest: date | None) -> datetime | None:
    """The declared time of the last change (JSON-LD ``dateModified`` or meta), if any."""
    return _declared_date(declared, "dateModified", _UPDATED_KEYS, latest)


# --- names -------------------------------------------------------------------------------


def squash(text: str) -> str:
    """Only the case-folded letters and digits: for comparing headlines and tags loosely."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _title_ends(page_title: str, headlines: list[str]) -> set[str]:
    """Segments at either end of ``<title>`` that no headline contains: the site's name."""
    parts = [part for part in _TITLE_SEPARATOR.split(page_title) if part.strip()]
    ends = {parts[0], parts[-1]} if len(parts) > 1 else set()
    text = " ".join(squash(h) for h in headlines)
    return {squash(end) for end in ends if squash(end) not in text and len(end.split()) <= 5}


def site_name(declared: Declared, guessed: Document, page_title: str) -> str:
    """The declared site name, else the ``<title>`` suffix, else trafilatura's guess."""
    publisher = ld_text(declared.ld_value("publisher"))
    named = declared.first(("og:site_name", "application-name")) or publisher
    ends = _TITLE_SEPARATOR.split(page_title)
    suffix = ends[-1].strip() if len(ends) > 1 and len(ends[-1].split()) <= 5 else ""
    return named or suffix or (guessed.sitename or "")


def _strip_site(title: str, site_names: set[str]) -> str:
    """Drop a leading "Site Name | " or a trailing " | Site Name" from a headline."""
    separators = list(_TITLE_SEPARATOR.finditer(title))
    if separators and squash(title[separators[-1].end() :]) in site_names:
        title = title[: separators[-1].start()]
    if separators and squash(title[: separators[0].start()]) in site_names:
        title = title[separators[0].end() :]
    return title.strip()


def title(tree: HtmlElement, declared: Declared, guessed: Document, site_name: str) -> str:
    """The headline most of the page's sources agree on, without the site's name.

    Sources: JSON-LD ``headline``, ``og:title``, trafilatura's guess and the
    first ``<h1>``. Each, stripped of a site-name suffix, scores one point
    per source (``<title>`` and ``twitter:title`` too) that contains it;
    ties go to the earlier source. A truncated one ("…") or the bare site
    name is never chosen.
    """
    h1 = next((t for t in (" ".join(h.text_content().split()) for h in tree.iter("h1")) if t), "")
    sources = [
        ld_text(declared.ld_value("headline")),
        declared.first(("og:title",)),
        guessed.title or "",
        h1,
    ]
    sources = [" ".join(s.split()) for s in sources]
    page_title = " ".join(tree.xpath("string(//head/title)").split())
    names = {squash(n) for n in (site_name, guessed.sitename or "") if n} | _title_ends(
        page_title, sources
    )
    names.discard("")
    pool = [squash(s) for s in (*sources, page_title, declared.first(("twitter:title",))) if s]
    candidates = [
        c for c in (_strip_site(s, names) for s in sources if s) if _is_headline(c, names)
    ]
    if not candidates:
        return next((s for s in sources if s), "")
    return max(candidates, key=lambda c: sum(squash(c) in source for source in pool))


def _is_headline(candidate: str, site_names: set[str]) -> bool:
    truncated = candidate.endswith(("...", "…"))
    return bool(candidate) and not truncated and squash(candidate) not in site_names


def section(declared: Declared) -> str:
    """``article:section``, JSON-LD ``articleSection``, else the breadcrumb after "Home"."""
    section = declared.first(_SECTION_KEYS) or ld_text(declared.ld_value("articleSection"))
    return section or _breadcrumb_section(declared)


def _breadcrumb_section(declared: Declared) -> str:
    trail = next((o for o in declared.ld if "BreadcrumbList" in _types(o)), {})
    items = [i for i in trail.get("itemListElement", []) if isinstance(i, dict)]
    items.sort(key=lambda item: str(item.get("position", "")).zfill(4))
    names = [ld_text(item.get("name") or item.get("item")) for item in items]
    # the first crumb is the home page, the last one often the article itself
    return names[1] if len(names) >= 3 else ""


def tags(declared: Declared) -> tuple[str, ...]:
    """Keywords from meta tags and JSON-LD, split on commas, without duplicates."""
    keywords = declared.ld_value("keywords")
    raw = [v for key in _TAG_KEYS for v in declared.meta.get(key, ())]
    raw += keywords if isinstance(keywords, list) else [str(keywords or "")]
    tags: dict[str, str] = {}
    for value in raw:
        for tag in str(value).split(","):
            tags.setdefault(squash(tag), tag.strip())
    tags.pop("", None)
    return tuple(tags.values())[:_MAX_TAGS]


def image(declared: Declared, guessed: Document, page_url: str) -> str:
    """The lead image as an absolute URL: trafilatura's guess, else JSON-LD ``image``."""
    image = guessed.image or ld_text(declared.ld_value("image"))
    return urljoin(page_url, image) if image else ""


def language(tree: HtmlElement, declared: Declared, text: str, *, detect: bool) -> str:
    """The declared language, unless py3langid is sure the text is in another one."""
    marked = [tree.get("lang") or tree.get("xml:lang") or "", declared.first(_LANGUAGE_KEYS)]
    marked.append(ld_text(declared.ld_value("inLanguage")))
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
