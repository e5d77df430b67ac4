"""Top stories for the front page, section pages and ``order=rank``: ranked, then cached.

The score is ``stories.rank`` (recency × outlets × velocity, documented in
docs/stories.md). Ranking reads every member of the stories of the last two
days, so its result is kept for a few seconds per section: a busy front page
then costs one cache lookup per request, and a new story appears within
``CACHE_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from primenews.domain import StoredStory
from primenews.store import Store
from primenews.stories.rank import RankedStory, rank_stories

# Stories whose newest article is older than this cannot reach the top (recency < 1/256).
HORIZON = timedelta(hours=48)
CACHE_SECONDS = 5.0
MAX_RANKED = 200


@dataclass(frozen=True, slots=True)
class TopStory:
    story: StoredStory
    rank: RankedStory | None  # None: listed by recency, nothing recent enough to rank


class Rankings:
    """Ranked stories per section, recomputed at most every ``ttl`` seconds."""

    def __init__(self, store: Store, ttl: float = CACHE_SECONDS) -> None:
        self.store = store
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[str | None, tuple[float, list[TopStory]]] = {}

    def top(self, now: datetime, section: str | None = None, limit: int = 30) -> list[TopStory]:
        """The best ``limit`` live stories of the last two days, best first."""
        clock = time.monotonic()
        with self._lock:
            cached = self._cache.get(section)
        if cached is None or clock - cached[0] > self.ttl:
            cached = (clock, self._rank(now, section))
            with self._lock:
                self._cache[section] = cached
        return cached[1][:limit]

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
        members = self.store.ranking_members(now - HORIZON, section=section)
        ranked = rank_stories({str(k): v for k, v in members.items() if v}, now)[:MAX_RANKED]
        stories = self.store.get_stories([int(r.key) for r in ranked])
        return [TopStory(stories[int(r.key)], r) for r in ranked if int(r.key) in stories]
