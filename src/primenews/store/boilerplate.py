"""SQL for learning each site's boilerplate: paragraph counts per site, and cleaning."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Float, and_, bindparam, or_, select, update

from primenews.extract.boilerplate import MIN_ARTICLES, MIN_SHARE
from primenews.store.engine import POSTGRESQL, SQLITE, backend, dialect_insert, insert_new_row
from primenews.store.schema import articles, site_paragraphs, sites


@dataclass(frozen=True, slots=True)
class SiteArticle:
    id: int
    url: str
    text: str
    html: str


# Built once: the writer runs these for every new article.
_SITE_TOTAL = select(sites.c.articles).where(sites.c.site == bindparam("b_site"))
_SITE_KEYS = select(site_paragraphs.c.key).where(
    site_paragraphs.c.site == bindparam("b_site"),
    site_paragraphs.c.articles >= bindparam("b_least", type_=Float),  # a share: not rounded
)
_COUNT_SITE = (
    update(sites).where(sites.c.site == bindparam("b_site")).values(articles=sites.c.articles + 1)
)


def _count_paragraphs(name: str) -> Any:
    # One upsert per row: a new paragraph is made counted once, a known one counted one more.
    # Atomic on both backends, so two writers meeting one new paragraph lose no count.
    return dialect_insert(name, site_paragraphs).on_conflict_do_update(
        index_elements=[site_paragraphs.c.site, site_paragraphs.c.key],
        set_={"articles": site_paragraphs.c.articles + 1},
    )


_COUNT_PARAGRAPHS = {name: _count_paragraphs(name) for name in (SQLITE, POSTGRESQL)}


def site_boilerplate(conn: Connection, site: str) -> set[str]:
    """The keys of the paragraphs that are the site's own (see ``is_boilerplate``)."""
    total = conn.execute(_SITE_TOTAL, {"b_site": site}).scalar() or 0
    least = max(MIN_ARTICLES, MIN_SHARE * total)
    rows = conn.execute(_SITE_KEYS, {"b_site": site, "b_least": least})
    return {row.key for row in rows}


def learn_paragraphs(conn: Connection, site: str, keys: Sequence[str], now: datetime) -> None:
    """Count one more article of ``site`` carrying each of ``keys``."""
    # Another writer may make the same new site meanwhile: then that row is counted.
    counted = conn.execute(_COUNT_SITE, {"b_site": site})
    if not counted.rowcount and not insert_new_row(conn, sites, {"site": site, "articles": 1}):
        conn.execute(_COUNT_SITE, {"b_site": site})
    if keys:  # sorted: two writers counting the same paragraphs take their locks in one order
        rows = [
            {"site": site, "key": k, "articles": 1, "first_seen": now} for k in sorted(set(keys))
        ]
        conn.execute(_COUNT_PARAGRAPHS[backend(conn)], rows)


def recent_site_articles(conn: Connection, site: str, limit: int) -> list[SiteArticle]:
    """The site's newest stored articles (by id), found by URL prefix on the URL index."""
    prefixes = [f"{scheme}://{www}{site}/" for scheme in ("https", "http") for www in ("", "www.")]
    # "/" + 1 is "0": every URL starting with the prefix sorts in [prefix, prefix minus / plus 0).
    url: ColumnElement[str] = articles.c.url
    if conn.dialect.name == "postgresql":
        # Byte order, as SQLite compares: a linguistic collation (glibc en_US) skips "/"
        # and would put the site's URLs outside the range.
        url = url.collate("C")
    ranges = [and_(url >= p, url < p[:-1] + "0") for p in prefixes]
    rows = conn.execute(
        select(articles.c.id, articles.c.url, articles.c.text, articles.c.html)
        .where(or_(*ranges))
        .order_by(articles.c.id.desc())
        .limit(limit)
    )
    return [SiteArticle(row.id, row.url, row.text, row.html) for row in rows]


def replace_text(
    conn: Connection, article_id: int, text: str, html: str, content_hash: str
) -> None:
    """Our own cleaning of a stored article: not a revision (the publisher changed nothing)."""
    conn.execute(
        update(articles)
        .where(articles.c.id == article_id)
        .values(text=text, html=html, content_hash=content_hash)
    )
