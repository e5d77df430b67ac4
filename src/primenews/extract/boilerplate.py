"""Site boilerplate: paragraphs a site repeats on many of its pages, removed from its articles.

Extraction keeps what sits inside the article container, and some sites put
newsletter boxes, "why you can trust us" panels or a tagline there. No rule
written in advance knows them; the site's own pages do: a paragraph that
appears word for word in many articles of one site is the site's, not the
article's. The shell (``worker.boilerplate``) counts paragraphs per site in
the store; these pure functions key, judge and strip.

Removal is per site, never global, and a paragraph found in fewer than
``MIN_ARTICLES`` articles of the site is never removed, so a paragraph unique
to an article always stays.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection
from dataclasses import replace
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from primenews.domain import Article

__all__ = [
    "MIN_ARTICLES",
    "MIN_SHARE",
    "is_boilerplate",
    "paragraph_key",
    "paragraph_keys",
    "site_of",
    "strip_boilerplate",
]

MIN_ARTICLES = 4  # seen in at least this many articles of the site …
MIN_SHARE = 0.2  # … and in at least this share of the site's articles seen so far
MIN_CHARS = 12  # shorter lines ("Share", "Advertisement") are keyed too, but not below this
# Never strip an article below this share of its text: something is off with the site's counts.
KEEP_AT_LEAST = 0.3

_BLOCKS = ("p", "div", "li", "blockquote", "h2", "h3", "h4", "h5", "h6", "aside", "section")


def site_of(url: str) -> str:
    """The site a page belongs to: its host, lower case, without ``www.``."""
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")


def paragraph_key(paragraph: str) -> str | None:
    """A key equal for the same paragraph however it is spaced or cased; None if too short."""
    normal = unicodedata.normalize("NFKC", paragraph).casefold()
    normal = re.sub(r"\s+", " ", normal).strip()
    if len(normal) < MIN_CHARS:
        return None
    return hashlib.blake2b(normal.encode(), digest_size=16).hexdigest()


def paragraph_keys(text: str) -> list[str]:
    """The distinct keys of an article's paragraphs (its text's lines), in order."""
    keys: dict[str, None] = {}
    for line in text.splitlines():
        key = paragraph_key(line)
        if key is not None:
            keys[key] = None
    return list(keys)


def is_boilerplate(articles_with_it: int, site_articles: int) -> bool:
    """Whether a paragraph in ``articles_with_it`` of a site's ``site_articles`` is the site's."""
    return articles_with_it >= MIN_ARTICLES and articles_with_it >= MIN_SHARE * site_articles


def strip_boilerplate(article: Article, boilerplate: Collection[str]) -> Article:
    """The article without the paragraphs (text lines and HTML blocks) keyed in ``boilerplate``."""
    if not boilerplate:
        return article
    lines = article.text.splitlines()
    kept = [line for line in lines if paragraph_key(line) not in boilerplate]
    if len(kept) == len(lines):
        return article
    text = "\n".join(kept)
    if len(text.strip()) < KEEP_AT_LEAST * len(article.text.strip()):
        return article
    return replace(article, text=text, html=_strip_html(article.html, boilerplate))


def _strip_html(html: str, boilerplate: Collection[str]) -> str:
    if not html.strip():
        return html
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return html
    for element in list(root.iter(*_BLOCKS)):
        if element.getparent() is not None and paragraph_key(element.text_content()) in boilerplate:
            element.drop_tree()
    wrapped = etree.tostring(root, encoding="unicode", method="html")
    return wrapped.removeprefix("<div>").removesuffix("</div>")
