"""The story desk over a real store: the stories stage as the product runs it."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from types import ModuleType

from primenews.domain import Article, Source
from primenews.store import Store, deskstate
from primenews.stories import ClusterOptions, StoryDoc, score_clustering
from primenews.worker.desk import STATE_NAME, StoryDesk

from shared_data import SHARED_DATA, require_shared

T0 = datetime(2026, 8, 13, 6, 0, tzinfo=UTC)
WIRE_TEXT = (
    "Venezuelan authorities freed 103 people detained during protests after the disputed "
    "presidential election, the attorney general's office said on Thursday, while rights "
    "groups said at least 1,800 others remained in custody across the country and called "
    "for their release before the end of the year."
)


def _save(
    store: Store, doc: StoryDoc, sources: dict[str, int], seen: datetime | None = None
) -> int:
    """Store ``doc`` as an article of the source named after its outlet, seen at ``seen``."""
    if doc.outlet not in sources:
        source, _ = store.add_source(
            Source(url=f"https://{doc.outlet}.test/feed.xml", title=doc.outlet), T0
        )
        assert source.id is not None
        sources[doc.outlet] = source.id
    article = Article(
        url=doc.url, title=doc.title, text=doc.text, published=doc.published, language=doc.language
    )
    result = store.save_article(
        article, source_id=sources[doc.outlet], raw_html=b"", fetched_at=seen or doc.published
    )
    return result.article_id


def _members(store: Store) -> dict[int, int]:
    """article id -> story id, as stored."""
    with store.engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT article_id, story_id FROM story_members").all())


def _clock(docs: list[StoryDoc]) -> object:
    return lambda: max(doc.published for doc in docs) + timedelta(minutes=5)


def test_desk_in_the_store_matches_the_pure_stage_on_the_labelled_fixture(
    store: Store, bench: ModuleType
) -> None:
    require_shared(SHARED_DATA / "multi_outlet_feed_snapshots")
    docs, gold = bench.load_fixture()
    sources: dict[str, int] = {}
    polled = max(doc.published for doc in docs)  # all first seen now, some published long ago
    ids = [_save(store, doc, sources, polled) for doc in docs]
    desk = StoryDesk(store, clock=_clock(docs))  # type: ignore[arg-type]
    desk.started = True  # a fresh store: nothing to replay
    for article_id in ids:
        desk.record([article_id])
    desk.merge_pass()

    stored = _members(store)
    predicted = [stored[article_id] for article_id in ids]
    pure = bench.cluster_labels(docs, ClusterOptions())
    assert score_clustering(pure, predicted).bcubed_f1 == 1.0  # the same partition
    assert score_clustering(gold, predicted).bcubed_f1 >= 0.95

    # Every story row agrees with its members.
    stories, _ = store.list_stories(limit=1000)
    by_story: dict[int, list[int]] = defaultdict(list)
    for article_id, story_id in stored.items():
        by_story[story_id].append(article_id)
    assert {story.id for story in stories} == set(by_story)
    for story in stories:
        assert story.article_count == len(by_story[story.id])
        assert story.first_article_id == min(
            by_story[story.id], key=lambda i: (docs[ids.index(i)].published, i)
        )

    # A restart without the saved state replays the same articles and changes nothing.
    with store.engine.begin() as conn:
        deskstate.delete_state(conn, STATE_NAME)
    again = StoryDesk(store, clock=_clock(docs))  # type: ignore[arg-type]
    assert again.start() == len(docs)
    assert _members(store) == stored
    # With it (saved by that start), nothing is replayed and nothing changes either.
    assert StoryDesk(store, clock=_clock(docs)).start() == 0  # type: ignore[arg-type]
    assert _members(store) == stored


def test_a_syndicated_copy_is_linked_to_its_original_and_counts_as_an_outlet(
    store: Store,
) -> None:
    sources: dict[str, int] = {}
    original = StoryDoc("a", "Venezuela frees 103 detainees", WIRE_TEXT, "https://wire.test/a",
                        "wire", T0)  # fmt: skip
    copy = StoryDoc("b", "Venezuela frees 103 detainees", WIRE_TEXT, "https://paper.test/b",
                    "paper", T0 + timedelta(hours=1))  # fmt: skip
    first, second = _save(store, original, sources), _save(store, copy, sources)
    desk = StoryDesk(store, clock=lambda: T0 + timedelta(hours=2))
    desk.record([first])
    desk.record([second])

    copied = store.get_article(second)
    assert copied is not None and copied.duplicate_of == first
    # The wire text is stored once: the copy's row has none and reads the original's.
    with store.engine.connect() as conn:
        texts = dict(conn.exec_driver_sql("SELECT id, text FROM articles").all())
    assert texts == {first: WIRE_TEXT, second: ""}
    assert copied.article.text == WIRE_TEXT
    stored_original = store.get_article(first)
    assert stored_original is not None and stored_original.duplicate_of is None
    assert copied.story_id == stored_original.story_id is not None
    story = store.get_story(copied.story_id)
    assert story is not None
    assert (story.article_count, story.outlet_count, story.first_article_id) == (2, 2, first)
    originals, _ = store.list_articles(originals_only=True)
    assert [stored.id for stored in originals] == [first]
    members = store.story_articles(story.id)
    assert [(m.article_id, m.duplicate_of, m.duplicate_kind) for m in members] == [
        (first, None, ""),
        (second, first, "exact"),
    ]


def test_a_revised_title_stays_in_its_story_and_can_change_the_headline(store: Store) -> None:
    sources: dict[str, int] = {}
    doc = StoryDoc("a", "Venezuela frees detainees", WIRE_TEXT, "https://wire.test/a", "wire", T0)
    article_id = _save(store, doc, sources)
    desk = StoryDesk(store, clock=lambda: T0 + timedelta(hours=2))
    desk.record([article_id])
    before = store.get_article(article_id)
    assert before is not None and before.story_id is not None

    revised = Article(url=doc.url, title="Venezuela frees 103 detainees", text=WIRE_TEXT,
                      published=T0)  # fmt: skip
    result = store.save_article(
        revised, source_id=sources["wire"], raw_html=b"", fetched_at=T0 + timedelta(hours=1)
    )
    assert result.article_id == article_id
    desk.record([article_id])
    after = store.get_article(article_id)
    assert after is not None and after.story_id == before.story_id
    story = store.get_story(before.story_id)
    assert story is not None
    assert (story.headline, story.article_count) == ("Venezuela frees 103 detainees", 1)


def test_a_copy_that_is_revised_keeps_its_own_new_text(store: Store) -> None:
    sources: dict[str, int] = {}
    original = StoryDoc("a", "Venezuela frees 103 detainees", WIRE_TEXT, "https://wire.test/a",
                        "wire", T0)  # fmt: skip
    copy = StoryDoc("b", "Venezuela frees 103 detainees", WIRE_TEXT, "https://paper.test/b",
                    "paper", T0 + timedelta(hours=1))  # fmt: skip
    first, second = _save(store, original, sources), _save(store, copy, sources)
    desk = StoryDesk(store, clock=lambda: T0 + timedelta(hours=3))
    desk.record([first, second])
    edited = WIRE_TEXT + " The paper's correspondent in Caracas added that families waited outside."
    result = store.save_article(
        Article(url=copy.url, title=copy.title, text=edited, published=copy.published),
        source_id=sources["paper"],
        raw_html=b"",
        fetched_at=T0 + timedelta(hours=2),
    )
    assert result.article_id == second
    desk.record([second])
    revised = store.get_article(second)
    assert revised is not None
    assert (revised.article.text, revised.duplicate_of) == (edited, None)
    assert revised.story_id == store.get_article(first).story_id  # type: ignore[union-attr]


def test_an_article_in_chinese_gets_a_story(store: Store) -> None:
    # wordfreq needs extra tokenizers for Chinese; without them the IDF prior is simply absent.
    sources: dict[str, int] = {}
    text = (
        "新华社北京11月28日电 国家主席习近平28日在北京会见来访的外国领导人，"
        "双方就双边关系深入交换意见。"
    )
    doc = StoryDoc("a", "习近平会见外国领导人", text, "https://xinhua.test/a", "xinhua", T0, "zh")
    article_id = _save(store, doc, sources)
    StoryDesk(store, clock=lambda: T0 + timedelta(hours=1)).record([article_id])
    stored = store.get_article(article_id)
    assert stored is not None and stored.story_id is not None
