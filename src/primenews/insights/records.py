"""Insights as JSON-able dicts and back: what the store's JSON columns and the CLI print.

Figures, quotes and dates are only ever read with their article, so the store
keeps them as one JSON document per article; these functions are the one
place that knows that document's shape. Reading is forgiving: a field that
is missing or of the wrong type (an older or hand-edited row) takes its
default instead of failing the page that shows it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from primenews.insights.model import DateMention, Entity, Figure, Insights, Qualifier, Quote


def figure_record(figure: Figure) -> dict[str, Any]:
    return {**dataclasses.asdict(figure), "qualifier": figure.qualifier.value}


def quote_record(quote: Quote) -> dict[str, Any]:
    return dataclasses.asdict(quote)


def date_record(mention: DateMention) -> dict[str, Any]:
    return {**dataclasses.asdict(mention), "value": mention.value.isoformat()}


def entity_record(entity: Entity) -> dict[str, Any]:
    """An entity without its mention offsets (their count stays)."""
    return {
        "key": entity.key,
        "name": entity.name,
        "kind": entity.kind.value,
        "mentions": entity.count,
        "first_offset": entity.mentions[0].start if entity.mentions else 0,
        "aliases": list(entity.aliases),
        "known": entity.known,
        "place": dataclasses.asdict(entity.place) if entity.place else None,
    }


def insights_record(insights: Insights) -> dict[str, Any]:
    """The whole of an article's insights as plain JSON types."""
    return {
        "url": insights.url,
        "language": insights.language,
        "entities": [entity_record(e) for e in insights.entities],
        "figures": [figure_record(f) for f in insights.figures],
        "quotes": [quote_record(q) for q in insights.quotes],
        "dates": [date_record(d) for d in insights.dates],
        "summary": list(insights.summary),
    }


def figures_from(records: Sequence[Mapping[str, Any]]) -> tuple[Figure, ...]:
    found = []
    for r in records:
        qualifier = r.get("qualifier", "exact")
        found.append(
            Figure(
                value=_float(r.get("value")),
                text=_str(r.get("text")),
                sentence=_str(r.get("sentence")),
                start=_int(r.get("start")),
                end=_int(r.get("end")),
                unit=_str(r.get("unit")),
                noun=_str(r.get("noun")),
                counts=_str(r.get("counts")),
                qualifier=Qualifier(qualifier)
                if qualifier in Qualifier.__members__.values()
                else Qualifier.EXACT,
                attributed_to=_str(r.get("attributed_to")),
            )
        )
    return tuple(found)


def quotes_from(records: Sequence[Mapping[str, Any]]) -> tuple[Quote, ...]:
    return tuple(
        Quote(
            text=_str(r.get("text")),
            start=_int(r.get("start")),
            end=_int(r.get("end")),
            speaker=_str(r.get("speaker")),
            speaker_key=_str(r.get("speaker_key")),
            partial=bool(r.get("partial", False)),
            cue=_str(r.get("cue")),
        )
        for r in records
    )


def dates_from(records: Sequence[Mapping[str, Any]]) -> tuple[DateMention, ...]:
    found = []
    for r in records:
        try:
            value = date.fromisoformat(_str(r.get("value")))
        except ValueError:
            continue  # a timeline entry without a date cannot be placed
        found.append(
            DateMention(
                text=_str(r.get("text")),
                start=_int(r.get("start")),
                end=_int(r.get("end")),
                resolved=_str(r.get("resolved")),
                value=value,
                granularity=_str(r.get("granularity")),
                what=_str(r.get("what")),
                sentence=_str(r.get("sentence")),
            )
        )
    return tuple(found)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _float(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
