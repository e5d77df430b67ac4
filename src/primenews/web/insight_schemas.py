"""The JSON API's bodies for insights and entities, and how stored insights become them.

Kept beside ``schemas.py`` (which embeds ``InsightsOut`` in an article) so
the article models stay readable; the ``*_from`` functions are the only
place that maps stored insights and entities to API bodies.
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import Request
from pydantic import BaseModel, Field

from primenews.insights.model import EntityKind, Place
from primenews.store.insights import ArticleInsights, RelatedEntity, StoredEntity


class EntityLinks(BaseModel):
    self: str = Field(description="This entity in the API")
    html: str = Field(description="This entity's page on this site")


class PlaceOut(BaseModel):
    """Where a place is, from the gazetteer."""

    name: str
    feature: str = Field(description="country, city or region")
    country_code: str = Field(description="ISO 3166-1 alpha-2")
    country: str
    latitude: float | None
    longitude: float | None


class ArticleEntityOut(BaseModel):
    """An entity as one article names it."""

    id: int
    name: str = Field(description="Canonical name, the same across articles")
    kind: EntityKind
    mentions: int = Field(description="Times this article names it")
    place: PlaceOut | None
    links: EntityLinks


class FigureOut(BaseModel):
    """A number with what it counts ("around 2,000 people arrested")."""

    value: float = Field(description="Normalised: 2,000 -> 2000; $7.86bn -> 7.86e9 (unit USD)")
    text: str = Field(description="As written, with its qualifier")
    unit: str = Field(description='"USD", "%", "hours" …; empty for a plain count')
    noun: str = Field(description="What is counted, its head noun")
    counts: str = Field(description="What is counted, the longer phrase")
    qualifier: str = Field(description='"exact", "at least", "around", "more than" …')
    attribution: str = Field(description="Whose figure it is, when the text says")
    sentence: str


class QuoteOut(BaseModel):
    text: str = Field(description="The words inside the quotation marks")
    speaker: str = Field(description="Canonical name, or the phrase the article uses, or empty")
    speaker_entity_id: int | None = Field(description="The speaker's entity, when known")
    partial: bool = Field(description="A fragment woven into the writer's own sentence")
    cue: str = Field(description='The reporting verb ("said")')


class DateOut(BaseModel):
    text: str = Field(description="As written")
    resolved: str = Field(description="ISO at the granularity the text gives: 2024-11-28, 2024-09")
    granularity: str = Field(description="day, week, month or year")
    what: str = Field(description="What happened then")
    sentence: str


class InsightsOut(BaseModel):
    """What the insights stage read from the article's text."""

    revision: int = Field(description="The article revision they were read from")
    language: str
    summary: list[str] = Field(description="2-3 sentences copied verbatim")
    entities: list[ArticleEntityOut] = Field(description="Most mentioned first")
    figures: list[FigureOut]
    quotes: list[QuoteOut]
    dates: list[DateOut] = Field(description="In time order: the article's timeline")
    error: str | None = Field(description="Why enrichment failed, when it did")
    enriched_at: datetime


class EntityOut(BaseModel):
    """A person, organisation or place, with every spelling merged."""

    id: int
    name: str
    kind: EntityKind
    mentions: int = Field(description="Times named, over all articles")
    articles: int = Field(description="Articles that name it")
    first_seen: datetime
    last_seen: datetime = Field(description="Time of the newest article that names it")
    place: PlaceOut | None
    links: EntityLinks


class EntityList(BaseModel):
    entities: list[EntityOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


class DayMentions(BaseModel):
    day: date
    mentions: int


class RelatedEntityOut(BaseModel):
    id: int
    name: str
    kind: EntityKind
    shared_articles: int = Field(description="Articles naming both")


def entity_links(entity_id: int, request: Request) -> EntityLinks:
    return EntityLinks(
        self=str(request.url_for("api_entity", entity_id=entity_id)),
        html=str(request.url_for("entity_page", entity_id=entity_id)),
    )


def place_from(place: Place | None) -> PlaceOut | None:
    if place is None:
        return None
    return PlaceOut(
        name=place.name,
        feature=place.feature,
        country_code=place.country_code,
        country=place.country,
        latitude=place.latitude,
        longitude=place.longitude,
    )


def insights_from(stored: ArticleInsights, request: Request) -> InsightsOut:
    return InsightsOut(
        revision=stored.revision,
        language=stored.language,
        summary=list(stored.summary),
        entities=[
            ArticleEntityOut(
                id=e.entity.id,
                name=e.entity.name,
                kind=e.entity.kind,
                mentions=e.mentions,
                place=place_from(e.entity.place),
                links=entity_links(e.entity.id, request),
            )
            for e in stored.entities
        ],
        figures=[
            FigureOut(
                value=f.value,
                text=f.text,
                unit=f.unit,
                noun=f.noun,
                counts=f.counts,
                qualifier=f.qualifier.value,
                attribution=f.attributed_to,
                sentence=f.sentence,
            )
            for f in stored.figures
        ],
        quotes=[
            QuoteOut(
                text=q.text,
                speaker=q.speaker,
                speaker_entity_id=stored.entity_id(q.speaker_key) if q.speaker_key else None,
                partial=q.partial,
                cue=q.cue,
            )
            for q in stored.quotes
        ],
        dates=[
            DateOut(
                text=d.text,
                resolved=d.resolved,
                granularity=d.granularity,
                what=d.what,
                sentence=d.sentence,
            )
            for d in stored.timeline
        ],
        error=stored.error,
        enriched_at=stored.enriched_at,
    )


def entity_from(entity: StoredEntity, request: Request) -> EntityOut:
    return EntityOut(
        id=entity.id,
        name=entity.name,
        kind=entity.kind,
        mentions=entity.mention_count,
        articles=entity.article_count,
        first_seen=entity.first_seen,
        last_seen=entity.last_seen,
        place=place_from(entity.place),
        links=entity_links(entity.id, request),
    )


def related_from(related: RelatedEntity) -> RelatedEntityOut:
    return RelatedEntityOut(
        id=related.entity.id,
        name=related.entity.name,
        kind=related.entity.kind,
        shared_articles=related.shared_articles,
    )
