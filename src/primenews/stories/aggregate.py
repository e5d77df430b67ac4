"""What a story says about itself, from its members: headline, first report, span, sections.

Pure: the store hands in the members, these functions return the facts it
keeps on the story row. Recomputed whenever a story gains, loses or revises
an article, so the row never disagrees with its members.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from primenews.stories.rank import StoryMember, choose_headline

__all__ = ["MemberView", "StoryFacts", "story_facts", "story_sections"]

# A section is the story's when at least this share of its articles carry it.
SECTION_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class MemberView:
    """One article of a story, as the story row needs it."""

    article_id: int
    title: str
    outlet: str
    published: datetime  # publication time, never later than first seen
    sections: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoryFacts:
    headline: str
    headline_article_id: int
    first_article_id: int
    first_seen: datetime
    last_seen: datetime
    article_count: int
    outlet_count: int
    sections: dict[str, float]


def story_facts(members: Sequence[MemberView]) -> StoryFacts:
    """The story row's facts.

    Raises:
        ValueError: no members (an empty story has no facts; the caller drops it).
    """
    if not members:
        raise ValueError("a story without articles has no facts")
    ordered = sorted(members, key=lambda m: (m.published, m.article_id))
    best = ordered[choose_headline([StoryMember(m.title, m.outlet, m.published) for m in ordered])]
    return StoryFacts(
        headline=best.title,
        headline_article_id=best.article_id,
        first_article_id=ordered[0].article_id,
        first_seen=ordered[0].published,
        last_seen=ordered[-1].published,
        article_count=len(ordered),
        outlet_count=len({m.outlet for m in ordered}),
        sections=story_sections([m.sections for m in ordered]),
    )


def story_sections(member_sections: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Sections carried by at least half of the members, with the share that carries each.

    When no section reaches half (a story whose articles disagree), the most
    common one is kept so the story still appears on a section page; ties go
    to the label's name, so the result is deterministic.
    """
    if not member_sections:
        return {}
    counts = Counter(label for labels in member_sections for label in labels)
    if not counts:
        return {}
    total = len(member_sections)
    shares = {label: count / total for label, count in sorted(counts.items())}
    kept = {label: share for label, share in shares.items() if share >= SECTION_SHARE}
    if kept:
        return kept
    top = min(shares.items(), key=lambda item: (-item[1], item[0]))
    return {top[0]: top[1]}
