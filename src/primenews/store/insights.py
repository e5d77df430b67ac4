"""SQL for insights: entities, their aliases, who each article names, and its figures/quotes/dates.

Plain functions taking a connection. Saving is idempotent per article:
``save_insights`` replaces whatever the article had (counts on the entities
are taken back first), so re-enriching a revision never double-counts.
:class:`StoreRegistry` is the ``EntityRegistry`` the insights stage reads
known names from; it opens its own short connections, so a worker process
can hold one over a read-only engine of the same database.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Literal

from rapidfuzz import fuzz
from sqlalchemy import (
    Connection,
    Engine,
    Row,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from primenews.domain import StoredArticle
from primenews.errors import StoreError
from primenews.insights.canonical import KnownEntity, NameKey, normalise_name
from primenews.insights.model import DateMention, Entity, EntityKind, Figure, Insights, Place, Quote
from primenews.insights.records import (
    date_record,
    dates_from,
    figure_record,
    figures_from,
    quote_record,
    quotes_from,
)
from primenews.store.articles import (
    ARTICLE_COLUMNS,
    ARTICLE_FROM,
    chunks,
    sections_of,
    stored_article_from_row,
)
from primenews.store.engine import POSTGRESQL, SQLITE, backend, dialect_insert, insert_new
from primenews.store.schema import (
    UTCDateTime,
    article_entities,
    article_insights,
    articles,
    entities,
    entity_aliases,
)

EntitySort = Literal["mentions", "recent"]
CANDIDATE_ROWS = 200  # names sharing a word read per lookup, before fuzzy ranking
RELATED_OVER_ARTICLES = 500  # co-mentions counted over the entity's newest articles
MENTION_DAYS_ROWS = 5000  # article rows read for "mentions per day"


@dataclass(frozen=True, slots=True)
class StoredEntity:
    id: int
    key: str
    name: str
    kind: EntityKind
    place: Place | None
    first_seen: datetime
    last_seen: datetime
    mention_count: int
    article_count: int


@dataclass(frozen=True, slots=True)
class ArticleEntity:
    """An entity as one article names it."""

    entity: StoredEntity
    mentions: int
    first_offset: int


@dataclass(frozen=True, slots=True)
class ArticleInsights:
    """What the store holds of one article's insights (``error`` set when enrichment failed)."""

    article_id: int
    revision: int
    language: str
    summary: tuple[str, ...]
    entities: tuple[ArticleEntity, ...]
    figures: tuple[Figure, ...]
    quotes: tuple[Quote, ...]
    dates: tuple[DateMention, ...]
    error: str | None
    enriched_at: datetime

    def entity_id(self, key: str) -> int | None:
        """The id of the entity with this key, when the article names it."""
        return next((e.entity.id for e in self.entities if e.entity.key == key), None)

    @property
    def timeline(self) -> tuple[DateMention, ...]:
        return tuple(sorted(self.dates, key=lambda d: (d.value, d.start)))


@dataclass(frozen=True, slots=True)
class RelatedEntity:
    entity: StoredEntity
    shared_articles: int


# Saving

# The writer saves insights for every article: these are built once, so SQLAlchemy
# neither rebuilds them nor recomputes their cache keys per call.
_REVISION = select(articles.c.revision, articles.c.sort_time).where(
    articles.c.id == bindparam("b_id")
)
_LINKED = select(article_entities.c.entity_id, article_entities.c.mentions).where(
    article_entities.c.article_id == bindparam("b_id")
)
_UNLINK = delete(article_entities).where(article_entities.c.article_id == bindparam("b_id"))
_ENTITY_IDS = select(entities.c.id, entities.c.key).where(
    entities.c.key.in_(bindparam("b_keys", expanding=True))
)
_ALIAS_OWNERS = (
    select(entity_aliases.c.kind, entity_aliases.c.name_key, entities.c.id, entities.c.key)
    .join(entities, entities.c.id == entity_aliases.c.entity_id)
    .where(entity_aliases.c.name_key.in_(bindparam("b_name_keys", expanding=True)))
)
_INSERT_LINKS = article_entities.insert()


def save_insights(
    conn: Connection, article_id: int, revision: int, insights: Insights, now: datetime
) -> bool:
    """Replace the article's insights with ``insights``; new entities and aliases are added.

    A handful of set-wise statements per article whatever its number of
    entities: the single writer runs this for every article.

    Returns:
        False (and nothing written) when the article is gone or has moved on
        to a later revision than the one enriched.
    """
    row = conn.execute(_REVISION, {"b_id": article_id}).first()
    if row is None or row.revision != revision:
        return False
    _forget_entities(conn, article_id)
    stored = _entity_ids(conn, insights.entities, row.sort_time)
    _add_aliases(conn, insights.entities, stored)
    _link(conn, article_id, insights.entities, stored, row.sort_time)
    quotes = [
        replace(q, speaker_key=stored[q.speaker_key][1]) if q.speaker_key in stored else q
        for q in insights.quotes
    ]
    details = {
        "figures": [figure_record(f) for f in insights.figures],
        "quotes": [quote_record(q) for q in quotes],
        "dates": [date_record(d) for d in insights.dates],
    }
    _put_row(
        conn,
        article_id,
        revision=revision,
        language=insights.language,
        summary=json.dumps(list(insights.summary), ensure_ascii=False),
        details=json.dumps(details, ensure_ascii=False),
        error=None,
        enriched_at=now,
    )
    return True


def record_insights_error(
    conn: Connection, article_id: int, revision: int, error: str, now: datetime
) -> None:
    """Remember that enriching this revision failed; insights of an older revision go.

    Nothing happens when the article is gone or has moved on to a later revision.
    """
    current = conn.execute(select(articles.c.revision).where(articles.c.id == article_id)).first()
    if current is None or current.revision != revision:
        return
    _forget_entities(conn, article_id)
    _put_row(
        conn,
        article_id,
        revision=revision,
        language="",
        summary="[]",
        details="{}",
        error=error[:2000],
        enriched_at=now,
    )


def _put_row(conn: Connection, article_id: int, **values: Any) -> None:
    conn.execute(_PUT_ROW[backend(conn)], {"article_id": article_id, **values})


def _replacing_row(name: str) -> Any:
    # One upsert: the article's row, whatever it had, becomes these values (every column).
    statement = dialect_insert(name, article_insights)
    columns = [c.name for c in article_insights.columns if not c.primary_key]
    return statement.on_conflict_do_update(
        index_elements=[article_insights.c.article_id],
        set_={name: statement.excluded[name] for name in columns},
    )


_PUT_ROW = {name: _replacing_row(name) for name in (SQLITE, POSTGRESQL)}


# Bind names for executemany updates (SQLAlchemy keeps column names for SET values).
_ADD_COUNTS = (
    update(entities)
    .where(entities.c.id == bindparam("b_id"))
    .values(
        mention_count=entities.c.mention_count + bindparam("b_mentions"),
        article_count=entities.c.article_count + bindparam("b_articles"),
    )
)


def _forget_entities(conn: Connection, article_id: int) -> None:
    """Take the article's mentions back from its entities' counts, then unlink them."""
    old = conn.execute(_LINKED, {"b_id": article_id}).all()
    if not old:
        return
    conn.execute(_ADD_COUNTS, [{"b_id": e, "b_mentions": -m, "b_articles": -1} for e, m in old])
    conn.execute(_UNLINK, {"b_id": article_id})


def _entity_ids(
    conn: Connection, named: Sequence[Entity], seen: datetime
) -> dict[str, tuple[int, str]]:
    """The stored id and key of each entity (by the stage's key), adding the new ones."""
    if not named:
        return {}
    rows = conn.execute(_ENTITY_IDS, {"b_keys": sorted({e.key for e in named})})
    stored = {row.key: (int(row.id), str(row.key)) for row in rows}
    missing = [e for e in named if e.key not in stored]
    new_keys: set[str] = set()
    if missing:
        # Two workers may meet one new name at once: the first stored wins, by name or alias.
        spelled = _alias_owners(conn, [(e.kind, normalise_name(e.name)) for e in missing])
        for entity in missing:
            owner = spelled.get((entity.kind.value, normalise_name(entity.name)))
            if owner is not None:
                stored[entity.key] = owner
        new = {e.key: e for e in missing if e.key not in stored}
        new_keys = set(new)
        if new:
            # In the article's order: ids break ties between entities named at one offset.
            insert_new(conn, entities, [_new_entity(e, seen) for e in new.values()])
            rows = conn.execute(_ENTITY_IDS, {"b_keys": list(new)})
            stored.update({row.key: (int(row.id), str(row.key)) for row in rows})
    placed = [  # the new ones got theirs on insert
        {"b_id": stored[e.key][0], **{f"b_{k}": v for k, v in _place_values(e.place).items()}}
        for e in named
        if e.place is not None and e.key not in new_keys
    ]
    if placed:  # a place first stored without coordinates gets them once a later article has them
        conn.execute(_ADD_PLACE, placed)
    return stored


_PLACE_COLUMNS = (
    "place_name",
    "feature",
    "country_code",
    "country",
    "latitude",
    "longitude",
    "population",
    "geonameid",
)
_ADD_PLACE = (
    update(entities)
    .where(entities.c.id == bindparam("b_id"), entities.c.country_code.is_(None))
    .values({column: bindparam(f"b_{column}") for column in _PLACE_COLUMNS})
)


def _new_entity(entity: Entity, seen: datetime) -> dict[str, Any]:
    place = _place_values(entity.place) if entity.place else dict.fromkeys(_PLACE_COLUMNS)
    return {
        "key": entity.key,
        "name": entity.name,
        "kind": entity.kind.value,
        "first_seen": seen,
        "last_seen": seen,
        "mention_count": 0,
        "article_count": 0,
        **place,
    }


def _place_values(place: Place) -> dict[str, Any]:
    return {
        "place_name": place.name,
        "feature": place.feature,
        "country_code": place.country_code,
        "country": place.country,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "population": place.population,
        "geonameid": place.geonameid,
    }


def _alias_owners(
    conn: Connection, spellings: Sequence[tuple[EntityKind, str]]
) -> dict[tuple[str, str], tuple[int, str]]:
    """(kind, name_key) -> (entity id, key) for the spellings already taken."""
    name_keys = sorted({name_key for _kind, name_key in spellings})
    rows = conn.execute(_ALIAS_OWNERS, {"b_name_keys": name_keys})
    return {(row.kind, row.name_key): (int(row.id), str(row.key)) for row in rows}


def _add_aliases(
    conn: Connection, named: Sequence[Entity], stored: dict[str, tuple[int, str]]
) -> None:
    """Every spelling not yet taken becomes an alias (a spelling belongs to its first user)."""
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for entity in named:
        for name in (entity.name, *entity.aliases):
            name_key = normalise_name(name)
            if name_key:
                words = name_key.split()
                wanted.setdefault(
                    (entity.kind.value, name_key),
                    {
                        "kind": entity.kind.value,
                        "name_key": name_key,
                        "name": name,
                        "entity_id": stored[entity.key][0],
                        "first_word": words[0],
                        "last_word": words[-1],
                    },
                )
    if not wanted:
        return
    taken = _alias_owners(conn, [(EntityKind(kind), key) for kind, key in wanted])
    new = [values for spelling, values in wanted.items() if spelling not in taken]
    if new:
        insert_new(conn, entity_aliases, sorted(new, key=lambda v: (v["kind"], v["name_key"])))


def _link(
    conn: Connection,
    article_id: int,
    named: Sequence[Entity],
    stored: dict[str, tuple[int, str]],
    seen: datetime,
) -> None:
    links: dict[int, dict[str, Any]] = {}
    for entity in named:
        entity_id = stored[entity.key][0]
        first = entity.mentions[0].start if entity.mentions else 0
        link = links.setdefault(
            entity_id,
            {
                "article_id": article_id,
                "entity_id": entity_id,
                "mentions": 0,
                "first_offset": first,
            },
        )
        # Two stage entities may land on one stored entity (a race resolved by alias): add up.
        link["mentions"] += entity.count
    if not links:
        return
    conn.execute(_INSERT_LINKS, list(links.values()))
    conn.execute(
        _COUNT_AND_SEE[backend(conn)],
        [{"b_id": i, "b_mentions": v["mentions"], "b_seen": seen} for i, v in links.items()],
    )


def _count_and_see(name: str) -> Any:
    """One more article naming entity ``b_id`` ``b_mentions`` times, seen at ``b_seen``."""
    # SQLite's two-argument min() and max() are PostgreSQL's least() and greatest().
    value = bindparam("b_seen", type_=UTCDateTime)
    earlier, later = (func.min, func.max) if name == SQLITE else (func.least, func.greatest)
    return (
        update(entities)
        .where(entities.c.id == bindparam("b_id"))
        .values(
            mention_count=entities.c.mention_count + bindparam("b_mentions"),
            article_count=entities.c.article_count + 1,
            first_seen=earlier(entities.c.first_seen, value),
            last_seen=later(entities.c.last_seen, value),
        )
    )


_COUNT_AND_SEE = {name: _count_and_see(name) for name in (SQLITE, POSTGRESQL)}


# Reading an article's insights


def get_article_insights(conn: Connection, article_id: int) -> ArticleInsights | None:
    row = conn.execute(
        select(article_insights).where(article_insights.c.article_id == article_id)
    ).first()
    if row is None:
        return None
    named = conn.execute(
        select(
            entities,
            article_entities.c.mentions.label("in_article"),
            article_entities.c.first_offset,
        )
        .join(article_entities, article_entities.c.entity_id == entities.c.id)
        .where(article_entities.c.article_id == article_id)
        .order_by(article_entities.c.mentions.desc(), article_entities.c.first_offset)
    ).all()
    details = _json_object(row.details)
    return ArticleInsights(
        article_id=article_id,
        revision=row.revision,
        language=row.language,
        summary=tuple(s for s in _json_list(row.summary) if isinstance(s, str)),
        entities=tuple(
            ArticleEntity(_entity_from_row(r), r.in_article, r.first_offset) for r in named
        ),
        figures=figures_from(_records(details.get("figures"))),
        quotes=quotes_from(_records(details.get("quotes"))),
        dates=dates_from(_records(details.get("dates"))),
        error=row.error,
        enriched_at=row.enriched_at,
    )


def _json_object(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _json_list(raw: str) -> list[Any]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _records(value: Any) -> list[dict[str, Any]]:
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def _entity_from_row(row: Row[Any]) -> StoredEntity:
    place = None
    if row.country_code is not None:
        place = Place(
            name=row.place_name or row.name,
            feature=row.feature or "",
            country_code=row.country_code,
            country=row.country or "",
            latitude=row.latitude,
            longitude=row.longitude,
            population=row.population or 0,
            geonameid=row.geonameid,
        )
    return StoredEntity(
        id=row.id,
        key=row.key,
        name=row.name,
        kind=EntityKind(row.kind),
        place=place,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        mention_count=row.mention_count,
        article_count=row.article_count,
    )


# Entities


def get_entity(conn: Connection, entity_id: int) -> StoredEntity | None:
    row = conn.execute(select(entities).where(entities.c.id == entity_id)).first()
    return _entity_from_row(row) if row else None


def list_entities(
    conn: Connection,
    *,
    kind: EntityKind | None = None,
    prefix: str = "",
    sort: EntitySort = "mentions",
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[StoredEntity], str | None]:
    """Entities most mentioned (or most recently named) first, a page at a time.

    ``prefix`` matches the start of any word of any spelling ("madu" finds
    "Nicolás Maduro"), accents and case folded.
    """
    order = entities.c.mention_count if sort == "mentions" else entities.c.last_seen
    query = select(entities).where(entities.c.article_count > 0)
    if kind is not None:
        query = query.where(entities.c.kind == kind.value)
    wanted = _like_escape(normalise_name(prefix))
    if wanted:
        spelled = select(entity_aliases.c.entity_id).where(
            or_(
                entity_aliases.c.name_key.like(wanted + "%", escape="\\"),
                entity_aliases.c.name_key.like("% " + wanted + "%", escape="\\"),
            )
        )
        query = query.where(entities.c.id.in_(spelled))
    if cursor:
        value, last_id = _decode_cursor(cursor, sort)
        query = query.where(or_(order < value, and_(order == value, entities.c.id < last_id)))
    rows = conn.execute(query.order_by(order.desc(), entities.c.id.desc()).limit(limit + 1)).all()
    page = [_entity_from_row(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        value = last.mention_count if sort == "mentions" else last.last_seen.isoformat()
        next_cursor = _encode_cursor(f"{value}|{last.id}")
    return page, next_cursor


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _encode_cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: EntitySort) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, last_id = raw.rsplit("|", 1)
        if sort == "mentions":
            return int(value), int(last_id)
        when = datetime.fromisoformat(value)
        return (when if when.tzinfo else when.replace(tzinfo=UTC)), int(last_id)
    except (ValueError, UnicodeDecodeError) as err:
        raise StoreError(f"store: invalid entity cursor {cursor!r}") from err


def entity_aliases_of(conn: Connection, entity_id: int) -> list[str]:
    """Every spelling of the entity as first written, its own name included."""
    rows = conn.execute(
        select(entity_aliases.c.name)
        .where(entity_aliases.c.entity_id == entity_id)
        .order_by(entity_aliases.c.name)
    )
    return [row.name for row in rows]


def mentions_by_day(conn: Connection, entity_id: int) -> list[tuple[date, int]]:
    """Mentions per day (of the articles' sort time), oldest first, over its newest articles."""
    rows = conn.execute(
        select(articles.c.sort_time, article_entities.c.mentions)
        .join(articles, articles.c.id == article_entities.c.article_id)
        .where(article_entities.c.entity_id == entity_id)
        .order_by(articles.c.sort_time.desc())
        .limit(MENTION_DAYS_ROWS)
    )
    days: dict[date, int] = defaultdict(int)
    for row in rows:
        days[row.sort_time.date()] += row.mentions
    return sorted(days.items())


def entity_articles(conn: Connection, entity_id: int, limit: int = 20) -> list[StoredArticle]:
    """The newest articles that name the entity."""
    rows = conn.execute(
        select(*ARTICLE_COLUMNS)
        .select_from(
            ARTICLE_FROM.join(article_entities, article_entities.c.article_id == articles.c.id)
        )
        .where(article_entities.c.entity_id == entity_id)
        .order_by(articles.c.sort_time.desc(), articles.c.id.desc())
        .limit(limit)
    ).all()
    labels = sections_of(conn, [row.id for row in rows])
    return [stored_article_from_row(row, labels.get(row.id, ())) for row in rows]


def related_entities(conn: Connection, entity_id: int, limit: int = 10) -> list[RelatedEntity]:
    """The entities named most often in the same articles (over its newest articles)."""
    recent = (
        select(article_entities.c.article_id)
        .join(articles, articles.c.id == article_entities.c.article_id)
        .where(article_entities.c.entity_id == entity_id)
        .order_by(articles.c.sort_time.desc())
        .limit(RELATED_OVER_ARTICLES)
        .subquery()
    )
    shared = func.count().label("shared")
    rows = conn.execute(
        select(entities, shared)
        .join(article_entities, article_entities.c.entity_id == entities.c.id)
        .where(
            article_entities.c.article_id.in_(select(recent.c.article_id)),
            entities.c.id != entity_id,
        )
        .group_by(entities.c.id)
        .order_by(shared.desc(), entities.c.mention_count.desc(), entities.c.id)
        .limit(limit)
    ).all()
    return [RelatedEntity(_entity_from_row(row), int(row.shared)) for row in rows]


# The registry


def find_entities(conn: Connection, keys: Iterable[NameKey]) -> dict[NameKey, KnownEntity]:
    """The known entity of each ``(name_key, kind)``: one query per kind (and 500 names)."""
    by_kind: dict[EntityKind, set[str]] = defaultdict(set)
    for name_key, kind in keys:
        by_kind[kind].add(name_key)
    found: dict[NameKey, KnownEntity] = {}
    for kind, name_keys in by_kind.items():
        for chunk in chunks(sorted(name_keys), 500):
            rows = conn.execute(
                select(entity_aliases.c.name_key, entities.c.key, entities.c.name)
                .join(entities, entities.c.id == entity_aliases.c.entity_id)
                .where(entity_aliases.c.kind == kind.value, entity_aliases.c.name_key.in_(chunk))
            )
            for row in rows:
                found.setdefault((row.name_key, kind), KnownEntity(row.key, row.name, kind))
    return found


def entity_candidates(
    conn: Connection, name: str, kind: EntityKind, limit: int
) -> list[KnownEntity]:
    """Known spellings that share the first or the last word of ``name``, most alike first."""
    words = normalise_name(name).split()
    if not words:
        return []
    rows = conn.execute(
        select(entity_aliases.c.name_key, entities.c.key, entities.c.name)
        .join(entities, entities.c.id == entity_aliases.c.entity_id)
        .where(
            entity_aliases.c.kind == kind.value,
            or_(
                entity_aliases.c.first_word == words[0],
                entity_aliases.c.last_word == words[-1],
            ),
        )
        .limit(CANDIDATE_ROWS)
    ).all()
    wanted = " ".join(words)
    ranked = sorted(rows, key=lambda r: -fuzz.ratio(wanted, r.name_key))
    found: dict[str, KnownEntity] = {}
    for row in ranked:
        found.setdefault(row.key, KnownEntity(row.key, row.name, kind))
    return list(found.values())[:limit]


class StoreRegistry:
    """The ``EntityRegistry`` over the store: every name and alias any saved article used."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find_many(self, keys: Iterable[NameKey]) -> dict[NameKey, KnownEntity]:
        try:
            with self.engine.connect() as conn:
                return find_entities(conn, keys)
        except SQLAlchemyError as err:
            raise StoreError(f"store: entity lookup failed: {err}") from err

    def candidates(self, name: str, kind: EntityKind, limit: int) -> Sequence[KnownEntity]:
        try:
            with self.engine.connect() as conn:
                return entity_candidates(conn, name, kind, limit)
        except SQLAlchemyError as err:
            raise StoreError(f"store: entity lookup failed: {err}") from err


def insights_of_articles(
    conn: Connection, article_ids: Sequence[int]
) -> dict[int, ArticleInsights]:
    """Figures, quotes, dates and summaries of many articles (entities left out: see
    ``entities_of_articles``), for a story's page."""
    found: dict[int, ArticleInsights] = {}
    for start in range(0, len(article_ids), 500):
        chunk = list(article_ids[start : start + 500])
        rows = conn.execute(
            select(article_insights).where(article_insights.c.article_id.in_(chunk))
        )
        for row in rows:
            details = _json_object(row.details)
            found[row.article_id] = ArticleInsights(
                article_id=row.article_id,
                revision=row.revision,
                language=row.language,
                summary=tuple(s for s in _json_list(row.summary) if isinstance(s, str)),
                entities=(),
                figures=figures_from(_records(details.get("figures"))),
                quotes=quotes_from(_records(details.get("quotes"))),
                dates=dates_from(_records(details.get("dates"))),
                error=row.error,
                enriched_at=row.enriched_at,
            )
    return found


def entities_of_articles(
    conn: Connection, article_ids: Sequence[int], limit: int = 15
) -> list[tuple[StoredEntity, int]]:
    """The entities most of these articles name, with how many of them name each."""
    if not article_ids:
        return []
    named = func.count(article_entities.c.article_id).label("named")
    rows = conn.execute(
        select(entities, named)
        .join(article_entities, article_entities.c.entity_id == entities.c.id)
        .where(article_entities.c.article_id.in_(list(article_ids)[:2000]))
        .group_by(entities.c.id)
        .order_by(named.desc(), func.sum(article_entities.c.mentions).desc(), entities.c.id)
        .limit(limit)
    ).all()
    return [(_entity_from_row(row), row.named) for row in rows]
