"""Live events: what the writer tells readers when stories appear or change.

The desk and the poller run in the store writer's thread; they hand each
``LiveEvent`` to an ``EventSink``: ``KeptEvents``, which keeps it in the store
for the web processes beside the poller, then hands it to this process's
broadcaster (which accepts calls from any thread and never blocks).
Classifying a story change is pure: the previous snapshot and the stored
story in, an event kind out.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.exc import SQLAlchemyError

from primenews.domain import LiveEvent, StoredStory
from primenews.errors import StoreError
from primenews.store.live_events import KEEP

if TYPE_CHECKING:
    from primenews.store import Store

logger = logging.getLogger(__name__)

STORY_NEW = "story.new"
STORY_GREW = "story.grew"
STORY_HEADLINE = "story.headline"
STORY_MERGED = "story.merged"
ARTICLE_STORED = "article.stored"

# Stories remembered to tell "grew" from "new"; older ones count as new again.
REMEMBERED_STORIES = 20_000
PRUNE_EVERY = 1_000  # events kept between two prunes of the store's event log


class EventSink(Protocol):
    def publish(self, event: LiveEvent) -> None: ...


class NumberedSink(Protocol):
    def publish(self, event: LiveEvent, event_id: int | None = None) -> None: ...


@dataclass(slots=True)
class KeptEvents:
    """An ``EventSink`` that keeps each event in the store, then streams it under the store's id.

    Web processes beside the poller stream the same rows (``store.live_events``),
    under the same ids. A store error costs the live update, never the desk's write.
    """

    store: Store
    local: NumberedSink | None = None  # this process's streams, if it serves any
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    keep: int = KEEP  # events left in the store after a prune
    kept: int = 0

    def publish(self, event: LiveEvent) -> None:
        try:
            event_id = self.store.append_live_event(event, self.clock())
            self.kept += 1
            if self.kept % PRUNE_EVERY == 1:  # the first too: `poll --once` runs are short
                self.store.prune_live_events(self.keep)
        except (SQLAlchemyError, StoreError):
            logger.exception("live: a %s event was not kept; readers miss it", event.kind)
            return
        if self.local is not None:
            self.local.publish(event, event_id)


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
