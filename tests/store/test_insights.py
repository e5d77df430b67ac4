"""Insights in the store: saving per article, entity counts, lists, pages and the registry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from primenews.domain import Article, Source
from primenews.errors import StoreError
from primenews.insights.canonical import entity_key, normalise_name
from primenews.insights.enrich import enrich
from primenews.insights.model import (
    DateMention,
    Entity,
    EntityKind,
    Figure,
    Insights,
    Mention,
    Place,
    Qualifier,
    Quote,
)
from primenews.store import Store
from primenews.store.insights import save_insights
from primenews.store.sources import add_source

from concurrent_writers import race

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CARACAS = Place("Caracas", "city", "VE", "Venezuela", 10.5, -66.9, 3_000_000, 3646738)


def _save(store: Store, n: int, text: str = "Some text.", *, days_ago: int = 0) -> tuple[int, int]:
    when = NOW - timedelta(days=days_ago)
    article = Article(url=f"https://news.example/{n}", title=f"T{n}", text=text, published=when)
    result = store.save_article(article, source_id=None, raw_html=b"", fetched_at=when)
    return result.article_id, result.revision


def _entity(name: str, kind: EntityKind, count: int = 1, **extra: object) -> Entity:
    mentions = tuple(Mention(name, i * 10, i * 10 + len(name), "PERSON") for i in range(count))
    return Entity(entity_key(kind, name), name, kind, mentions, **extra)  # type: ignore[arg-type]


def _insights(*entities: Entity, quotes: tuple[Quote, ...] = ()) -> Insights:
    figure = Figure(
        2000.0, "around 2,000", "Around 2,000 people were arrested.", 0, 12,
        noun="people", counts="people arrested", qualifier=Qualifier.AROUND,
        attributed_to="government figures",
    )  # fmt: skip
    day = DateMention(
        "this Thursday", 5, 18, "2024-11-28", date(2024, 11, 28), "day", "release", "S."
    )
    return Insights(
        url="https://news.example/1",
        language="en",
        entities=entities,
        figures=(figure,),
        quotes=quotes,
        dates=(day,),
        summary=("First sentence.", "Second sentence."),
    )


def test_insights_round_trip(store: Store) -> None:
    article_id, revision = _save(store, 1)
    person = _entity("Edmundo González", EntityKind.PERSON, 3, aliases=("González",))
    place = _entity("Caracas", EntityKind.PLACE, 2, place=CARACAS)
    quote = Quote("My departure", 0, 12, "Edmundo González", person.key, cue="said")
    assert store.save_insights(article_id, revision, _insights(person, place, quotes=(quote,)), NOW)

    stored = store.get_article_insights(article_id)
    assert stored is not None and stored.error is None
    assert stored.language == "en"
    assert stored.summary == ("First sentence.", "Second sentence.")
    assert [(e.entity.name, e.mentions) for e in stored.entities] == [
        ("Edmundo González", 3),
        ("Caracas", 2),
    ]
    assert stored.entities[1].entity.place == CARACAS
    assert stored.figures[0].value == 2000.0 and stored.figures[0].qualifier is Qualifier.AROUND
    assert stored.quotes[0].speaker_key == person.key
    assert stored.entity_id(person.key) == stored.entities[0].entity.id
    assert stored.dates[0].value == date(2024, 11, 28)


def test_resaving_replaces_and_counts_stay_right(store: Store) -> None:
    article_id, revision = _save(store, 1)
    person = _entity("Edmundo González", EntityKind.PERSON, 3)
    store.save_insights(article_id, revision, _insights(person), NOW)
    store.save_insights(article_id, revision, _insights(person), NOW)
    entities, _ = store.list_entities()
    assert [(e.name, e.mention_count, e.article_count) for e in entities] == [
        ("Edmundo González", 3, 1)
    ]
    other = _entity("María Corina Machado", EntityKind.PERSON, 1)
    store.save_insights(article_id, revision, _insights(other), NOW)
    entities, _ = store.list_entities()
    assert [e.name for e in entities] == ["María Corina Machado"]  # no article names González now


def test_stale_revision_is_not_saved(store: Store) -> None:
    article_id, revision = _save(store, 1)
    _save(store, 1, "A revised text.")  # the article moved on to revision 2
    assert not store.save_insights(article_id, revision, _insights(), NOW)
    assert store.get_article_insights(article_id) is None


def test_enrichment_error_is_recorded(store: Store) -> None:
    article_id, revision = _save(store, 1)
    store.save_insights(
        article_id, revision, _insights(_entity("Ana Silva", EntityKind.PERSON)), NOW
    )
    store.record_insights_error(article_id, revision, "RuntimeError: model crashed", NOW)
    stored = store.get_article_insights(article_id)
    assert stored is not None and stored.error == "RuntimeError: model crashed"
    assert stored.entities == ()
    assert store.list_entities() == ([], None)


def test_a_late_failure_of_an_old_revision_keeps_the_new_insights(store: Store) -> None:
    article_id, first = _save(store, 1)
    _, second = _save(store, 1, "A revised text.")
    store.save_insights(article_id, second, _insights(_entity("Ana Silva", EntityKind.PERSON)), NOW)
    store.record_insights_error(article_id, first, "RuntimeError: too late", NOW)
    stored = store.get_article_insights(article_id)
    assert stored is not None and stored.error is None and stored.revision == second


def test_list_entities_filters_sorts_and_pages(store: Store) -> None:
    for n, (name, kind, count) in enumerate(
        [
            ("Nicolás Maduro", EntityKind.PERSON, 5),
            ("Edmundo González", EntityKind.PERSON, 3),
            ("Caracas", EntityKind.PLACE, 4),
            ("Organization of American States", EntityKind.ORGANIZATION, 1),
        ]
    ):
        article_id, revision = _save(store, n, days_ago=n)
        store.save_insights(article_id, revision, _insights(_entity(name, kind, count)), NOW)
    names = [e.name for e in store.list_entities()[0]]
    assert names == [
        "Nicolás Maduro",
        "Caracas",
        "Edmundo González",
        "Organization of American States",
    ]
    recent = [e.name for e in store.list_entities(sort="recent")[0]]
    assert recent[0] == "Nicolás Maduro" and recent[-1] == "Organization of American States"
    people = store.list_entities(kind=EntityKind.PERSON)[0]
    assert {e.name for e in people} == {"Nicolás Maduro", "Edmundo González"}
    assert [e.name for e in store.list_entities(prefix="madu")[0]] == ["Nicolás Maduro"]
    assert [e.name for e in store.list_entities(prefix="AMER")[0]] == [
        "Organization of American States"
    ]
    assert store.list_entities(prefix="%")[0] == []
    first, cursor = store.list_entities(limit=3)
    assert cursor is not None
    rest, end = store.list_entities(limit=3, cursor=cursor)
    assert [e.name for e in first + rest] == names and end is None
    for sort in ("mentions", "recent"):
        page, cursor = store.list_entities(sort=sort, limit=1)  # type: ignore[arg-type]
        assert cursor and store.list_entities(sort=sort, limit=1, cursor=cursor)[0]  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        store.list_entities(cursor="not-a-cursor")


def test_entity_page_queries(store: Store) -> None:
    maduro = _entity("Nicolás Maduro", EntityKind.PERSON, 2, aliases=("Maduro",))
    cabello = _entity("Diosdado Cabello", EntityKind.PERSON, 1)
    oas = _entity("Organization of American States", EntityKind.ORGANIZATION, 1)
    ids = []
    for n, named in enumerate([(maduro, cabello), (maduro, cabello, oas), (maduro,)]):
        article_id, revision = _save(store, n, days_ago=n)
        store.save_insights(article_id, revision, _insights(*named), NOW)
        ids.append(article_id)
    stored = store.get_article_insights(ids[0])
    assert stored is not None
    maduro_id = stored.entity_id(maduro.key)
    assert maduro_id is not None
    entity = store.get_entity(maduro_id)
    assert entity is not None and (entity.mention_count, entity.article_count) == (6, 3)
    assert entity.last_seen == NOW and entity.first_seen == NOW - timedelta(days=2)
    assert store.entity_aliases(maduro_id) == ["Maduro", "Nicolás Maduro"]
    assert store.entity_mentions_by_day(maduro_id) == [
        ((NOW - timedelta(days=d)).date(), 2) for d in (2, 1, 0)
    ]
    assert [a.id for a in store.entity_articles(maduro_id)] == ids
    related = store.related_entities(maduro_id)
    assert [(r.entity.name, r.shared_articles) for r in related] == [
        ("Diosdado Cabello", 2),
        ("Organization of American States", 1),
    ]
    assert store.get_entity(10_000) is None


def test_registry_finds_names_aliases_and_near_spellings(store: Store) -> None:
    article_id, revision = _save(store, 1)
    werthein = _entity("Gerardo Werthein", EntityKind.PERSON, aliases=("Werthein",))
    store.save_insights(article_id, revision, _insights(werthein), NOW)
    registry = store.registry()
    many = registry.find_many(
        [
            (normalise_name("WERTHEIN"), EntityKind.PERSON),
            ("werthein", EntityKind.PLACE),
            ("nobody", EntityKind.PERSON),
        ]
    )
    assert {key: e.name for key, e in many.items()} == {
        ("werthein", EntityKind.PERSON): "Gerardo Werthein"
    }
    near = registry.candidates("Gerardo Werhein", EntityKind.PERSON, 5)
    assert [k.name for k in near] == ["Gerardo Werthein"]
    assert registry.candidates("", EntityKind.PERSON, 5) == []


def test_misspelt_name_in_a_second_article_joins_the_first(store: Store) -> None:
    """End to end: enrich against the store, save, enrich the next article against it."""
    texts = [
        "Argentina's foreign minister Gerardo Werthein met officials in Buenos Aires on Monday. "
        "Gerardo Werthein said the talks had gone well.",
        "Argentine foreign minister Gerardo Werhein said on Tuesday that the embassy in Caracas "
        "would stay open.",
    ]
    for n, text in enumerate(texts):
        article_id, revision = _save(store, n, text, days_ago=1 - n)
        saved = store.get_article(article_id)
        assert saved is not None
        insights = enrich(saved.article, store.registry())
        assert store.save_insights(article_id, revision, insights, NOW)
    people = store.list_entities(kind=EntityKind.PERSON)[0]
    assert [(e.name, e.article_count) for e in people] == [("Gerardo Werthein", 2)]
    assert "Gerardo Werhein" in store.entity_aliases(people[0].id)


def test_a_name_another_article_stored_as_an_alias_joins_that_entity(store: Store) -> None:
    """Enriched at once, the second article did not know the first's entity: the writer maps it."""
    first, revision = _save(store, 1)
    oas = _entity("Organization of American States", EntityKind.ORGANIZATION, aliases=("OAS",))
    store.save_insights(first, revision, _insights(oas), NOW)
    second, revision = _save(store, 2)
    short = _entity("OAS", EntityKind.ORGANIZATION, 2)
    quote = Quote("We call for calm", 0, 5, "OAS", short.key)
    store.save_insights(second, revision, _insights(short, quotes=(quote,)), NOW)
    [entity] = store.list_entities()[0]
    assert (entity.name, entity.article_count, entity.mention_count) == (
        "Organization of American States",
        2,
        3,
    )
    stored = store.get_article_insights(second)
    assert stored is not None and stored.quotes[0].speaker_key == oas.key
    assert stored.entity_id(stored.quotes[0].speaker_key) == entity.id


def test_a_place_gets_its_coordinates_once_an_article_has_them(store: Store) -> None:
    first, revision = _save(store, 1)
    store.save_insights(first, revision, _insights(_entity("Caracas", EntityKind.PLACE)), NOW)
    assert store.list_entities()[0][0].place is None
    second, revision = _save(store, 2)
    placed = _entity("Caracas", EntityKind.PLACE, place=CARACAS)
    store.save_insights(second, revision, _insights(placed), NOW)
    assert store.list_entities()[0][0].place == CARACAS


def test_two_writers_meeting_the_same_new_entities_both_save(store: Store) -> None:
    # Two queue workers enrich two articles naming the same new people at once: the
    # second's INSERT meets the first's uncommitted keys, waits, then links to them
    # (before the upsert it failed on the unique entities_key_key).
    first, second = _save(store, 1), _save(store, 2)
    people = (
        _entity("María Corina Machado", EntityKind.PERSON),
        _entity("Edmundo González", EntityKind.PERSON, aliases=("González",)),
    )

    def second_writer() -> bool:
        with store.engine.begin() as conn:
            return save_insights(conn, *second, _insights(*reversed(people)), NOW)

    saved = race(
        store, lambda conn: save_insights(conn, *first, _insights(*people), NOW), second_writer
    )
    assert saved == (True, True)
    listed, _ = store.list_entities()
    assert sorted((e.name, e.article_count) for e in listed) == [
        ("Edmundo González", 2),
        ("María Corina Machado", 2),
    ]


def test_two_writers_adding_the_same_source_get_one(store: Store) -> None:
    source = Source(url="https://n.example/feed", title="N")

    def second_writer() -> tuple[Source, bool]:
        with store.engine.begin() as conn:
            return add_source(conn, source, NOW)

    (first, new_first), (second, new_second) = race(
        store, lambda conn: add_source(conn, source, NOW), second_writer
    )
    assert first.id == second.id and new_first and not new_second
