"""Top stories for the front page, section pages and ``order=rank``: ranked, then cached.

The score is ``stories.rank`` (recency × outlets × velocity, documented in
docs/stories.md). Ranking reads every member of the stories of the last two
days, so its result is kept for a few seconds per section: a busy front page
then costs one cache lookup per request, and a new story appears within
``CACHE_SECONDS``. Past that, the last ranking is still answered while one
background thread ranks again ("stale while revalidate"): readers never wait
for a ranking except the very first of each section, or one older than
``MAX_STALE_SECONDS`` (a refresh that failed or hangs).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from primenews.domain import StoredStory
from primenews.store import Store
from primenews.stories.rank import RankedStory, RankOptions, rank_activity

# Stories whose newest article is older than this cannot reach the top (recency < 1/256).
HORIZON = timedelta(hours=48)
CACHE_SECONDS = 5.0
MAX_STALE_SECONDS = 60.0

logger = logging.getLogger(__name__)
MAX_RANKED = 200
WINDOW_HOURS = RankOptions().velocity_window_hours  # the score's "recent" articles
SHARED_LIMIT = 1000  # live stories read at once to rank every section from one query


@dataclass(frozen=True, slots=True)
class TopStory:
    story: StoredStory
    rank: RankedStory | None  # None: listed by recency, nothing recent enough to rank


class Rankings:
    """Ranked stories per section, recomputed at most every ``ttl`` seconds."""

    def __init__(
        self, store: Store, ttl: float = CACHE_SECONDS, max_stale: float = MAX_STALE_SECONDS
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.max_stale = max_stale
        self._lock = threading.Lock()
        self._cache: dict[str | None, tuple[float, list[TopStory]]] = {}
        self._refreshing: set[str | None] = set()
        self._shared: tuple[float, dict[str | None, list[TopStory]]] | None = None

    def top(self, now: datetime, section: str | None = None, limit: int = 30) -> list[TopStory]:
        """The best ``limit`` live stories of the last two days, best first."""
        clock = time.monotonic()
        with self._lock:
            cached = self._cache.get(section)
            age = clock - cached[0] if cached is not None else float("inf")
            stale_ok = self.ttl < age <= self.ttl + self.max_stale and self.ttl > 0
            start_refresh = stale_ok and section not in self._refreshing
            if start_refresh:
                self._refreshing.add(section)
        if cached is not None and age <= self.ttl:
            return cached[1][:limit]
        if cached is not None and stale_ok:
            if start_refresh:
                threading.Thread(
                    target=self._refresh, args=(now, section), name="rankings", daemon=True
                ).start()
            return cached[1][:limit]
        ranked = self._store_ranking(now, section)
        return ranked[:limit]

    def _store_ranking(self, now: datetime, section: str | None) -> list[TopStory]:
        ranked = self._rank(now, section)
        with self._lock:
            self._cache[section] = (time.monotonic(), ranked)
        return ranked

    def _refresh(self, now: datetime, section: str | None) -> None:
        try:
            self._store_ranking(now, section)
        except Exception:  # the last ranking stays; the next reader tries again
            logger.exception("rankings: could not rank section %r", section)
        finally:
            with self._lock:
                self._refreshing.discard(section)

    def top_or_latest(
        self, now: datetime, section: str | None = None, limit: int = 30
    ) -> list[TopStory]:
        """The ranked stories, or when none is recent enough (an archive, a quiet
        instance), the most recently updated ones, so the front page is never empty."""
        ranked = self.top(now, section, limit)
        if ranked:
            return ranked
        latest, _ = self.store.list_stories(section=section, limit=limit)
        return [TopStory(story, None) for story in latest]

    def _rank(self, now: datetime, section: str | None) -> list[TopStory]:
        every = self._every_section(now)
        if every is not None:
            return every.get(section, [])
        activity = self.store.ranking_activity(now - HORIZON, now, WINDOW_HOURS, section=section)
        ranked = rank_activity({str(k): v for k, v in activity.items()}, now)[:MAX_RANKED]
        stories = self.store.get_stories([int(r.key) for r in ranked])
        return [TopStory(stories[int(r.key)], r) for r in ranked if int(r.key) in stories]

    def _every_section(self, now: datetime) -> dict[str | None, list[TopStory]] | None:
        """The rankings of the front page and of every section from one read of the store.

        A story's score does not depend on the other stories, so a section's
        ranking is the overall one filtered by section: one activity query (the
        costly part: counting every member of two days of stories) instead of one
        per section. Shared by refreshes within half a TTL of each other; None when
        there are more live stories than one query reads (then each section
        reads its own, as before).
        """
        with self._lock:
            shared = self._shared
            if shared is not None and time.monotonic() - shared[0] <= self.ttl / 2:
                return shared[1]
        activity = self.store.ranking_activity(now - HORIZON, now, WINDOW_HOURS, limit=SHARED_LIMIT)
        if len(activity) >= SHARED_LIMIT:
            return None
        ranked = rank_activity({str(k): v for k, v in activity.items()}, now)
        stories = self.store.get_stories([int(r.key) for r in ranked])
        every: dict[str | None, list[TopStory]] = {None: []}
        for r in ranked:
            story = stories.get(int(r.key))
            if story is None:
                continue
            for name in (None, *story.sections):
                listed = every.setdefault(name, [])
                if len(listed) < MAX_RANKED:
                    listed.append(TopStory(story, r))
        with self._lock:
            self._shared = (time.monotonic(), every)
        return every
