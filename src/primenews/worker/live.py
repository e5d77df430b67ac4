"""Live events: what the writer tells readers when stories appear or change.

The desk and the poller run in the store writer's thread; they hand each
``LiveEvent`` to an ``EventSink`` (the web layer's broadcaster), which must
accept calls from any thread and never block. Classifying a story change is
pure: the previous snapshot and the stored story in, an event kind out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from primenews.domain import StoredStory

STORY_NEW = "story.new"
STORY_GREW = "story.grew"
STORY_HEADLINE = "story.headline"
STORY_MERGED = "story.merged"
ARTICLE_STORED = "article.stored"

# Stories remembered to tell "grew" from "new"; older ones count as new again.
REMEMBERED_STORIES = 20_000


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One thing that happened, with what subscribers filter on."""

    kind: str
    data: Mapping[str, object]
    story_id: int | None = None
    sections: tuple[str, ...] = ()
    entity_ids: tuple[int, ...] = ()  # filled once entities are stored per article


class EventSink(Protocol):
    def publish(self, event: LiveEvent) -> None: ...


@dataclass(frozen=True, slots=True)
class StorySnapshot:
    headline: str
    article_count: int


def story_change(previous: StorySnapshot | None, story: StoredStory) -> str | None:
    """The event kind for a story the writer just recorded; None when nothing shows changed."""
    if story.merged_into is not None:
        return STORY_MERGED
    if previous is None:
        return STORY_NEW if story.article_count <= 1 else STORY_GREW
    if story.headline != previous.headline:
        return STORY_HEADLINE
    if story.article_count > previous.article_count:
        return STORY_GREW
    return None


def story_event(kind: str, story: StoredStory) -> LiveEvent:
    data: dict[str, object] = {
        "story_id": story.id,
        "headline": story.headline,
        "article_count": story.article_count,
        "outlet_count": story.outlet_count,
        "sections": list(story.sections),
        "url": f"/story/{story.id}",
    }
    if story.merged_into is not None:
        data["merged_into"] = story.merged_into
    return LiveEvent(kind, data, story_id=story.id, sections=story.sections)


@dataclass(slots=True)
class StoryAnnouncer:
    """Turns the writer's changed story ids into events; keeps the last snapshot of each."""

    sink: EventSink
    seen: OrderedDict[int, StorySnapshot] = field(default_factory=OrderedDict)

    def announce(self, stories: Iterable[StoredStory]) -> None:
        for story in sorted(stories, key=lambda s: s.id):
            kind = story_change(self.seen.get(story.id), story)
            self.seen[story.id] = StorySnapshot(story.headline, story.article_count)
            self.seen.move_to_end(story.id)
            if kind is not None:
                self.sink.publish(story_event(kind, story))
        while len(self.seen) > REMEMBERED_STORIES:
            self.seen.popitem(last=False)
