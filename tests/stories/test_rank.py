"""Front-page score and headline choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from primenews.stories import RankOptions, StoryMember, choose_headline, rank_stories
from primenews.stories.rank import score

NOW = datetime(2026, 8, 13, 12, 0, tzinfo=UTC)


def _members(outlets: int, hours_ago: float, count: int | None = None) -> list[StoryMember]:
    n = count or outlets
    return [
        StoryMember(f"Title {i}", f"outlet{i % outlets}", NOW - timedelta(hours=hours_ago + i / n))
        for i in range(n)
    ]


def test_more_outlets_rank_higher() -> None:
    ranked = rank_stories({"one": _members(1, 1), "ten": _members(10, 1)}, NOW)
    assert [r.key for r in ranked] == ["ten", "one"]
    assert ranked[0].outlets == 10


def test_older_stories_fade_with_the_half_life() -> None:
    fresh, _, _, _ = score(_members(3, 0), NOW)
    old, _, _, age = score(_members(3, 6), NOW)
    assert age == pytest.approx(6.0)
    assert old < fresh / 2 and old > fresh / 4


def test_velocity_lifts_a_breaking_story() -> None:
    steady = _members(4, 0, count=4)
    breaking = steady + [
        StoryMember("More", "outlet0", NOW - timedelta(minutes=m)) for m in range(8)
    ]
    slow, _, v_slow, _ = score(steady, NOW)
    fast, _, v_fast, _ = score(breaking, NOW)
    assert v_fast > v_slow and fast > slow


def test_order_is_total_and_deterministic() -> None:
    stories = {key: _members(2, 1) for key in ("b", "a", "c")}
    assert [r.key for r in rank_stories(stories, NOW)] == ["a", "b", "c"]
    assert rank_stories({"empty": []}, NOW) == []


def test_options_change_the_decay() -> None:
    members = _members(2, 12)
    slow = score(members, NOW, RankOptions(half_life_hours=24))[0]
    assert slow > score(members, NOW)[0]


def test_headline_is_the_most_representative_title() -> None:
    members = [
        StoryMember("Watch: scenes from the eclipse", "a", NOW),
        StoryMember("Total solar eclipse plunges Spain and Iceland into darkness", "b", NOW),
        StoryMember("Solar eclipse turns day into darkness over Spain", "c", NOW),
        StoryMember("Eclipse: Spain and Iceland in darkness as solar eclipse passes", "d", NOW),
    ]
    assert choose_headline(members) in (1, 3)
    with pytest.raises(ValueError):
        choose_headline([])
    with pytest.raises(ValueError):
        score([], NOW)
