"""Full-text search on a real database: the index follows the articles, hostile queries.

The same tests run on SQLite (FTS5) and PostgreSQL (tsvector + GIN): both find the same.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, update

from primenews.domain import Article, Source
from primenews.errors import StoreError
from primenews.store import SearchNotSupportedError, SearchOrder, SearchQuery, Store
from primenews.store.schema import sources
from primenews.store.search import MAX_OFFSET, _Position, search_articles

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
URL = "https://n.example/a"


def _save(
    store: Store,
    url: str,
    title: str,
    text: str,
    *,
    source: Source | None = None,
    minutes_ago: int = 0,
    sections: dict[str, float] | None = None,
) -> int:
    when = NOW - timedelta(minutes=minutes_ago)
    article = Article(url=url, title=title, text=text, published=when)
    result = store.save_article(
        article,
        source_id=source.id if source else None,
        raw_html=b"",
        fetched_at=NOW,
        sections=sections,
    )
    return result.article_id


def _ids(store: Store, text: str, **filters: object) -> list[int]:
    page = store.search(SearchQuery(text=text, **filters))  # type: ignore[arg-type]
    return [hit.article.id for hit in page.hits]


def test_title_words_outrank_body_words(store: Store) -> None:
    body = _save(store, "https://n.example/1", "Harbour news", "The volcano erupted at dawn.")
    title = _save(store, "https://n.example/2", "Volcano erupts", "Ash covered the town.")
    assert _ids(store, "volcano") == [title, body]


def test_index_follows_revisions_and_source_titles(store: Store) -> None:
    source, _ = store.add_source(Source(url="https://n.example/feed", title="Daily Herald"), NOW)
    article_id = _save(store, URL, "Budget vote", "Parliament met.", source=source)
    assert _ids(store, "herald") == [article_id]
    _save(store, URL, "Budget vote delayed", "Senators walked out.", source=source)
    assert _ids(store, "senators") == [article_id]
    assert _ids(store, "parliament") == []
    with store.engine.begin() as conn:
        conn.execute(update(sources).where(sources.c.id == source.id).values(title="Evening Post"))
    assert _ids(store, "herald") == []
    assert _ids(store, "evening post") == [article_id]
    assert store.remove_source(source.id or 0)
    assert _ids(store, "evening") == []
    assert _ids(store, "senators") == [article_id]


def test_migration_backfills_articles_saved_before_it(database_url: str) -> None:
    store = Store.open(database_url)
    store.migrate()
    _save(store, "https://n.example/old", "Old flood story", "Rivers rose.")
    with store.engine.begin() as conn:
        if store.backend == "postgresql":
            migration = "0013_search_postgresql"
            for statement in (
                "DROP TABLE article_search",
                "DROP FUNCTION article_search_index, article_search_source_title CASCADE",
                "DROP FUNCTION article_search_document",
                "DROP TEXT SEARCH CONFIGURATION primenews_search",
                "DROP TEXT SEARCH DICTIONARY primenews_stem",
            ):
                conn.exec_driver_sql(statement)
        else:
            migration = "0006_search"
            conn.exec_driver_sql("DROP TABLE article_search")
            for trigger in ("insert", "update", "delete", "source_title"):
                conn.exec_driver_sql(f"DROP TRIGGER article_search_{trigger}")
        conn.exec_driver_sql(f"DELETE FROM schema_migrations WHERE name = '{migration}'")
    assert store.migrate() == [migration]
    assert len(_ids(store, "flood")) == 1
    store.close()


def test_filters_and_recency(store: Store) -> None:
    a, _ = store.add_source(Source(url="https://a.example/feed", title="A"), NOW)
    b, _ = store.add_source(Source(url="https://b.example/feed", title="B"), NOW)
    old = _save(store, "https://a.example/1", "Storm", "A storm hit.", source=a, minutes_ago=300,
                sections={"world": 0.9})  # fmt: skip
    new = _save(store, "https://b.example/2", "Storm storm storm", "Storm again.", source=b,
                minutes_ago=10, sections={"science": 0.8})  # fmt: skip
    assert _ids(store, "storm", source_id=a.id) == [old]
    assert _ids(store, "storm", section="science") == [new]
    assert _ids(store, "storm", since=NOW - timedelta(hours=1)) == [new]
    assert _ids(store, "storm", until=NOW - timedelta(hours=1)) == [old]
    assert _ids(store, "storm", order=SearchOrder.RECENT) == [new, old]


@pytest.mark.parametrize("order", list(SearchOrder))
def test_cursor_pages_return_each_article_once(store: Store, order: SearchOrder) -> None:
    # Groups of five share a time, so the recency cursor has to break ties by id.
    ids = {
        _save(
            store,
            f"https://n.example/{n}",
            f"Market {n}",
            "Markets moved " * (n % 4 + 1),
            minutes_ago=n // 5,
        )  # fmt: skip
        for n in range(23)
    }
    seen: list[int] = []
    cursor = None
    while True:
        page = store.search(SearchQuery(text="market", order=order, limit=5, cursor=cursor))
        seen.extend(hit.article.id for hit in page.hits)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 23 and set(seen) == ids


def test_a_cursor_of_the_other_order_or_garbage_is_refused(store: Store) -> None:
    for n in range(3):
        _save(store, f"https://n.example/{n}", "Rain", "Rain fell.")
    page = store.search(SearchQuery(text="rain", limit=1))
    assert page.next_cursor
    with pytest.raises(StoreError):
        store.search(SearchQuery(text="rain", order=SearchOrder.RECENT, cursor=page.next_cursor))
    with pytest.raises(StoreError):
        store.search(SearchQuery(text="rain", cursor="%%%not-base64"))


def test_snippets_escape_the_text_and_mark_matches(store: Store) -> None:
    _save(store, "https://n.example/x", "<b>Fire</b> & smoke",
          "Before. <script>alert(1)</script> The fire spread.\x02 odd")  # fmt: skip
    [hit] = store.search(SearchQuery(text="fire")).hits
    assert hit.title_html == "&lt;b&gt;<mark>Fire</mark>&lt;/b&gt; &amp; smoke"
    assert "<script>" not in hit.snippet_html
    assert "&lt;script&gt;" in hit.snippet_html and "<mark>fire</mark>" in hit.snippet_html
    assert hit.snippet_html.count("<mark>") == hit.snippet_html.count("</mark>")


HOSTILE = [
    "", "   ", '"', '"unbalanced', "NEAR(", "NEAR(a b", "*", "-", "--", "-fire", "fire -",
    "title:fire", "text:", "^fire", "fire AND", "OR", "NOT fire", "(fire", "fire)", "'",
    "fire*", '"fire" "', "\x00", "a" * 10_000, "fire " * 2_000, "😀 🔥", "{title text}: x",
]  # fmt: skip


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_return_a_list(store: Store, query: str) -> None:
    _save(store, "https://n.example/f", "Fire", "A fire. aaaa")
    page = store.search(SearchQuery(text=query))
    assert isinstance(page.hits, list)


def test_prefix_and_exclusion_find_what_they_say(store: Store) -> None:
    first = _save(store, "https://n.example/1", "Election day", "Voters queued.")
    _save(store, "https://n.example/2", "Elections drill", "A fire drill.")
    assert sorted(_ids(store, "elect*")) == sorted([first, first + 1])
    assert _ids(store, "election -drill") == [first]


def test_other_databases_say_search_is_not_supported() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        conn.dialect.name = "mysql"  # what search_articles dispatches on
        with pytest.raises(SearchNotSupportedError, match="not supported on mysql"):
            search_articles(conn, SearchQuery(text="x"))


def test_relevance_ranks_the_newest_matches_when_there_are_too_many(store: Store) -> None:
    best = _save(store, "https://n.example/0", "Storm storm storm", "Storm.")
    others = [_save(store, f"https://n.example/{n}", f"Day {n}", "A storm.") for n in range(1, 8)]
    query = SearchQuery(text="storm", limit=3)
    with store.engine.connect() as conn:
        assert search_articles(conn, query).hits[0].article.id == best
        windowed = search_articles(conn, query, rank_window=4)
        assert {hit.article.id for hit in windowed.hits} <= set(others[-4:])
        assert windowed.next_cursor is not None
        rest = search_articles(conn, replace(query, cursor=windowed.next_cursor), rank_window=4)
        seen = [hit.article.id for hit in windowed.hits + rest.hits]
        assert sorted(seen) == others[-4:] and rest.next_cursor is None


def test_relevance_pages_stop_at_the_deepest_offset(store: Store) -> None:
    for n in range(5):
        _save(store, f"https://n.example/{n}", "Tide", "Tide.")
    too_deep = _Position(offset=MAX_OFFSET + 1).encode(SearchOrder.RELEVANCE)
    page = store.search(SearchQuery(text="tide", limit=2, cursor=too_deep))
    assert page.hits == [] and page.next_cursor is None
