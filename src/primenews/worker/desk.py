"""The story desk: the one writer that puts stored articles into stories.

It owns the stories stage's in-memory state (``StoryTracker``: the duplicate
index and the story index) and records each decision in the store. Call it
from one thread only (the poller's store writer does); two desks over one
store would each decide alone.

On start it replays the articles first seen within the duplicate window
(7 days) in their first-seen order, which rebuilds the same state the last
run had: the stages are deterministic for the same order, and recording is
idempotent, so a replay rewrites nothing that was right.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from primenews.errors import StoreError
from primenews.store import Store
from primenews.stories.cluster import Merge
from primenews.stories.dedup import DedupKind
from primenews.stories.rewrites import find_rewrite_source
from primenews.stories.tracker import Observation, StoryTracker, TrackerOptions
from primenews.worker.live import EventSink, StoryAnnouncer
from primenews.worker.local import utc_now

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

REPLAY_BATCH = 500  # articles recorded per transaction during a replay
# After a merge, the earliest originals of the merged story re-checked for rewrites: the
# two stories' articles were never compared, and a story's early reports are what is retold.
MERGE_RECHECK = 80


class StoryDesk:
    """Dedup and clustering for new and revised articles, recorded in the store."""

    def __init__(
        self,
        store: Store,
        options: TrackerOptions | None = None,
        *,
        clock: Clock = utc_now,
        events: EventSink | None = None,
    ) -> None:
        self.store = store
        self.tracker = StoryTracker(options)
        self.clock = clock
        self.started = False
        # Live pages hear of each change after it is recorded (not during a replay).
        self.announcer = StoryAnnouncer(events) if events is not None else None

    def start(self) -> int:
        """Replay the recent articles into the tracker; returns how many were replayed."""
        since = self.clock() - self.tracker.options.dedup.window
        docs = self.store.story_docs(since=since)
        began = time.perf_counter()
        for start in range(0, len(docs), REPLAY_BATCH):
            batch = docs[start : start + REPLAY_BATCH]
            observations = [self.tracker.observe(doc) for doc in batch]
            last = start + REPLAY_BATCH >= len(docs)
            self._record(observations, self.tracker.merge_pass() if last else [])
            logger.info("stories: replayed %d of %d recent articles", start + len(batch), len(docs))
        self.started = True
        if docs:
            logger.info(
                "stories: %d live stories from %d articles in %.1f s",
                len(self.tracker.index),
                len(docs),
                time.perf_counter() - began,
            )
        return len(docs)

    def record(self, article_ids: Sequence[int]) -> set[int]:
        """Deduplicate and place stored articles (new or revised), in the order given.

        Returns:
            The ids of the stories that changed.
        """
        if not self.started:
            self.start()
        docs = self.store.story_docs(article_ids=article_ids)
        order = {article_id: n for n, article_id in enumerate(article_ids)}
        docs.sort(key=lambda doc: order[int(doc.id)])
        observations = [self.tracker.observe(doc) for doc in docs]
        changed = self._record(observations)
        for observation in observations:
            if _may_be_rewrite(observation):
                self._credit_original(int(observation.doc_id))
        merged = {merge.into for o in observations for merge in o.merges}
        self._recheck_rewrites(merged)
        self._announce(changed)
        return changed

    def _announce(self, story_ids: set[int]) -> None:
        if self.announcer is None or not story_ids:
            return
        try:
            self.announcer.announce(self.store.get_stories(sorted(story_ids)).values())
        except StoreError:  # the stories are recorded; only this notice is lost
            logger.exception("stories: could not announce %d changed stories", len(story_ids))

    def _credit_original(self, article_id: int) -> None:
        """Record which earlier article of another outlet this one retells, if any."""
        mine, earlier = self.store.rewrite_candidates(article_id)
        if mine is not None:
            self.store.record_rewrite(article_id, find_rewrite_source(mine, earlier))

    def _recheck_rewrites(self, merged_keys: set[str]) -> None:
        """Check rewrites among the members of stories that a merge just joined.

        Before the merge, an article was only compared with its own story's
        earlier articles; the other story's may be what it retells.
        """
        if not merged_keys:
            return
        try:
            story_ids = self.store.story_ids_by_keys(sorted(merged_keys))
            for story_id in story_ids:
                members = [m for m in self.store.story_articles(story_id)
                           if m.duplicate_of is None]  # fmt: skip
                members.sort(key=lambda m: (m.published, m.article_id))
                for member in members[1:MERGE_RECHECK]:  # the first can retell no one
                    self._credit_original(member.article_id)
        except StoreError:  # the merge is recorded; the next article or merge checks again
            logger.exception("stories: could not re-check rewrites after a merge")

    def merge_pass(self) -> set[int]:
        """Merge the stories that have converged; run it after each round of polling."""
        if not self.started:
            return set()
        merges = self.tracker.merge_pass()
        changed = self._record([], merges)
        self._recheck_rewrites({merge.into for merge in merges})
        self._announce(changed)
        return changed

    def _record(self, observations: list[Observation], merges: Sequence[Merge] = ()) -> set[int]:
        keys = {o.assignment.story_key for o in observations if o.assignment is not None}
        keys.update(merge.into for o in observations for merge in o.merges)
        keys.update(merge.into for merge in merges)
        terms = {key: self.tracker.terms(key) for key in keys}
        try:
            return self.store.record_observations(observations, self.clock(), terms, merges)
        except StoreError:
            # The tracker already moved on; the next start replays and repairs the store.
            logger.exception("stories: could not record %d decisions", len(observations))
            return set()


def _may_be_rewrite(observation: Observation) -> bool:
    """A new original text (not a copy) that joined a story another article started."""
    assignment = observation.assignment
    if assignment is None:
        return observation.dedup.kind is DedupKind.REVISION  # its new text may retell another
    return observation.dedup.kind is DedupKind.NEW and not assignment.is_new
