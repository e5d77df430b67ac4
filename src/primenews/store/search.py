"""Full-text search over articles: one interface, one implementation per backend.

``search_articles(conn, query)`` is the interface; it picks the implementation
by the connection's dialect. SQLite uses an FTS5 table, ``article_search``
(title, text, source title; rowid = article id), that the ``0006_search``
migration creates, backfills and keeps in step with ``articles`` and
``sources`` through triggers, so the code that saves articles knows nothing
of search. PostgreSQL will use its own ``tsvector`` search behind the same
``search_articles``; until then it raises ``SearchNotSupportedError``.

Users' queries are hostile: ``store.search_query`` reads them into terms and
writes the FTS5 expression itself, so no input is a syntax error. Snippets
and highlighted titles come back as HTML in which only ``<mark>`` elements
appear (``search_query.marked_html``): the one form every surface uses.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, TextClause, select, text

from primenews.domain import StoredArticle
from primenews.errors import StoreError
from primenews.store.articles import (
    ARTICLE_COLUMNS,
    ARTICLE_FROM,
    sections_of,
    stored_article_from_row,
)
from primenews.store.schema import articles
from primenews.store.search_query import (
    MARK_CLOSE,
    MARK_OPEN,
    ParsedQuery,
    fts5_expression,
    marked_html,
    parse_query,
)

logger = logging.getLogger(__name__)

MAX_OFFSET = 1000  # relevance pages go this deep; past it, refine the query
MAX_LIMIT = 100
# bm25 weights per column (title, text, source title): a word in the title counts 5x.
BM25_WEIGHTS = (5.0, 1.0, 2.0)
SNIPPET_TOKENS = 24
RANK_WINDOW = 10_000  # relevance ranks at most this many of the newest matches


class SearchOrder(StrEnum):
    RELEVANCE = "relevance"
    RECENT = "recent"


class SearchNotSupportedError(StoreError):
    """The store's database has no search implementation yet."""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What a reader asked for. ``until`` is exclusive, ``since`` inclusive (sort time)."""

    text: str
    section: str | None = None
    source_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    order: SearchOrder = SearchOrder.RELEVANCE
    limit: int = 20
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One article found, with its title and a snippet as HTML holding only ``<mark>``."""

    article: StoredArticle
    score: float | None  # bm25, lower is more relevant; None when ordered by recency
    title_html: str
    snippet_html: str


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[SearchHit]
    next_cursor: str | None


def search_articles(
    conn: Connection, query: SearchQuery, *, rank_window: int = RANK_WINDOW
) -> SearchPage:
    """Articles matching ``query``, a page at a time.

    Relevance ranks every match when there are at most ``rank_window``, else the
    ``rank_window`` newest (by arrival): past that, ranking costs more than 100 ms
    and the words are so common that bm25 barely tells articles apart.

    Raises:
        SearchNotSupportedError: the database is not SQLite (PostgreSQL search comes later).
        StoreError: the cursor is not one this search handed out.
    """
    if conn.dialect.name != "sqlite":
        raise SearchNotSupportedError(
            f"store: search is not supported on {conn.dialect.name} yet; use SQLite"
        )
    return _sqlite_search(conn, query, rank_window)


# SQLite: the FTS5 index and how it is kept in step

_SQLITE_DDL = (
    # porter: "elections" finds "election"; remove_diacritics: "Zurich" finds "Zürich".
    "CREATE VIRTUAL TABLE article_search USING fts5("
    "title, text, source_title, tokenize = 'porter unicode61 remove_diacritics 2')",
    f"INSERT INTO article_search(article_search, rank) VALUES "
    f"('rank', 'bm25({', '.join(str(w) for w in BM25_WEIGHTS)})')",
    """CREATE TRIGGER article_search_insert AFTER INSERT ON articles BEGIN
        INSERT INTO article_search(rowid, title, text, source_title)
        VALUES (new.id, new.title, new.text,
                coalesce((SELECT title FROM sources WHERE id = new.source_id), ''));
    END""",
    """CREATE TRIGGER article_search_update AFTER UPDATE OF title, text, source_id ON articles
    WHEN old.title IS NOT new.title OR old.text IS NOT new.text
         OR old.source_id IS NOT new.source_id BEGIN
        DELETE FROM article_search WHERE rowid = old.id;
        INSERT INTO article_search(rowid, title, text, source_title)
        VALUES (new.id, new.title, new.text,
                coalesce((SELECT title FROM sources WHERE id = new.source_id), ''));
    END""",
    """CREATE TRIGGER article_search_delete AFTER DELETE ON articles BEGIN
        DELETE FROM article_search WHERE rowid = old.id;
    END""",
    # The poller writes a source's title on every fetch: only a real change re-indexes.
    """CREATE TRIGGER article_search_source_title AFTER UPDATE OF title ON sources
    WHEN old.title IS NOT new.title BEGIN
        UPDATE article_search SET source_title = new.title
        WHERE rowid IN (SELECT id FROM articles WHERE source_id = new.id);
    END""",
    """INSERT INTO article_search(rowid, title, text, source_title)
    SELECT articles.id, articles.title, articles.text, coalesce(sources.title, '')
    FROM articles LEFT JOIN sources ON sources.id = articles.source_id""",
)


def create_search_index(conn: Connection) -> None:
    """Create the search index and its triggers, and index the articles already stored.

    The ``0006_search`` migration calls this. On a database without an
    implementation it does nothing (PostgreSQL gets its own migration later).
    """
    if conn.dialect.name != "sqlite":
        logger.warning("search index skipped: no search on %s yet", conn.dialect.name)
        return
    for statement in _SQLITE_DDL:
        conn.exec_driver_sql(statement)


def _sqlite_search(conn: Connection, query: SearchQuery, rank_window: int) -> SearchPage:
    parsed = parse_query(query.text)
    expression = fts5_expression(parsed)
    limit = max(1, min(query.limit, MAX_LIMIT))
    position = _Position.decode(query.cursor, query.order)
    if expression is None or position.offset > MAX_OFFSET:
        return SearchPage([], None)
    params: dict[str, object] = {"match": expression, "limit": limit + 1}
    if query.order is SearchOrder.RECENT:
        rows = conn.execute(_newest_ids(query, position, params), params).all()
    else:
        rows = _ranked_ids(conn, query, position, params, rank_window)
    page = rows[:limit]
    ids = [int(row.id) for row in page]
    found = _stored_articles(conn, ids)
    marks = _marks(conn, parsed, expression, ids)
    hits = [
        SearchHit(found[row.id], row.score, *marks[row.id])
        for row in page
        if row.id in found and row.id in marks
    ]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        if query.order is SearchOrder.RECENT:
            last_time = datetime.fromisoformat(str(last.sort_time)).replace(tzinfo=UTC)
            next_cursor = _Position(0, last_time, int(last.id)).encode(query.order)
        elif position.offset + limit <= MAX_OFFSET:  # no cursor to a page that cannot come
            next_cursor = _Position(position.offset + limit).encode(query.order)
    return SearchPage(hits, next_cursor)


def _ranked_ids(
    conn: Connection,
    query: SearchQuery,
    position: _Position,
    params: dict[str, object],
    rank_window: int,
) -> list[Row[Any]]:
    """Ids by bm25, among the ``rank_window`` newest matches when there are more.

    Scoring is the cost (~3 µs a match): a word in 86 % of 100,000 articles
    took 200–300 ms to rank, and its bm25 weight is near zero anyway. Matches
    are cheap to count and walk newest first, so the window's floor is found
    first and only the matches above it are scored.
    """
    where = "article_search MATCH :match"
    wanted = _filtered_ids(query, params)
    if wanted:
        where += f" AND +article_search.rowid IN ({wanted})"  # "+": a set test, not a lookup each
    floor = conn.execute(
        text(
            f"SELECT rowid FROM article_search WHERE {where}"
            " ORDER BY rowid DESC LIMIT 1 OFFSET :window"
        ),
        {**params, "window": rank_window},
    ).first()
    if floor is not None:
        where += " AND article_search.rowid > :floor"
        params["floor"] = floor.rowid
    params["offset"] = position.offset
    return list(
        conn.execute(
            text(
                f"SELECT rowid AS id, rank AS score FROM article_search WHERE {where}"
                " ORDER BY rank, rowid DESC LIMIT :limit OFFSET :offset"
            ),
            params,
        )
    )


def _filtered_ids(query: SearchQuery, params: dict[str, object]) -> str:
    """A SELECT of the ids passing the filters, answered from indexes alone; '' without filters."""
    where: list[str] = []
    if query.source_id is not None:
        where.append("source_id = :source_id")
        params["source_id"] = query.source_id
    if query.since is not None:
        where.append("sort_time >= :since")
        params["since"] = _naive_utc(query.since)
    if query.until is not None:
        where.append("sort_time < :until")
        params["until"] = _naive_utc(query.until)
    selects = [f"SELECT id FROM articles WHERE {' AND '.join(where)}"] if where else []
    if query.section is not None:
        selects.append("SELECT article_id FROM article_sections WHERE section = :section")
        params["section"] = query.section
    return " INTERSECT ".join(selects)


def _newest_ids(query: SearchQuery, position: _Position, params: dict[str, object]) -> TextClause:
    """Walk the articles newest first on a covering index, keeping those that match.

    The matches' ids are gathered once (cheap: no scoring); joining the other way
    round would read each matching article's row, text and all, for its sort time.
    """
    where = ["+a.id IN (SELECT rowid FROM article_search WHERE article_search MATCH :match)"]
    index = "ix_articles_sort"
    if query.source_id is not None:
        index = "ix_articles_source_sort"
        where.append("a.source_id = :source_id")
        params["source_id"] = query.source_id
    if query.since is not None:
        where.append("a.sort_time >= :since")
        params["since"] = _naive_utc(query.since)
    if query.until is not None:
        where.append("a.sort_time < :until")
        params["until"] = _naive_utc(query.until)
    if query.section is not None:
        where.append(
            "EXISTS (SELECT 1 FROM article_sections s"
            " WHERE s.article_id = a.id AND s.section = :section)"
        )
        params["section"] = query.section
    if position.sort_time is not None:
        where.append(
            "(a.sort_time < :after_time OR (a.sort_time = :after_time AND a.id < :after_id))"
        )
        params["after_time"] = _naive_utc(position.sort_time)
        params["after_id"] = position.article_id
    return text(
        f"SELECT a.id, a.sort_time, NULL AS score FROM articles AS a INDEXED BY {index}"
        f" WHERE {' AND '.join(where)} ORDER BY a.sort_time DESC, a.id DESC LIMIT :limit"
    )


def _stored_articles(conn: Connection, ids: list[int]) -> dict[int, StoredArticle]:
    if not ids:
        return {}
    rows = conn.execute(
        select(*ARTICLE_COLUMNS).select_from(ARTICLE_FROM).where(articles.c.id.in_(ids))
    ).all()
    labels = sections_of(conn, ids)
    return {row.id: stored_article_from_row(row, labels.get(row.id, ())) for row in rows}


def _marks(
    conn: Connection, parsed: ParsedQuery, expression: str, ids: list[int]
) -> dict[int, tuple[str, str]]:
    """Highlighted title and snippet of the page's articles only.

    No ``rank`` here: bm25 counts every match's documents again for each id looked up.
    """
    if not ids:
        return {}
    placeholders = ", ".join(f":id{n}" for n in range(len(ids)))
    params: dict[str, object] = {f"id{n}": article_id for n, article_id in enumerate(ids)}
    params.update(match=expression, open=MARK_OPEN, close=MARK_CLOSE, tokens=SNIPPET_TOKENS)
    wanted = f"rowid IN ({placeholders})"
    if any(term.prefix for term in parsed.wanted + parsed.unwanted):
        # Each id looked up expands the prefix again (~3 ms each); one walk over the ids'
        # range, testing each against the set, expands it once.
        params.update(low=min(ids), high=max(ids))
        wanted = f"rowid BETWEEN :low AND :high AND +rowid IN ({placeholders})"
    rows = conn.execute(
        text(
            "SELECT rowid AS id, highlight(article_search, 0, :open, :close) AS title,"
            " snippet(article_search, 1, :open, :close, '…', :tokens) AS snippet"
            f" FROM article_search WHERE article_search MATCH :match AND {wanted}"
        ),
        params,
    )
    return {
        # A marker character already in an article's own text would only mark the wrong
        # words: marked_html balances them, and the text is escaped either way.
        int(row.id): (marked_html(row.title or ""), marked_html(row.snippet or ""))
        for row in rows
    }


def _naive_utc(when: datetime) -> str:
    # article_search is queried with text SQL, so the comparison has to match how
    # UTCDateTime stores times: naive UTC in SQLite's "YYYY-MM-DD HH:MM:SS.ffffff" form.
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


@dataclass(frozen=True, slots=True)
class _Position:
    """Where a page starts: an offset (relevance) or the last article seen (recent)."""

    offset: int = 0
    sort_time: datetime | None = None
    article_id: int = 0

    def encode(self, order: SearchOrder) -> str:
        if order is SearchOrder.RECENT:
            assert self.sort_time is not None
            raw = f"t|{self.sort_time.isoformat()}|{self.article_id}"
        else:
            raw = f"r|{self.offset}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str | None, order: SearchOrder) -> _Position:
        if not cursor:
            return cls()
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            kind, *rest = raw.split("|")
            if kind == "r" and order is SearchOrder.RELEVANCE and len(rest) == 1:
                return cls(offset=max(0, int(rest[0])))
            if kind == "t" and order is SearchOrder.RECENT and len(rest) == 2:
                when = datetime.fromisoformat(rest[0])
                aware = when if when.tzinfo else when.replace(tzinfo=UTC)
                return cls(sort_time=aware, article_id=int(rest[1]))
        except (ValueError, UnicodeDecodeError) as err:
            raise StoreError(f"store: invalid search cursor {cursor!r}") from err
        raise StoreError(f"store: invalid search cursor {cursor!r} for order {order.value}")
