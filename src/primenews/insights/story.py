"""A story's insights from its articles': summary, figures compared, quotes, timeline.

    story_insights(members, insights by article, articles for the summary) ─► StoryInsights
        summary   2–3 sentences copied from the articles (``summary.summarise_story``)
        figures   each measure compared across outlets (``corroborate``)
        quotes    who said what, each quote once, with the outlets that carried it
        timeline  the dates the articles mention, each once, with what happened

Pure: the shell loads the members, their stored insights and texts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from primenews.domain import Article
from primenews.insights.corroborate import FigureCheck, FigureReport, corroborate
from primenews.insights.model import DateMention, Figure, Quote, StorySentence
from primenews.insights.summary import summarise_story

__all__ = ["Carried", "StoryInsights", "StoryMemberRef", "story_insights"]

MAX_QUOTES = 8
MAX_DATES = 12
SUMMARY_ARTICLES = 12  # the earliest originals read for the summary

_SPACE = re.compile(r"\s+")

K = TypeVar("K")
T = TypeVar("T")


# An article's figures, quotes and dates, as stored.
Details = tuple[Sequence[Figure], Sequence[Quote], Sequence[DateMention]]


@dataclass(frozen=True, slots=True)
class StoryMemberRef:
    """Who carried an article of the story, and when."""

    article_id: int
    outlet: str
    published: datetime


@dataclass(frozen=True, slots=True)
class Carried:
    """A quote or date, with the outlets that carried it (first to report first)."""

    item: Quote | DateMention
    outlets: tuple[str, ...]
    article_id: int  # where it was first carried


@dataclass(frozen=True, slots=True)
class StoryInsights:
    summary: tuple[StorySentence, ...]
    figures: tuple[FigureCheck, ...]
    quotes: tuple[Carried, ...]
    timeline: tuple[Carried, ...]


def story_insights(
    members: Sequence[StoryMemberRef],
    figures_quotes_dates: Mapping[int, Details],
    articles: Sequence[Article],
) -> StoryInsights:
    """Insights of a story; ``members`` in time order, ``articles`` the texts to summarise."""
    reports = [
        FigureReport(member.article_id, member.outlet, figure)
        for member in members
        for figure in figures_quotes_dates.get(member.article_id, ((), (), ()))[0]
    ]
    quotes: dict[str, tuple[Quote, list[str], int]] = {}
    dates: dict[tuple[str, str], tuple[DateMention, list[str], int]] = {}
    for member in members:
        _, said, when = figures_quotes_dates.get(member.article_id, ((), (), ()))
        for quote in said:
            if quote.partial or not quote.speaker:
                continue
            key = _normal(quote.text)
            _carry(quotes, key, quote, member)
        for mention in when:
            _carry(dates, (mention.resolved, _normal(mention.what)), mention, member)
    ranked_quotes = sorted(quotes.values(), key=lambda q: (-len(q[1]), q[2]))[:MAX_QUOTES]
    ranked_dates = sorted(dates.values(), key=lambda d: (-len(d[1]), d[2]))[:MAX_DATES]
    return StoryInsights(
        summary=summarise_story(list(articles)[:SUMMARY_ARTICLES]) if articles else (),
        figures=tuple(corroborate(reports)),
        quotes=tuple(Carried(q, tuple(o), i) for q, o, i in ranked_quotes),
        timeline=tuple(
            Carried(d, tuple(o), i)
            for d, o, i in sorted(ranked_dates, key=lambda d: (d[0].value, d[0].resolved))
        ),
    )


def _carry(
    seen: dict[K, tuple[T, list[str], int]], key: K, item: T, member: StoryMemberRef
) -> None:
    """Remember ``item`` under ``key`` the first time; later outlets carrying it are added."""
    if key not in seen:
        seen[key] = (item, [member.outlet], member.article_id)
    elif member.outlet not in seen[key][1]:
        seen[key][1].append(member.outlet)


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text.casefold()).strip(" .,'\"“”‘’")
