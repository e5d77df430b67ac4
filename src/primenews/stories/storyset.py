"""The live stories of a :class:`~primenews.stories.cluster.StoryIndex` and their posting lists.

A :class:`Story` keeps a centroid (the sum of its members' unit vectors,
pruned to the heaviest terms), a signature multiset (names, numbers, links),
its languages and time bounds. :class:`StorySet` owns the stories, the
inverted index from terms and keys to stories, the aliases left by merges
and the expiry order. Every container is insertion-ordered, so the
behaviour is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from primenews.stories.features import DocFeatures

__all__ = ["Story", "StorySet"]


class Story:
    """One story's running state (mutable; owned by its :class:`StorySet`)."""

    __slots__ = (
        "absorbed", "centroid", "first", "key", "languages", "last", "norm2", "seq",
        "signature", "size",
    )  # fmt: skip

    def __init__(self, key: str, seq: int, when: float) -> None:
        self.key = key
        self.seq = seq  # creation order: the tie-breaker everywhere
        self.centroid: dict[str, float] = {}
        self.norm2 = 0.0
        self.size = 0
        self.first = when
        self.last = when
        self.signature: dict[str, int] = {}
        self.languages: dict[str, int] = {}
        self.absorbed: list[str] = []  # keys of stories merged into this one

    def dot(self, vector: dict[str, float]) -> tuple[float, int]:
        """Cosine of a unit ``vector`` to the centroid, and how many terms they share."""
        if self.norm2 <= 0.0:
            return 0.0, 0
        centroid = self.centroid
        total, shared = 0.0, 0
        for term, weight in vector.items():
            value = centroid.get(term)
            if value is not None:
                total += weight * value
                shared += 1
        return total / math.sqrt(self.norm2), shared

    def cosine(self, other: Story) -> float:
        """Cosine between two centroids."""
        a, b = (self, other) if len(self.centroid) <= len(other.centroid) else (other, self)
        if a.norm2 <= 0.0 or b.norm2 <= 0.0:
            return 0.0
        total = sum(w * b.centroid.get(t, 0.0) for t, w in a.centroid.items())
        return total / math.sqrt(a.norm2 * b.norm2)

    @property
    def coherence(self) -> float:
        """|centroid| / size: 1.0 for one article, lower as members disagree."""
        return math.sqrt(self.norm2) / self.size if self.size else 0.0

    def top_terms(self, count: int) -> list[str]:
        """The ``count`` heaviest centroid terms (ties by term)."""
        ranked = sorted(self.centroid.items(), key=lambda kv: (-kv[1], kv[0]))
        return [t for t, _ in ranked[:count]]

    def to_state(self) -> dict[str, Any]:
        """JSON-safe state."""
        return {
            "key": self.key, "seq": self.seq, "centroid": self.centroid, "norm2": self.norm2,
            "size": self.size, "first": self.first, "last": self.last,
            "signature": self.signature, "languages": self.languages, "absorbed": self.absorbed,
        }  # fmt: skip

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Story:
        """Inverse of :meth:`to_state`."""
        story = cls(str(state["key"]), int(state["seq"]), float(state["first"]))
        story.last = float(state["last"])
        story.centroid = {str(t): float(w) for t, w in state["centroid"].items()}
        story.norm2 = float(state["norm2"])
        story.size = int(state["size"])
        story.signature = {str(k): int(v) for k, v in state["signature"].items()}
        story.languages = {str(k): int(v) for k, v in state["languages"].items()}
        story.absorbed = [str(k) for k in state["absorbed"]]
        return story


class StorySet:
    """Live stories, the inverted index over their terms and keys, merge aliases."""

    def __init__(self, max_terms: int) -> None:
        self.max_terms = max_terms
        self.live: dict[str, Story] = {}  # creation order
        self.postings: dict[str, dict[str, None]] = {}
        self.aliases: dict[str, str] = {}  # absorbed key -> the key it was merged into
        self._recency: dict[str, None] = {}  # least recently updated first
        self._seq = 0

    def create(self, key: str, when: float) -> Story:
        """Start a story keyed by its first document's id."""
        if key in self.live or key in self.aliases:
            key = f"{key}#{self._seq}"  # a re-sent document id must not reopen a story
        story = Story(key, self._seq, when)
        self._seq += 1
        self.live[key] = story
        return story

    def add_doc(
        self, story: Story, features: DocFeatures, language: str, when: float, *, text: bool = True
    ) -> None:
        """Fold one document into ``story`` (its vector only if ``text``)."""
        if text:
            self._add_vector(story, features.vector)
        for key in features.signature:
            story.signature[key] = story.signature.get(key, 0) + 1
            self._post(key, story.key)
        story.languages[language] = story.languages.get(language, 0) + 1
        story.size += 1
        story.first = min(story.first, when)
        story.last = max(story.last, when)
        self._touch(story.key)

    def _add_vector(self, story: Story, vector: dict[str, float]) -> None:
        centroid = story.centroid
        for term, weight in vector.items():
            old = centroid.get(term)
            if old is None:
                old = 0.0
            self._post(term, story.key)
            centroid[term] = old + weight
            story.norm2 += (old + weight) ** 2 - old * old
        if len(centroid) > 2 * self.max_terms:
            self._prune(story)

    def _prune(self, story: Story) -> None:
        kept = dict(
            sorted(story.centroid.items(), key=lambda kv: (-kv[1], kv[0]))[: self.max_terms]
        )
        for term in story.centroid:
            if term not in kept:
                self._unpost(term, story.key)
        story.centroid = kept
        story.norm2 = sum(w * w for w in kept.values())

    def _post(self, term: str, key: str) -> None:
        """Put ``key`` at the recent end of ``term``'s posting list."""
        posting = self.postings.get(term)
        if posting is None:
            self.postings[term] = {key: None}
        else:
            posting.pop(key, None)
            posting[key] = None

    def _unpost(self, term: str, key: str) -> None:
        posting = self.postings.get(term)
        if posting is not None:
            posting.pop(key, None)
            if not posting:
                del self.postings[term]

    def _touch(self, key: str) -> None:
        self._recency.pop(key, None)
        self._recency[key] = None

    def recent(self, key: str, limit: int) -> Iterator[str]:
        """Keys of the (at most ``limit``) stories that most recently used ``key``."""
        posting = self.postings.get(key)
        if not posting:
            return iter(())
        return islice(reversed(posting), limit) if limit else iter(posting)

    def candidates(
        self, keys: Iterable[str], exclude: str, per_key: int = 0, min_hits: int = 1
    ) -> list[Story]:
        """Live stories posted under at least ``min_hits`` of ``keys``, oldest first.

        With ``per_key``, only the ``per_key`` stories that most recently took
        a document with that key are read from each posting list: this bounds
        the work per document however many stories the window holds.
        """
        hits: dict[str, int] = {}
        for key in keys:
            posting = self.postings.get(key)
            if not posting:
                continue
            found = islice(reversed(posting), per_key) if per_key else iter(posting)
            for story_key in found:
                hits[story_key] = hits.get(story_key, 0) + 1
        hits.pop(exclude, None)
        chosen = (self.live[k] for k, n in hits.items() if n >= min_hits)
        return sorted(chosen, key=lambda s: s.seq)

    def merge(self, small: Story, big: Story) -> None:
        """Fold ``small`` into ``big`` and retire ``small``'s key as an alias."""
        self._drop(small)
        for term, weight in small.centroid.items():
            if term not in big.centroid:
                self.postings.setdefault(term, {})[big.key] = None
            big.centroid[term] = big.centroid.get(term, 0.0) + weight
        for key, count in small.signature.items():
            big.signature[key] = big.signature.get(key, 0) + count
            self.postings.setdefault(key, {})[big.key] = None
        for language, count in small.languages.items():
            big.languages[language] = big.languages.get(language, 0) + count
        big.size += small.size
        big.first, big.last = min(big.first, small.first), max(big.last, small.last)
        big.absorbed.extend([small.key, *small.absorbed])
        for key in (small.key, *small.absorbed):
            self.aliases[key] = big.key
        big.norm2 = sum(w * w for w in big.centroid.values())
        if len(big.centroid) > 2 * self.max_terms:
            self._prune(big)
        self._touch(big.key)

    def _drop(self, story: Story) -> None:
        for term in story.centroid:
            self._unpost(term, story.key)
        for key in story.signature:
            self._unpost(key, story.key)
        del self.live[story.key]
        self._recency.pop(story.key, None)

    def expire(self, horizon: float) -> list[str]:
        """Remove stories whose newest document is older than ``horizon``."""
        gone: list[str] = []
        for key in list(self._recency):
            story = self.live[key]
            if story.last >= horizon:
                break  # roughly time-ordered: the rest is newer
            self._drop(story)
            for alias in story.absorbed:
                self.aliases.pop(alias, None)
            gone.append(key)
        return gone

    def resolve(self, key: str) -> str:
        """Follow merge aliases to the live key."""
        return self.aliases.get(key, key)

    def to_state(self) -> dict[str, Any]:
        """JSON-safe state (posting lists are derived, not stored)."""
        return {
            "seq": self._seq,
            "stories": [s.to_state() for s in self.live.values()],
            "recency": list(self._recency),
            "aliases": dict(self.aliases),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], max_terms: int) -> StorySet:
        """Inverse of :meth:`to_state`."""
        stories = cls(max_terms)
        stories._seq = int(state["seq"])
        for item in state["stories"]:
            story = Story.from_state(item)
            stories.live[story.key] = story
            for term in (*story.centroid, *story.signature):
                stories.postings.setdefault(term, {})[story.key] = None
        stories._recency = dict.fromkeys(str(k) for k in state["recency"])
        stories.aliases = {str(k): str(v) for k, v in state["aliases"].items()}
        return stories
