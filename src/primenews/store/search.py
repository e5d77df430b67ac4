"""Full-text search over articles: one interface, one implementation per backend.

``search_articles(conn, query)`` is the interface; it picks the implementation
by the connection's dialect. SQLite uses an FTS5 table, ``article_search``
(title, text, source title; rowid = article id), that the ``0006_search``
migration creates, backfills and keeps in step with ``articles`` and
``sources`` through triggers, so the code that saves articles knows nothing
of search. PostgreSQL uses its own full-text search, set up by the
``0013_search_postgresql`` migration: a table of the same name holds each
article's weighted ``tsvector`` (title A, text B, source title C) under a GIN
index, kept in step by triggers too; the text search configuration reads
words as SQLite's tokenizer does (diacritics removed, English Porter stems, no
stop words), so both backends find the same articles for the same query.

Users' queries are hostile: ``store.search_query`` reads them into terms and
writes the FTS5 expression itself, so no input is a syntax error. Snippets
and highlighted titles come back as HTML in which only ``<mark>`` elements
appear (``search_query.marked_html``): the one form every surface uses.
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Float,
    MetaData,
    Row,
    Table,
    TextClause,
    and_,
    func,
    literal_column,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.exc import DBAPIError

from primenews.domain import StoredArticle
from primenews.errors import StoreError
from primenews.store.articles import (
    ARTICLE_COLUMNS,
    ARTICLE_FROM,
    sections_of,
    stored_article_from_row,
)
from primenews.store.schema import article_sections, articles
from primenews.store.search_query import (
    MARK_CLOSE,
    MARK_OPEN,
    ParsedQuery,
    Term,
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
    # Lower is more relevant (SQLite: bm25; PostgreSQL: minus ts_rank_cd); None by recency.
    score: float | None
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
        SearchNotSupportedError: the database is neither SQLite nor PostgreSQL.
        StoreError: the cursor is not one this search handed out.
    """
    if conn.dialect.name == "sqlite":
        return _sqlite_search(conn, query, rank_window)
    if conn.dialect.name == "postgresql":
        return _postgresql_search(conn, query, rank_window)
    raise SearchNotSupportedError(f"store: search is not supported on {conn.dialect.name}")


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

    The ``0006_search`` migration calls this. On other databases it does
    nothing: PostgreSQL's index is ``0013_search_postgresql``'s
    (``create_postgresql_search_index``).
    """
    if conn.dialect.name != "sqlite":
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
        rows = list(conn.execute(_newest_ids(query, position, params), params))
    else:
        rows = _ranked_ids(conn, query, position, params, rank_window)
    ids = [int(row.id) for row in rows[:limit]]
    return _page(conn, query, position, rows, limit, _marks(conn, parsed, expression, ids))


def _page(
    conn: Connection,
    query: SearchQuery,
    position: _Position,
    rows: list[Row[Any]],
    limit: int,
    marks: dict[int, tuple[str, str]],
) -> SearchPage:
    """The hits of ``rows[:limit]`` (id, sort_time, score) and the cursor to the next page."""
    page = rows[:limit]
    found = _stored_articles(conn, [int(row.id) for row in page])
    hits = [
        SearchHit(found[row.id], row.score, *marks[row.id])
        for row in page
        if row.id in found and row.id in marks
    ]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        if query.order is SearchOrder.RECENT:
            when = last.sort_time
            if not isinstance(when, datetime):  # SQLite's text SQL hands back text
                when = datetime.fromisoformat(str(when))
            last_time = when.replace(tzinfo=UTC) if when.tzinfo is None else when
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


# PostgreSQL: a weighted tsvector per article under a GIN index

PG_CONFIG = "primenews_search"  # the text search configuration the migration makes
# Only the first characters of a text are indexed: a tsvector holds at most 1 MB of
# words, and 250,000 characters (4 bytes at most each) can never exceed it.
PG_INDEXED_CHARS = 250_000
# ts_rank_cd's weights for {D, C, B, A}: title (A) 5x the text (B), source title (C) 2x,
# as BM25_WEIGHTS on SQLite.
PG_WEIGHTS = "{0.1, 0.4, 0.2, 1.0}"
# Ranking reads each match's whole tsvector (~80 µs a match on the busy dev box, against
# FTS5's ~3 µs): relevance ranks the newest 1,000 matches, not 10,000 (docs/benchmarks.md).
PG_RANK_WINDOW = 1_000
PG_RECENT_PROBE = 500  # newest articles tested first for a page of newest matches
_PG_TITLE_OPTIONS = f"HighlightAll=true, StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}"
_PG_SNIPPET_OPTIONS = (
    f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxFragments=1,"
    f" MaxWords={SNIPPET_TOKENS}, MinWords={SNIPPET_TOKENS // 2}, ShortWord=0"
)

# Not in schema.metadata: made by its migration alone, and never copied by migrate-store
# (the triggers fill it as the articles arrive).
_pg_search = Table(
    "article_search",
    MetaData(),
    Column("article_id", BigInteger, primary_key=True),
    Column("document", TSVECTOR, nullable=False),
)
# Found on the search_path, where the migration made it.
_PG_CONFIG_SQL: ColumnElement[Any] = literal_column(f"'{PG_CONFIG}'::regconfig")


def create_postgresql_search_index(conn: Connection) -> None:
    """Create PostgreSQL's search index and its triggers, and index the stored articles.

    The ``0013_search_postgresql`` migration calls this; on SQLite it does nothing.
    The configuration copies ``simple`` (every language alike, no stop words) and
    reads words through ``unaccent`` and the English Snowball stemmer, as SQLite's
    ``porter unicode61 remove_diacritics`` tokenizer does; without the ``unaccent``
    extension (not installable) diacritics stay, and a warning says so.
    """
    if conn.dialect.name != "postgresql":
        return
    schema = '"' + str(conn.exec_driver_sql("SELECT current_schema()").scalar()) + '"'
    unaccent = _unaccent_dictionary(conn)
    stem = f"{schema}.primenews_stem"
    dictionaries = f"{unaccent}, {stem}" if unaccent else stem
    config = f"{schema}.{PG_CONFIG}"
    document = f"{schema}.article_search_document"
    for statement in (
        # No StopWords: "the who" and "or" are searchable, as on SQLite.
        f"CREATE TEXT SEARCH DICTIONARY {stem} (TEMPLATE = snowball, Language = english)",
        f"CREATE TEXT SEARCH CONFIGURATION {config} (COPY = simple)",
        f"ALTER TEXT SEARCH CONFIGURATION {config} ALTER MAPPING"
        f" FOR asciiword, word, hword_part, hword_asciipart WITH {dictionaries}",
        # "e-mail" is the words "e" and "mail", as on SQLite, not a third "e-mail".
        f"ALTER TEXT SEARCH CONFIGURATION {config} DROP MAPPING FOR asciihword, hword",
        f"""CREATE FUNCTION {document}(title text, body text, source_title text)
        RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$
        SELECT setweight(to_tsvector('{config}', coalesce(title, '')), 'A')
            || setweight(to_tsvector('{config}', left(coalesce(body, ''), {PG_INDEXED_CHARS})), 'B')
            || setweight(to_tsvector('{config}', coalesce(source_title, '')), 'C')
        $$""",
        f"""CREATE TABLE {schema}.article_search (
            article_id bigint PRIMARY KEY REFERENCES {schema}.articles (id) ON DELETE CASCADE,
            document tsvector NOT NULL)""",
        f"CREATE INDEX ix_article_search_document ON {schema}.article_search USING gin (document)",
        f"""CREATE FUNCTION {schema}.article_search_index() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            INSERT INTO {schema}.article_search (article_id, document)
            VALUES (new.id, {document}(new.title, new.text,
                    (SELECT title FROM {schema}.sources WHERE id = new.source_id)))
            ON CONFLICT (article_id) DO UPDATE SET document = excluded.document;
            RETURN NULL;
        END $$""",
        f"""CREATE TRIGGER article_search_insert AFTER INSERT ON {schema}.articles
        FOR EACH ROW EXECUTE FUNCTION {schema}.article_search_index()""",
        # Deleting a source sets its articles' source_id to NULL: an update, re-indexed.
        f"""CREATE TRIGGER article_search_update AFTER UPDATE OF title, text, source_id
        ON {schema}.articles FOR EACH ROW
        WHEN (old.title IS DISTINCT FROM new.title OR old.text IS DISTINCT FROM new.text
              OR old.source_id IS DISTINCT FROM new.source_id)
        EXECUTE FUNCTION {schema}.article_search_index()""",
        f"""CREATE FUNCTION {schema}.article_search_source_title() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            UPDATE {schema}.article_search AS search
            SET document = {document}(articles.title, articles.text, new.title)
            FROM {schema}.articles
            WHERE articles.id = search.article_id AND articles.source_id = new.id;
            RETURN NULL;
        END $$""",
        # The poller writes a source's title on every fetch: only a real change re-indexes.
        f"""CREATE TRIGGER article_search_source_title AFTER UPDATE OF title
        ON {schema}.sources FOR EACH ROW WHEN (old.title IS DISTINCT FROM new.title)
        EXECUTE FUNCTION {schema}.article_search_source_title()""",
        f"""INSERT INTO {schema}.article_search (article_id, document)
        SELECT articles.id, {document}(articles.title, articles.text, sources.title)
        FROM {schema}.articles LEFT JOIN {schema}.sources ON sources.id = articles.source_id""",
    ):
        conn.exec_driver_sql(statement)


def _unaccent_dictionary(conn: Connection) -> str | None:
    """The ``unaccent`` dictionary, schema-qualified; the extension is made when missing."""
    where = (
        "SELECT nspname FROM pg_extension JOIN pg_namespace ON pg_namespace.oid = extnamespace"
        " WHERE extname = 'unaccent'"
    )
    found = conn.exec_driver_sql(where).scalar()
    if found is None:
        try:
            with conn.begin_nested():  # a refusal (no privilege, no contrib) is not a failure
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
        except DBAPIError as err:
            logger.warning(
                "search: the unaccent extension cannot be created (%s);"
                " searches will tell 'Zurich' from 'Zürich'",
                str(err.orig).strip(),
            )
            return None
        found = conn.exec_driver_sql(where).scalar()
    return f'"{found}".unaccent'


def _postgresql_search(conn: Connection, query: SearchQuery, rank_window: int) -> SearchPage:
    parsed = parse_query(query.text)
    tsquery = _tsquery(parsed)
    limit = max(1, min(query.limit, MAX_LIMIT))
    position = _Position.decode(query.cursor, query.order)
    if tsquery is None or position.offset > MAX_OFFSET:
        return SearchPage([], None)
    # Matches come from the GIN index: the planner, which does not count the cost of
    # reading each article's (TOASTed) tsvector, would rather scan them all for a common
    # word (1.8 s at 100,000 articles, against 0.13 s). For this transaction only.
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    matches = _pg_search.c.document.op("@@")(tsquery)
    if query.order is SearchOrder.RECENT:
        rows = _pg_newest_ids(conn, query, position, matches, limit)
    else:
        window = min(rank_window, PG_RANK_WINDOW)
        rows = _pg_ranked_ids(conn, query, position, matches, tsquery, limit, window)
    ids = [int(row.id) for row in rows[:limit]]
    return _page(conn, query, position, rows, limit, _pg_marks(conn, tsquery, ids))


def _tsquery(parsed: ParsedQuery) -> ColumnElement[Any] | None:
    """The terms as a ``tsquery``, built from functions so no input is a syntax error.

    ``websearch_to_tsquery`` reads a reader's text too, but knows no ``prefix*``
    and would read quotes and minus signs its own way: the terms are the ones
    ``parse_query`` found for SQLite, each handed over as a bound value.
    """
    if not parsed.wanted:  # as on SQLite: an exclusion alone finds nothing
        return None

    def one(term: Term) -> ColumnElement[Any]:
        if term.prefix:  # words hold only \w characters: nothing in the quotes to escape
            return func.to_tsquery(_PG_CONFIG_SQL, f"'{term.words[0]}':*", type_=TSQUERY)
        return func.phraseto_tsquery(_PG_CONFIG_SQL, " ".join(term.words), type_=TSQUERY)

    expression = one(parsed.wanted[0])
    for term in parsed.wanted[1:]:
        expression = func.tsquery_and(expression, one(term), type_=TSQUERY)
    for term in parsed.unwanted:
        expression = func.tsquery_and(
            expression, func.tsquery_not(one(term), type_=TSQUERY), type_=TSQUERY
        )
    return expression


def _pg_article_filters(query: SearchQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.source_id is not None:
        where.append(articles.c.source_id == query.source_id)
    if query.since is not None:
        where.append(articles.c.sort_time >= query.since)
    if query.until is not None:
        where.append(articles.c.sort_time < query.until)
    return where


def _in_section(column: ColumnElement[Any], section: str) -> ColumnElement[bool]:
    return column.in_(
        select(article_sections.c.article_id).where(article_sections.c.section == section)
    )


def _pg_ranked_ids(
    conn: Connection,
    query: SearchQuery,
    position: _Position,
    matches: ColumnElement[bool],
    tsquery: ColumnElement[Any],
    limit: int,
    rank_window: int,
) -> list[Row[Any]]:
    """Ids by ts_rank_cd, among the ``rank_window`` newest matches when there are more.

    As on SQLite, ranking is the cost (each match's tsvector is read and scored),
    so the window's floor is found first from the ids alone.
    """
    article_id = _pg_search.c.article_id
    where: list[ColumnElement[bool]] = [matches]
    filters = _pg_article_filters(query)
    if filters:
        where.append(article_id.in_(select(articles.c.id).where(*filters)))
    if query.section is not None:
        where.append(_in_section(article_id, query.section))
    floor = conn.execute(
        select(article_id).where(*where).order_by(article_id.desc()).offset(rank_window).limit(1)
    ).scalar()
    if floor is not None:
        where.append(article_id > floor)
    weights: ColumnElement[Any] = literal_column(f"'{PG_WEIGHTS}'::float4[]")
    score = -func.ts_rank_cd(weights, _pg_search.c.document, tsquery, type_=Float)
    return list(
        conn.execute(
            select(article_id.label("id"), null().label("sort_time"), score.label("score"))
            .where(*where)
            .order_by(score, article_id.desc())
            .limit(limit + 1)
            .offset(position.offset)
        )
    )


def _pg_newest_ids(
    conn: Connection,
    query: SearchQuery,
    position: _Position,
    matches: ColumnElement[bool],
    limit: int,
) -> list[Row[Any]]:
    """Newest matches first: among the newest articles when they hold a page, else all.

    A common word fills a page from the few hundred newest articles (each one's
    tsvector tested); a rare one is gathered from the GIN index first. Either
    plan alone is slow for the other kind of word (1.5 s at 100,000 articles).
    """
    where: list[ColumnElement[bool]] = [*_pg_article_filters(query)]
    if query.section is not None:
        where.append(_in_section(articles.c.id, query.section))
    if position.sort_time is not None:
        where.append(
            or_(
                articles.c.sort_time < position.sort_time,
                and_(
                    articles.c.sort_time == position.sort_time,
                    articles.c.id < position.article_id,
                ),
            )
        )
    newest = (
        select(articles.c.id, articles.c.sort_time)
        .where(*where)
        .order_by(articles.c.sort_time.desc(), articles.c.id.desc())
        .limit(PG_RECENT_PROBE)
        .subquery()
    )
    rows = list(
        conn.execute(
            select(newest.c.id, newest.c.sort_time, null().label("score"))
            .join(_pg_search, _pg_search.c.article_id == newest.c.id)
            .where(matches)
            .order_by(newest.c.sort_time.desc(), newest.c.id.desc())
            .limit(limit + 1)
        )
    )
    if len(rows) > limit:
        return rows
    found = select(_pg_search.c.article_id).where(matches).cte("found").prefix_with("MATERIALIZED")
    return list(
        conn.execute(
            select(articles.c.id, articles.c.sort_time, null().label("score"))
            .where(articles.c.id.in_(select(found.c.article_id)), *where)
            .order_by(articles.c.sort_time.desc(), articles.c.id.desc())
            .limit(limit + 1)
        )
    )


def _pg_marks(
    conn: Connection, tsquery: ColumnElement[Any], ids: list[int]
) -> dict[int, tuple[str, str]]:
    """Highlighted title and snippet (ts_headline) of the page's articles only."""
    if not ids:
        return {}
    # ts_headline leaves out what its parser reads as HTML tags, "<script>" of a text
    # that is about one included: angle brackets go in as control characters, come back.
    body = func.translate(func.left(articles.c.text, PG_INDEXED_CHARS), "<>", _PG_ANGLES)
    rows = conn.execute(
        select(
            articles.c.id,
            func.ts_headline(_PG_CONFIG_SQL, articles.c.title, tsquery, _PG_TITLE_OPTIONS).label(
                "title"
            ),
            func.ts_headline(_PG_CONFIG_SQL, body, tsquery, _PG_SNIPPET_OPTIONS).label("snippet"),
            articles.c.text,
        ).where(articles.c.id.in_(ids))
    )
    return {
        int(row.id): (marked_html(row.title or ""), marked_html(_elided(row.snippet, row.text)))
        for row in rows
    }


_PG_ANGLES = "\x05\x06"
_FROM_PG_ANGLES = str.maketrans(_PG_ANGLES, "<>")


def _elided(snippet: str | None, whole: str) -> str:
    """``snippet`` with "…" where it cuts words off, as SQLite's ``snippet()`` writes it.

    ts_headline cuts at words: the punctuation around its ends is put back ("grew.").
    """
    fragment = (snippet or "").translate(_FROM_PG_ANGLES).strip()
    plain = fragment.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")
    if not plain:
        return ""
    found = whole.find(plain)
    if found < 0:  # not found as given (a marker of the article's own): mark both ends
        return f"…{fragment}…"
    start, end = found, found + len(plain)
    if before := _PUNCTUATION_BEFORE.search(whole, max(0, start - 20), start):
        start = before.start()
    if after := _PUNCTUATION_AFTER.match(whole, end):
        end = after.end()
    fragment = whole[start:found] + fragment + whole[found + len(plain) : end]
    head = "…" if _WORDY.search(whole, 0, start) else ""
    tail = "…" if _WORDY.search(whole, end) else ""
    return head + fragment + tail


_PUNCTUATION_BEFORE = re.compile(r"[^\w\s]+$")
_PUNCTUATION_AFTER = re.compile(r"[^\w\s]+")
_WORDY = re.compile(r"\w")


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


def matching_ids(conn: Connection, user_text: str, after_id: int, through_id: int) -> set[int]:
    """Ids in ``(after_id, through_id]`` whose title, text or source match, as /search reads it.

    For saved searches: which new articles a query finds, on either backend's index.

    Raises:
        SearchNotSupportedError: the database is neither SQLite nor PostgreSQL.
    """
    parsed = parse_query(user_text)
    if conn.dialect.name == "sqlite":
        expression = fts5_expression(parsed)
        if expression is None:
            return set()
        rows = conn.execute(
            text(
                "SELECT rowid AS id FROM article_search WHERE article_search MATCH :match "
                "AND rowid > :after AND rowid <= :through"
            ),
            {"match": expression, "after": after_id, "through": through_id},
        )
    elif conn.dialect.name == "postgresql":
        tsquery = _tsquery(parsed)
        if tsquery is None:
            return set()
        rows = conn.execute(
            select(_pg_search.c.article_id.label("id")).where(
                _pg_search.c.document.op("@@")(tsquery),
                _pg_search.c.article_id > after_id,
                _pg_search.c.article_id <= through_id,
            )
        )
    else:
        raise SearchNotSupportedError(f"store: search is not supported on {conn.dialect.name}")
    return {int(row.id) for row in rows}
