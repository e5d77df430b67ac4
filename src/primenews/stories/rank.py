"""Front-page order and story headlines: pure functions of a story's members.

The front-page score of a story at time ``now``::

    score = recency × (1 + ln(1 + outlets)) × (1 + ln(1 + velocity))

    recency  = 0.5 ** (age_hours / half_life_hours)
               age_hours: since the story's newest article (0 if it is in the future)
    outlets  = distinct outlets that carried the story (syndicated copies count
               for the outlet that carried them: a wire text in 5 papers is 5 outlets)
    velocity = articles published in the last ``velocity_window_hours``, per hour

A story that has just broken in one outlet scores 1 × (1 + ln 2) × (1 + ln(1 + v));
the same story carried by 10 outlets scores about 2.1 times as much; with a
6-hour half-life a day-old story keeps 1/16 of its score. Logarithms keep a
400-article story from burying every other event. Ties break on the newest
article, then the story key, so the order is total and deterministic.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "RankOptions",
    "RankedStory",
    "StoryActivity",
    "StoryMember",
    "activity_of",
    "choose_headline",
    "rank_activity",
    "rank_stories",
    "score",
]


@dataclass(frozen=True, slots=True)
class StoryMember:
    """One article of a story, as ranking needs it."""

    title: str
    outlet: str
    published: datetime


@dataclass(frozen=True, slots=True)
class RankOptions:
    """Constants of the front-page score."""

    half_life_hours: float = 6.0
    velocity_window_hours: float = 3.0


@dataclass(frozen=True, slots=True)
class RankedStory:
    """A story key with its score and the inputs of the score."""

    key: str
    score: float
    outlets: int
    velocity: float
    age_hours: float


@dataclass(frozen=True, slots=True)
class StoryActivity:
    """All the score reads of a story's members (the store can count it without loading them)."""

    newest: datetime
    outlets: int
    recent: int  # members published within the velocity window before ``now``


def activity_of(
    members: Sequence[StoryMember], now: datetime, options: RankOptions | None = None
) -> StoryActivity:
    """A story's activity from its members.

    Raises:
        ValueError: the story has no members.
    """
    if not members:
        raise ValueError("a story without articles has no score")
    window = (options or RankOptions()).velocity_window_hours
    return StoryActivity(
        newest=max(m.published for m in members),
        outlets=len({m.outlet for m in members}),
        recent=sum(1 for m in members if 0 <= (now - m.published).total_seconds() / 3600 <= window),
    )


def score(
    members: Sequence[StoryMember], now: datetime, options: RankOptions | None = None
) -> tuple[float, int, float, float]:
    """The front-page score of a story and its parts: ``(score, outlets, velocity, age_hours)``.

    Raises:
        ValueError: the story has no members.
    """
    return score_activity(activity_of(members, now, options), now, options)


def score_activity(
    activity: StoryActivity, now: datetime, options: RankOptions | None = None
) -> tuple[float, int, float, float]:
    """The score of a story from its activity (see the module docstring)."""
    opts = options or RankOptions()
    age_hours = max(0.0, (now - activity.newest).total_seconds() / 3600)
    velocity = activity.recent / opts.velocity_window_hours
    recency = 0.5 ** (age_hours / opts.half_life_hours)
    value = recency * (1 + math.log1p(activity.outlets)) * (1 + math.log1p(velocity))
    return value, activity.outlets, velocity, age_hours


def rank_stories(
    stories: dict[str, Sequence[StoryMember]], now: datetime, options: RankOptions | None = None
) -> list[RankedStory]:
    """Stories ordered for the front page, best first (see the module docstring)."""
    return rank_activity(
        {key: activity_of(members, now, options) for key, members in stories.items() if members},
        now,
        options,
    )


def rank_activity(
    stories: dict[str, StoryActivity], now: datetime, options: RankOptions | None = None
) -> list[RankedStory]:
    """``rank_stories`` over activities the store counted."""
    ranked: list[tuple[RankedStory, datetime]] = []
    for key, activity in stories.items():
        value, outlets, velocity, age = score_activity(activity, now, options)
        ranked.append((RankedStory(key, value, outlets, velocity, age), activity.newest))
    ranked.sort(key=lambda item: (-item[0].score, -item[1].timestamp(), item[0].key))
    return [story for story, _ in ranked]


_WORD = re.compile(r"\w+", re.UNICODE)


def choose_headline(members: Sequence[StoryMember]) -> int:
    """Index of the member whose title best represents the story.

    The title sharing the most words with the other titles (each word counted
    once per title, weighted by how many titles use it), per word of its own
    length so long titles do not win by length; ties go to the earliest.

    Raises:
        ValueError: no members.
    """
    if not members:
        raise ValueError("a story without articles has no headline")
    word_sets = [set(_WORD.findall(m.title.casefold())) for m in members]
    usage = Counter(w for words in word_sets for w in words)
    best, best_key = 0, (-1.0, 0.0)
    for i, words in enumerate(word_sets):
        if not words:
            continue
        support = sum(usage[w] - 1 for w in words) / math.sqrt(len(words))
        key = (support, -members[i].published.timestamp())
        if key > best_key:
            best, best_key = i, key
    return best
