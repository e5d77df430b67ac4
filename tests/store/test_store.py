"""The store on a real database (SQLite file or PostgreSQL schema): sources, fetch log,
entries, articles, revisions."""

from datetime import UTC, datetime, timedelta

import pytest

from primenews.domain import Article, FeedEntry, FetchOutcome, Source, SourceKind
from primenews.errors import StoreError
from primenews.store import (
    PollState,
    SaveStatus,
    SearchQuery,
    Store,
    content_hash,
)
from primenews.store.articles import save_article
from primenews.store.migrations import MIGRATIONS
from primenews.store.sources import claim_due_sources

from concurrent_writers import race

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _article(url: str = "https://news.example/a", **changes: object) -> Article:
    values: dict[str, object] = {"url": url, "title": "A title", "text": "Some text here."}
    values.update(changes)
    return Article(**values)  # type: ignore[arg-type]


def test_migrations_apply_once(database_url: str) -> None:
    store = Store.open(database_url)
    applied = store.migrate()
    assert applied[:3] == ["0001_initial", "0002_article_sections", "0003_stories"]
    assert applied == [name for name, _ in MIGRATIONS]
    assert store.migrate() == []
    store.close()


@pytest.mark.sqlite_only("WAL is a SQLite journal mode")
def test_sqlite_runs_in_wal_mode(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_add_source_is_idempotent(store: Store) -> None:
    first, created = store.add_source(Source(url="https://news.example/feed"), NOW)
    again, created_again = store.add_source(Source(url="https://news.example/feed"), NOW)
    assert created and not created_again
    assert first.id == again.id
    assert [s.url for s in store.list_sources()] == ["https://news.example/feed"]


def test_due_sources_and_fetch_log(store: Store) -> None:
    source, _ = store.add_source(Source(url="https://news.example/feed"), NOW)
    assert [s.id for s in store.due_sources(NOW)] == [source.id]
    failure = FetchOutcome(source_id=source.id, url=source.url, started_at=NOW, error="boom")
    store.record_fetch(
        failure, PollState(next_due=NOW + timedelta(minutes=10), poll_interval_minutes=30)
    )
    failed = store.get_source(source.id)
    assert failed is not None and failed.last_error == "boom" and failed.error_count == 1
    assert store.due_sources(NOW) == []
    ok = FetchOutcome(source_id=source.id, url=source.url, started_at=NOW, status=200, new_items=3)
    state = PollState(next_due=NOW, poll_interval_minutes=20, etag='"v1"', title="News")
    store.record_fetch(ok, state)
    healed = store.get_source(source.id)
    assert healed is not None
    assert (healed.error_count, healed.last_error, healed.etag, healed.title) == (
        0,
        None,
        '"v1"',
        "News",
    )
    assert [f.error for f in store.recent_fetches(source.id)] == [None, "boom"]


def test_one_article_per_canonical_url_whatever_link_led_to_it(store: Store) -> None:
    first = store.save_article(
        _article(fetched_url="https://news.example/a?utm_source=feed"),
        source_id=None,
        raw_html=b"<p>x</p>",
        fetched_at=NOW,
    )
    second = store.save_article(_article(), source_id=None, raw_html=b"<p>x</p>", fetched_at=NOW)
    assert first.status is SaveStatus.NEW and second.status is SaveStatus.UNCHANGED
    assert first.article_id == second.article_id
    assert store.known_urls(["https://news.example/a?utm_source=feed", "https://x/none"]) == {
        "https://news.example/a?utm_source=feed"
    }
    assert store.count_articles() == 1


def test_changed_text_or_title_is_a_revision(store: Store) -> None:
    store.save_article(_article(), source_id=None, raw_html=b"<p>one</p>", fetched_at=NOW)
    revised = store.save_article(
        _article(title="A new title"), source_id=None, raw_html=b"<p>two</p>", fetched_at=NOW
    )
    assert revised.status is SaveStatus.REVISED and revised.revision == 2
    revisions = store.list_revisions(revised.article_id)
    assert [r.title for r in revisions] == ["A title", "A new title"]
    assert store.raw_html(revised.article_id) == b"<p>two</p>"
    assert store.raw_html(revised.article_id, revision=1) == b"<p>one</p>"


def test_entries_stay_pending_until_stored_or_given_up(store: Store) -> None:
    source, _ = store.add_source(Source(url="https://news.example/feed", kind=SourceKind.FEED), NOW)
    assert source.id is not None
    entry = FeedEntry(url="https://news.example/a", guid="guid-a")
    for _ in range(2):
        store.record_entry(source.id, entry, NOW, error="timeout")
        assert store.pending_entries(source.id, [entry]) == [entry]
    store.record_entry(source.id, entry, NOW, error="timeout")
    assert store.pending_entries(source.id, [entry]) == []  # three strikes
    other = FeedEntry(url="https://news.example/b")
    store.save_article(
        _article("https://news.example/b"),
        source_id=source.id,
        raw_html=b"",
        fetched_at=NOW,
        entry=other,
    )
    assert store.pending_entries(source.id, [other]) == []


def test_cursor_pages_through_every_article_once(store: Store) -> None:
    for i in range(25):
        store.save_article(
            _article(
                f"https://news.example/{i}",
                text=f"text {i}",
                published=NOW - timedelta(hours=i % 5),
            ),
            source_id=None,
            raw_html=b"",
            fetched_at=NOW,
        )
    seen: list[int] = []
    cursor = None
    while True:
        page, cursor = store.list_articles(limit=7, cursor=cursor)
        seen.extend(a.id for a in page)
        if cursor is None:
            break
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 25


def test_future_dates_do_not_jump_the_queue(store: Store) -> None:
    store.save_article(
        _article("https://news.example/now"), source_id=None, raw_html=b"", fetched_at=NOW
    )
    store.save_article(
        _article("https://news.example/future", text="other", published=NOW + timedelta(days=300)),
        source_id=None,
        raw_html=b"",
        fetched_at=NOW - timedelta(minutes=1),
    )
    page, _ = store.list_articles()
    assert page[0].article.url == "https://news.example/now"


def test_bad_cursor_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError):
        store.list_articles(cursor="not-a-cursor")


def test_content_hash_ignores_case_and_spacing() -> None:
    assert content_hash("Hello  World\n") == content_hash("hello world")
    assert content_hash("Hello World") != content_hash("Hello Word")


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive"):
        store.add_source(Source(url="https://x.example/f"), datetime(2026, 1, 1))


def test_sections_are_stored_filtered_and_replaced_on_revision(store: Store) -> None:
    world = store.save_article(
        _article("https://news.example/w"),
        source_id=None,
        raw_html=b"",
        fetched_at=NOW,
        sections={"world": 0.9, "politics": 0.7},
    )
    store.save_article(
        _article("https://news.example/b", text="markets"),
        source_id=None,
        raw_html=b"",
        fetched_at=NOW,
        sections={"business": 0.8},
    )
    stored = store.get_article(world.article_id)
    assert stored is not None and stored.sections == ("world", "politics")
    politics, _ = store.list_articles(section="politics")
    assert [a.article.url for a in politics] == ["https://news.example/w"]
    revised = store.save_article(
        _article("https://news.example/w", text="now about markets"),
        source_id=None,
        raw_html=b"",
        fetched_at=NOW,
        sections={"business": 0.6},
    )
    assert revised.status is SaveStatus.REVISED
    assert store.list_articles(section="politics")[0] == []
    assert len(store.list_articles(section="business")[0]) == 2


def test_search_answers_on_both_backends(store: Store) -> None:
    saved = store.save_article(
        _article(title="Volcano erupts"), source_id=None, raw_html=b"", fetched_at=NOW
    )
    [hit] = store.search(SearchQuery(text="volcano")).hits
    assert hit.article.id == saved.article_id and hit.title_html == "<mark>Volcano</mark> erupts"


def test_publisher_junk_fits_both_backends(store: Store) -> None:
    saved = store.save_article(
        _article(title="A\x00 title", language="x-" + "very-long-tag" * 3),
        source_id=None,
        raw_html=b"\x00<p>x</p>",
        fetched_at=NOW,
    )
    stored = store.get_article(saved.article_id)
    assert stored is not None
    # PostgreSQL text cannot hold NUL, so it is dropped there; SQLite keeps what it was given.
    expected = "A title" if store.backend == "postgresql" else "A\x00 title"
    assert stored.article.title == expected
    assert stored.article.language == ("x-" + "very-long-tag" * 3)[:16]
    assert store.raw_html(saved.article_id) == b"\x00<p>x</p>"


def test_claiming_due_sources(store: Store) -> None:
    source, _ = store.add_source(Source(url="https://news.example/feed"), NOW)
    claimed = store.claim_due_sources(NOW, timedelta(minutes=15))
    assert [s.id for s in claimed] == [source.id]
    again = store.claim_due_sources(NOW, timedelta(minutes=15))
    if store.backend == "postgresql":
        assert again == []  # leased: another poller does not take it
        assert store.claim_due_sources(NOW + timedelta(minutes=16)) != []  # the lease ran out
    else:
        assert again == claimed  # one writer: SQLite claims nothing, as before


def test_two_pollers_never_claim_the_same_source(store: Store) -> None:
    if store.backend != "postgresql":
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) are PostgreSQL's; SQLite has one writer")
    for n in range(4):
        store.add_source(Source(url=f"https://news.example/{n}.xml"), NOW)
    lease = timedelta(minutes=15)
    with store.engine.connect() as first, store.engine.connect() as second:
        first.begin()
        taken = claim_due_sources(first, NOW, lease)
        # The first claim is not committed yet: its rows are locked and skipped, not waited for.
        assert claim_due_sources(second, NOW, lease) == []
        first.commit()
        second.rollback()
        assert claim_due_sources(second, NOW, lease) == []  # committed: leased
    assert len(taken) == 4


def test_recent_site_articles_match_the_site_and_nothing_else(store: Store) -> None:
    urls = [
        "https://news.example/a",
        "http://www.news.example/b/c",
        "https://news.example.org/d",  # another site
        "https://news.examples/e",  # another site
        "https://other.example/news.example/f",
    ]
    ids = {
        url: store.save_article(
            _article(url, text=url), source_id=None, raw_html=b"", fetched_at=NOW
        ).article_id
        for url in urls
    }
    found = store.recent_site_articles("news.example")
    assert [a.url for a in found] == ["http://www.news.example/b/c", "https://news.example/a"]
    assert [a.id for a in found] == [ids[u] for u in (urls[1], urls[0])]


def test_two_writers_saving_the_same_new_article_store_it_once(store: Store) -> None:
    # Two queue workers fetch one new URL at once (two feeds list it): the second's
    # look-up misses the first's uncommitted row, its INSERT waits for the first to
    # commit, and then it must take the stored article instead of failing on the
    # unique URL.
    article = _article("https://news.example/both-feeds")
    page, hashed = b"<p>page</p>", content_hash(article.text)
    first, second = race(
        store,
        lambda conn: save_article(
            conn, article, content_hash=hashed, source_id=None, raw_html=page, fetched_at=NOW
        ),
        lambda: store.save_article(article, source_id=None, raw_html=page, fetched_at=NOW),
    )
    assert second.article_id == first.article_id
    assert (first.status, second.status) == (SaveStatus.NEW, SaveStatus.UNCHANGED)
    assert store.count_articles() == 1


def test_failed_insights_lists_the_articles_whose_enrichment_failed(store: Store) -> None:
    ids = [
        store.save_article(
            _article(f"https://news.example/{n}"), source_id=None, raw_html=b"", fetched_at=NOW
        ).article_id
        for n in range(3)
    ]
    store.record_insights_error(ids[1], 1, "RuntimeError: spaCy died", NOW)
    assert store.failed_insights(ids) == [ids[1]]
    assert store.failed_insights([ids[0], ids[2]]) == [] and store.failed_insights([]) == []
