"""Learn each site's boilerplate from its pages and keep it out of its articles.

Runs on the store-writer thread, around ``save_article``:

    clean(article)              before saving: drop the paragraphs known to be the site's
    learn(extracted, id)        after saving a new article: count its paragraphs for its site;
                                a paragraph that just became boilerplate is also removed from
                                the site's recent stored articles

Only the keys of boilerplate paragraphs are cached in memory (a few per
site); the counts live in the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from primenews.domain import Article
from primenews.extract.boilerplate import paragraph_keys, site_of, strip_boilerplate
from primenews.store import Store

logger = logging.getLogger(__name__)

RECENT_ARTICLES = 200  # stored articles of a site cleaned when it gains a boilerplate paragraph


class BoilerplateFilter:
    """Per-site boilerplate, learnt from the site's articles as they are stored."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))
        self._known: dict[str, set[str]] = {}

    def known(self, site: str) -> set[str]:
        if site not in self._known:
            self._known[site] = self.store.site_boilerplate(site)
        return self._known[site]

    def clean(self, article: Article) -> Article:
        """The article without its site's known boilerplate."""
        site = site_of(article.url)
        return strip_boilerplate(article, self.known(site)) if site else article

    def learn(self, extracted: Article) -> int:
        """Count a newly stored article's paragraphs (as extracted, before cleaning).

        Returns:
            How many stored articles were cleaned because the site gained boilerplate.
        """
        site = site_of(extracted.url)
        keys = paragraph_keys(extracted.text)
        if not site or not keys:
            return 0
        now_known = self.store.learn_paragraphs(site, keys, self.clock())
        # A site first met here compares with itself, as when it was read after counting.
        before = self._known.get(site, now_known)
        self._known[site] = now_known
        if now_known <= before:
            return 0
        return self._clean_recent(site, now_known)

    def _clean_recent(self, site: str, boilerplate: set[str]) -> int:
        cleaned = []
        for stored in self.store.recent_site_articles(site, RECENT_ARTICLES):
            article = Article(url=stored.url, title="", text=stored.text, html=stored.html)
            stripped = strip_boilerplate(article, boilerplate)
            if stripped is not article:
                cleaned.append((stored.id, stripped.text, stripped.html))
        if cleaned:
            self.store.replace_texts(cleaned)
            logger.info(
                "boilerplate: %s gained a paragraph; cleaned %d articles", site, len(cleaned)
            )
        return len(cleaned)
