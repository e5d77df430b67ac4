"""The stories stage as one object: each new article deduplicated, then put into a story.

    StoryTracker.observe(doc) ─► Observation
        dedup      DedupResult   new / seen / revision / exact / near copy
        assignment Assignment    the story it joined (None for seen and revision)
        merges     [Merge]       stories merged by the periodic pass, if it ran now

Pure in-memory state fed by a single writer, in the order articles were
first seen; the same documents in the same order give the same observations.
The caller stores the results (see ``worker.desk``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from primenews.stories.cluster import Assignment, ClusterOptions, Merge, StoryIndex
from primenews.stories.dedup import DedupKind, DedupOptions, DedupResult, DuplicateIndex
from primenews.stories.documents import StoryDoc

__all__ = ["Observation", "StoryTracker", "TrackerOptions"]

# Centroid terms kept per story for "related stories" (stemmed, language-folded).
STORY_TERMS = 12


@dataclass(frozen=True, slots=True)
class TrackerOptions:
    """How duplicates and stories are decided, and how often stories are merged."""

    cluster: ClusterOptions = field(default_factory=ClusterOptions)
    dedup: DedupOptions = field(default_factory=DedupOptions)
    merge_every: int = 50  # documents between merge passes (``merge_pass`` also runs on demand)


@dataclass(frozen=True, slots=True)
class Observation:
    """What the stories stage decided about one document."""

    doc_id: str
    dedup: DedupResult
    assignment: Assignment | None = None
    merges: tuple[Merge, ...] = ()


class StoryTracker:
    """Duplicate index plus story index, fed one document at a time."""

    def __init__(self, options: TrackerOptions | None = None) -> None:
        self.options = options or TrackerOptions()
        self.duplicates = DuplicateIndex(self.options.dedup)
        self.index = StoryIndex(self.options.cluster)
        self._since_merge = 0

    def observe(self, doc: StoryDoc) -> Observation:
        """Deduplicate ``doc`` and, unless it is an article already placed, assign its story.

        A revision keeps the story it has: re-assigning it would count it twice.
        Copies (exact or near) are assigned like any article: they are coverage.
        """
        dedup = self.duplicates.add(doc)
        if dedup.kind in (DedupKind.SEEN, DedupKind.REVISION):
            return Observation(doc.id, dedup)
        assignment = self.index.assign(doc)
        self._since_merge += 1
        merges: tuple[Merge, ...] = ()
        if self.options.merge_every and self._since_merge >= self.options.merge_every:
            merges = tuple(self.merge_pass())
        return Observation(doc.id, dedup, assignment, merges)

    def merge_pass(self) -> list[Merge]:
        """Merge the stories that have converged since the last pass."""
        self._since_merge = 0
        return self.index.merge_converged()

    def resolve(self, key: str) -> str:
        """The live key of a story (following merges)."""
        return self.index.resolve(key)

    def terms(self, key: str) -> tuple[str, ...]:
        """The heaviest terms of a live story (empty once it has left the window)."""
        story = self.index.stories.live.get(self.index.resolve(key))
        return tuple(story.top_terms(STORY_TERMS)) if story is not None else ()

    def replay(self, docs: Iterable[StoryDoc]) -> list[Observation]:
        """Observe stored documents in their first-seen order (a restart), then merge once."""
        observations = [self.observe(doc) for doc in docs]
        merges = self.merge_pass()
        if merges and observations:
            last = observations[-1]
            observations[-1] = Observation(
                last.doc_id, last.dedup, last.assignment, (*last.merges, *merges)
            )
        return observations

    def to_state(self) -> dict[str, Any]:
        """JSON-safe state of both indexes; :meth:`from_state` restores the same decisions."""
        return {
            "duplicates": self.duplicates.to_state(),
            "index": self.index.to_state(),
            "since_merge": self._since_merge,
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], options: TrackerOptions | None = None
    ) -> StoryTracker:
        """Inverse of :meth:`to_state` (raises KeyError, ValueError, TypeError if malformed)."""
        tracker = cls(options)
        tracker.duplicates = DuplicateIndex.from_state(state["duplicates"], tracker.options.dedup)
        tracker.index = StoryIndex.from_state(state["index"], tracker.options.cluster)
        tracker._since_merge = int(state["since_merge"])
        return tracker
