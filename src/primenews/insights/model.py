"""What the insight stages hand out: plain frozen dataclasses, no behaviour.

    Article ──enrich──► Insights
                         ├── entities   Entity(kind, name, mentions, place?)
                         ├── figures    Figure(value, unit, counts, qualifier, attributed_to)
                         ├── quotes     Quote(text, speaker, partial)
                         ├── dates      DateMention(resolved, granularity, what)
                         └── summary    2–3 sentences of the article, verbatim

Offsets (``start``/``end``) are character offsets into ``Article.text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class EntityKind(StrEnum):
    """The three kinds of named entity we keep."""

    PERSON = "person"
    ORGANIZATION = "organization"
    PLACE = "place"


@dataclass(frozen=True, slots=True)
class Mention:
    """One place in the text where an entity is named."""

    text: str  # as written, cleaned of a leading "the" and a trailing "'s"
    start: int
    end: int
    label: str  # the NER label it came with (PERSON, ORG, GPE, LOC, FAC)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a place entity is on the map, from the gazetteer."""

    name: str  # the gazetteer's name ("Caracas")
    feature: str  # "country", "city" or "region"
    country_code: str  # ISO 3166-1 alpha-2 ("VE")
    country: str  # "Venezuela"
    latitude: float | None
    longitude: float | None
    population: int = 0
    geonameid: int | None = None


@dataclass(frozen=True, slots=True)
class Entity:
    """A person, organisation or place, with every variant of its name merged.

    ``key`` is stable across articles ("person:gerardo werthein"); the store
    turns it into an id. ``known`` says the name came from the registry.
    """

    key: str
    name: str
    kind: EntityKind
    mentions: tuple[Mention, ...]
    aliases: tuple[str, ...] = ()  # other spellings seen in this article
    known: bool = False
    place: Place | None = None

    @property
    def count(self) -> int:
        """How many times the article names it."""
        return len(self.mentions)


class Qualifier(StrEnum):
    """How a figure is hedged in the text."""

    EXACT = "exact"
    AT_LEAST = "at least"
    MORE_THAN = "more than"
    NEARLY = "nearly"
    AROUND = "around"
    LESS_THAN = "less than"
    UP_TO = "up to"


@dataclass(frozen=True, slots=True)
class Figure:
    """A number with what it counts: "around 2,000 people were arrested".

    ``value`` is normalised (2,000 → 2000.0; "$7.86bn" → 7.86e9 with unit
    "USD"; "12%" → 12.0 with unit "%"). ``noun`` is the head of what is
    counted ("people"), ``counts`` the longer phrase ("people arrested").
    """

    value: float
    text: str  # the number as written, with its qualifier ("around 2,000")
    sentence: str
    start: int
    end: int
    unit: str = ""  # "USD", "EUR", "%", "hours", "km" … ; "" for a plain count
    noun: str = ""
    counts: str = ""
    qualifier: Qualifier = Qualifier.EXACT
    attributed_to: str = ""  # "government figures", "Vente Venezuela"


@dataclass(frozen=True, slots=True)
class Quote:
    """Words the article puts in someone's mouth, between quotation marks.

    ``speaker`` is the canonical entity name when the speaker is a known
    entity (``speaker_key`` then set), otherwise the phrase the article uses
    ("a government spokesman"), or "" when nobody is named.
    """

    text: str  # inside the quotation marks
    start: int
    end: int
    speaker: str = ""
    speaker_key: str = ""
    partial: bool = False  # a fragment inside the writer's own sentence
    cue: str = ""  # the reporting verb ("said", "explained")


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date in the text, resolved against the publication date.

    ``resolved`` is ISO at the granularity the text gives: "2024-11-28"
    (day), "2024-W48" (week), "2024-09" (month) or "2024" (year); ``value``
    is the first day of that period, for sorting a timeline.
    """

    text: str
    start: int
    end: int
    resolved: str
    value: date
    granularity: str  # "day", "week", "month", "year"
    what: str  # what happened then, as a short phrase of the text
    sentence: str


@dataclass(frozen=True, slots=True)
class StorySentence:
    """One sentence of a story summary and the article it was taken from."""

    text: str
    url: str


@dataclass(frozen=True, slots=True)
class Insights:
    """Everything the insight stages found in one article."""

    url: str
    language: str
    entities: tuple[Entity, ...] = ()
    figures: tuple[Figure, ...] = ()
    quotes: tuple[Quote, ...] = ()
    dates: tuple[DateMention, ...] = ()
    summary: tuple[str, ...] = ()

    def of_kind(self, kind: EntityKind) -> tuple[Entity, ...]:
        """The entities of one kind, most mentioned first."""
        return tuple(e for e in self.entities if e.kind is kind)

    @property
    def places(self) -> tuple[Entity, ...]:
        """Place entities the gazetteer could put on a map."""
        return tuple(e for e in self.entities if e.place is not None)

    @property
    def timeline(self) -> tuple[DateMention, ...]:
        """Dates in time order (earliest first)."""
        return tuple(sorted(self.dates, key=lambda d: (d.value, d.start)))
