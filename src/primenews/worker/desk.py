"""The story desk: the one writer that puts stored articles into stories.

It owns the stories stage's in-memory state (``StoryTracker``: the duplicate
index and the story index) and records each decision in the store. Call it
from one thread only (the poller's store writer does); two desks over one
store would each decide alone.

On start it replays the articles first seen within the duplicate window
(7 days) in their first-seen order, which rebuilds the same state the last
run had: the stages are deterministic for the same order, and recording is
idempotent, so a replay rewrites nothing that was right.

Replaying a week costs minutes on a big store (~300 articles/s), so the state
is also saved in the store (``desk_state``): after the start, after each round
of polling (at most every ``SAVE_EVERY_SECONDS``) and at shutdown. A start
loads it and replays only what it has not observed (newer articles, and older
ones stored but never placed); a state that is missing, unreadable or written
by other code or options (``state_version``) means the full replay. If
recording a decision fails, the saved state is dropped, so that the next start
replays and repairs the store as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from primenews.errors import StoreError
from primenews.store import Store, deskstate
from primenews.store.articles import chunks
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
STATE_NAME = "stories"
# Bump when the stories stages decide differently for the same input: a state
# saved by the old code is then replayed instead of loaded.
STATE_VERSION = 1
SAVE_EVERY_SECONDS = 30.0  # rounds may come faster; the state of a big store is megabytes
ID_CHUNK = 500


def state_version(options: TrackerOptions) -> str:
    """The code and options a saved state belongs to (options by their repr)."""
    digest = hashlib.sha256(repr(options).encode()).hexdigest()[:16]
    return f"{STATE_VERSION}:{digest}"


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
        self.last_article_id = 0  # the newest article the tracker has observed
        self._state_ok = True  # False once a decision failed to record: replay next time
        self._saved = float("-inf")  # time.monotonic() of the last save
        # Live pages hear of each change after it is recorded (not during a replay).
        self.announcer = StoryAnnouncer(events) if events is not None else None

    def start(self) -> int:
        """Load the saved state, or replay the recent articles; returns how many were replayed."""
        since = self.clock() - self.tracker.options.dedup.window
        began = time.perf_counter()
        restored = self._load_state()
        if restored is not None:
            self.tracker, self.last_article_id = restored
            with self.store.engine.connect() as conn:
                ids = deskstate.unobserved_article_ids(conn, since, self.last_article_id)
            docs = []
            for part in chunks(ids, ID_CHUNK):
                docs.extend(self.store.story_docs(article_ids=part))
            logger.info("stories: loaded the saved state; %d newer articles to replay", len(docs))
        else:
            docs = self.store.story_docs(since=since)
        for start in range(0, len(docs), REPLAY_BATCH):
            batch = docs[start : start + REPLAY_BATCH]
            observations = [self.tracker.observe(doc) for doc in batch]
            last = start + REPLAY_BATCH >= len(docs)
            self._record(observations, self.tracker.merge_pass() if last else [])
            logger.info("stories: replayed %d of %d recent articles", start + len(batch), len(docs))
        self.started = True
        if docs:
            self.last_article_id = max(self.last_article_id, max(int(d.id) for d in docs))
            logger.info(
                "stories: %d live stories from %d articles in %.1f s",
                len(self.tracker.index),
                len(docs),
                time.perf_counter() - began,
            )
        if docs or restored is None:
            self.save_state()
        return len(docs)

    def save_state(self) -> bool:
        """Save the tracker's state in the store (the writer's thread); True when saved."""
        if not self.started:
            return False
        try:
            if not self._state_ok:  # a decision is missing from the store: replay next time
                with self.store.engine.begin() as conn:
                    deskstate.delete_state(conn, STATE_NAME)
                return False
            began = time.perf_counter()
            text = json.dumps(self.tracker.to_state(), separators=(",", ":"))
            blob = zlib.compress(text.encode(), 1)
            with self.store.engine.begin() as conn:
                deskstate.save_state(
                    conn,
                    STATE_NAME,
                    state_version(self.tracker.options),
                    self.last_article_id,
                    self.clock(),
                    blob,
                )
        except (StoreError, SQLAlchemyError):  # only the start-up shortcut is lost
            logger.exception("stories: could not save the desk's state")
            return False
        self._saved = time.monotonic()
        logger.debug(
            "stories: state saved (%d KB) in %.2f s", len(blob) // 1024, time.perf_counter() - began
        )
        return True

    def _load_state(self) -> tuple[StoryTracker, int] | None:
        try:
            with self.store.engine.connect() as conn:
                saved = deskstate.load_state(conn, STATE_NAME)
        except (StoreError, SQLAlchemyError):
            logger.exception("stories: could not read the saved state; replaying")
            return None
        if saved is None:
            return None
        if saved.version != state_version(self.tracker.options):
            logger.info("stories: the saved state is of another version; replaying")
            return None
        try:
            state = json.loads(zlib.decompress(saved.state))
            tracker = StoryTracker.from_state(state, self.tracker.options)
        except (ValueError, KeyError, TypeError, IndexError, zlib.error):
            logger.exception("stories: the saved state is unreadable; replaying")
            return None
        return tracker, saved.last_article_id

    def record(self, article_ids: Sequence[int]) -> set[int]:
        """Deduplicate and place stored articles (new or revised), in the order given.

        Returns:
            The ids of the stories that changed.
        """
        if not self.started:
            self.start()
        if article_ids:
            self.last_article_id = max(self.last_article_id, *article_ids)
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
        if time.monotonic() - self._saved >= SAVE_EVERY_SECONDS:
            self.save_state()
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
            self._state_ok = False
            return set()


def _may_be_rewrite(observation: Observation) -> bool:
    """A new original text (not a copy) that joined a story another article started."""
    assignment = observation.assignment
    if assignment is None:
        return observation.dedup.kind is DedupKind.REVISION  # its new text may retell another
    return observation.dedup.kind is DedupKind.NEW and not assignment.is_new
