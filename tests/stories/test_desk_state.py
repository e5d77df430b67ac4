"""The desk's saved state: a restart that loads it decides exactly as a desk that never stopped."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from types import ModuleType

import pytest

from primenews.domain import Article, Source
from primenews.store import Store, deskstate
from primenews.stories import StoryDoc
from primenews.stories.dedup import DuplicateIndex
from primenews.worker.desk import STATE_NAME, StoryDesk

from shared_data import SHARED_DATA, require_shared

ROUND = 7  # articles per polling round


@pytest.fixture
def docs(bench: ModuleType) -> list[StoryDoc]:
    require_shared(SHARED_DATA / "multi_outlet_feed_snapshots")
    loaded, _ = bench.load_fixture()
    # One article per URL, all within the desk's window: then articles and docs pair up.
    newest = max(doc.published for doc in loaded)
    unique = {doc.url: doc for doc in reversed(loaded)}
    return [
        doc
        for doc in loaded
        if unique[doc.url] is doc and doc.published >= newest - timedelta(days=6)
    ]


class Feeder:
    """Stores docs as articles of per-outlet sources, in order, as a poll would."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sources: dict[str, int] = {}

    def save(self, doc: StoryDoc) -> int:
        if doc.outlet not in self.sources:
            source, _ = self.store.add_source(
                Source(url=f"https://{doc.outlet}.test/feed.xml", title=doc.outlet), doc.published
            )
            assert source.id is not None
            self.sources[doc.outlet] = source.id
        article = Article(
            url=doc.url,
            title=doc.title,
            text=doc.text,
            published=doc.published,
            language=doc.language,
        )
        return self.store.save_article(
            article, source_id=self.sources[doc.outlet], raw_html=b"", fetched_at=doc.published
        ).article_id


def _clock(docs: list[StoryDoc]) -> Callable[[], object]:
    return lambda: max(doc.published for doc in docs) + timedelta(minutes=5)


def _desk(store: Store, docs: list[StoryDoc]) -> StoryDesk:
    return StoryDesk(store, clock=_clock(docs))  # type: ignore[arg-type]


def _rounds(desk: StoryDesk, feeder: Feeder, docs: list[StoryDoc]) -> None:
    for start in range(0, len(docs), ROUND):
        ids = [feeder.save(doc) for doc in docs[start : start + ROUND]]
        desk.record(ids)
        desk.merge_pass()


def _stories(store: Store) -> set[frozenset[int]]:
    """The partition of articles into stories, as stored (story ids aside)."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT article_id, story_id FROM story_members").all()
    groups: dict[int, set[int]] = {}
    for article_id, story_id in rows:
        groups.setdefault(story_id, set()).add(article_id)
    return {frozenset(group) for group in groups.values()}


def _copies(store: Store) -> set[tuple[int, int, str]]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT article_id, original_id, kind FROM duplicates").all()
    return {(int(a), int(o), str(k)) for a, o, k in rows}


def _state(desk: StoryDesk) -> str:
    return json.dumps(desk.tracker.to_state(), sort_keys=True)


def test_a_restart_that_loads_the_state_decides_as_if_it_never_stopped(
    docs: list[StoryDoc], new_database_url: Callable[[], str]
) -> None:
    steady, restarted = (Store.open(new_database_url()) for _ in range(2))
    for store in (steady, restarted):
        store.migrate()
    try:
        never_stopped = _desk(steady, docs)
        never_stopped.start()
        _rounds(never_stopped, Feeder(steady), docs)

        half = (len(docs) // 2 // ROUND) * ROUND
        feeder = Feeder(restarted)
        before = _desk(restarted, docs)
        before.start()
        _rounds(before, feeder, docs[:half])
        assert before.save_state()  # what `up` does at shutdown
        after = _desk(restarted, docs)
        assert after.start() == 0  # loaded, nothing to replay
        assert _state(after) == _state(before)
        _rounds(after, feeder, docs[half:])

        assert _stories(restarted) == _stories(steady)
        assert _copies(restarted) == _copies(steady)
        assert _state(after) == _state(never_stopped)
    finally:
        steady.close()
        restarted.close()


def test_articles_stored_after_the_save_or_never_placed_are_replayed(
    docs: list[StoryDoc], new_database_url: Callable[[], str]
) -> None:
    """A crash after the last save: newer articles, and an older one the desk never placed."""
    replayed, from_state = (Store.open(new_database_url()) for _ in range(2))
    for store in (replayed, from_state):
        store.migrate()
    try:
        cut = (len(docs) // 2 // ROUND) * ROUND
        for store in (replayed, from_state):
            feeder = Feeder(store)
            desk = _desk(store, docs)
            desk.start()
            feeder.save(docs[0])  # stored; its placing never ran (the writer stopped)
            _rounds(desk, feeder, docs[1:cut])
            desk.save_state()
            # The process dies: one more round stored and placed, then some stored only.
            _rounds(desk, feeder, docs[cut : cut + ROUND])
            for doc in docs[cut + ROUND :]:
                feeder.save(doc)
        with replayed.engine.begin() as conn:  # the old way: no state, a full replay
            deskstate.delete_state(conn, STATE_NAME)
        assert _desk(replayed, docs).start() == len(docs)
        loaded = _desk(from_state, docs)
        assert loaded.start() == len(docs) - cut + 1  # the newer ones and the unplaced one
        placed = {a for group in _stories(from_state) for a in group}
        assert placed == {a for group in _stories(replayed) for a in group}
        assert len(placed) == len(docs)
    finally:
        replayed.close()
        from_state.close()


@pytest.mark.parametrize(
    "spoil",
    ["version", "garbage", "json", "missing"],
)
def test_a_missing_or_foreign_state_means_a_full_replay(
    spoil: str, docs: list[StoryDoc], store: Store
) -> None:
    feeder = Feeder(store)
    desk = _desk(store, docs)
    desk.start()
    _rounds(desk, feeder, docs[: 3 * ROUND])
    assert desk.save_state()
    with store.engine.begin() as conn:
        saved = deskstate.load_state(conn, STATE_NAME)
        assert saved is not None
        version, blob = saved.version, saved.state
        if spoil == "version":
            version = "0:older"
        elif spoil == "garbage":
            blob = b"\x00not zlib at all"
        elif spoil == "json":
            import zlib

            blob = zlib.compress(b'{"duplicates": {"entries": [[1]]}}')
        if spoil == "missing":
            deskstate.delete_state(conn, STATE_NAME)
        else:
            deskstate.save_state(
                conn, STATE_NAME, version, saved.last_article_id, saved.saved_at, blob
            )
    again = _desk(store, docs)
    assert again.start() == 3 * ROUND  # replayed, not loaded
    assert _state(again) == _state(desk)


def test_a_failed_record_drops_the_saved_state(
    docs: list[StoryDoc], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from primenews.errors import StoreError

    feeder = Feeder(store)
    desk = _desk(store, docs)
    desk.start()
    _rounds(desk, feeder, docs[:ROUND])
    assert desk.save_state()

    def fail(*_args: object, **_kwargs: object) -> set[int]:
        raise StoreError("disk full")

    monkeypatch.setattr(store, "record_observations", fail)
    desk.record([feeder.save(docs[ROUND])])
    monkeypatch.undo()
    assert not desk.save_state()
    with store.engine.connect() as conn:
        assert deskstate.load_state(conn, STATE_NAME) is None  # the next start replays


def test_duplicate_index_state_round_trip_decides_the_same(docs: list[StoryDoc]) -> None:
    index = DuplicateIndex()
    half = len(docs) // 2
    for doc in docs[:half]:
        index.add(doc)
    restored = DuplicateIndex.from_state(json.loads(json.dumps(index.to_state())))
    assert restored.to_state() == index.to_state()
    for doc in docs[half:]:
        assert restored.add(doc) == index.add(doc)
    assert restored.to_state() == index.to_state()
