"""Online story clustering: the one stage that keeps state, a :class:`StoryIndex`.

Each new document joins the best-matching *active* story (one whose newest
article is at most ``window`` older than the document) or starts a new one.
The match score is

    score = cos(doc vector, story centroid) + evidence_weight × min(1, evidence)

where ``evidence`` sums the normalised IDF of the signature keys (names,
numbers, links) the document shares with the story. A document in a language
the story has never seen cannot be compared by text; it joins on evidence
alone (``evidence ≥ cross_language_evidence``, and a shared name, link or slug
word among it: numbers alone join unrelated stories). :meth:`StoryIndex.merge_converged`
later merges two concurrent stories when the smaller one's articles would, on
average, have joined the larger (``cos(centroids) × coherence ≥ merge_threshold``).
Stories that are not concurrent are never merged, whatever names they share.

The index is single-writer and deterministic: every container iterates in
insertion order and ties go to the older story, so the same documents in the
same order give the same stories. It serialises with :meth:`~StoryIndex.to_state`
and rebuilds by replaying documents (:func:`rebuild_index`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from primenews.stories.documents import StoryDoc
from primenews.stories.features import (
    DocFeatures,
    DocumentFrequency,
    FeatureOptions,
    doc_features,
)
from primenews.stories.storyset import Story, StorySet

__all__ = [
    "Assignment",
    "ClusterOptions",
    "Evidence",
    "Merge",
    "StoryIndex",
    "merge_converged",
    "rebuild_index",
]


@dataclass(frozen=True, slots=True)
class ClusterOptions:
    """Thresholds and limits of the story index.

    The defaults are for articles (a headline plus a body or a feed summary)
    and were chosen on the multi-outlet feed fixture; :meth:`for_titles` is
    the profile for bare, pre-processed headlines, tuned on the googlenews dev part.
    """

    join_threshold: float = 0.35  # score needed to join a story rather than start one
    late_join_threshold: float | None = None  # a lone article joining at merge time; None: as above
    merge_threshold: float = 0.25  # the smaller story's mean member similarity to the larger
    window: timedelta = timedelta(days=2)  # a story takes articles while its newest is this recent
    gap_half_life: timedelta = timedelta(days=3)  # score halves per this since the story's newest
    merge_gap: timedelta = timedelta(days=1)  # stories further apart in time never merge
    evidence_weight: float = 0.1  # how much shared names/numbers/links add to the text score
    cross_language_evidence: float = 0.7  # evidence alone needed across languages
    min_shared_terms: int = 2  # one shared word ("Thane", "Hormuz") is a topic, not an event
    key_min_idf: float = 3.0  # names/numbers/links commoner than ~1 doc in 20 are no evidence
    candidate_min_idf: float = 2.0  # terms commoner than ~1 doc in 7 do not propose candidates
    candidate_terms: int = 12  # the heaviest terms that propose candidate stories
    candidates_per_term: int = 40  # the stories that used a term most recently; bounds the work
    max_candidates: int = 24  # stories scored per document, the most often proposed first
    max_story_terms: int = 300  # centroid terms kept per story
    features: FeatureOptions = field(default_factory=FeatureOptions)

    @classmethod
    def for_titles(cls, window: timedelta = timedelta(days=2)) -> ClusterOptions:
        """The profile for streams of bare headlines (no body, no summary).

        Short texts share few words, so joining takes less, and a story's
        fragments are merged as soon as the smaller one's titles would on
        average have joined the larger one.
        """
        return cls(
            join_threshold=0.2,
            late_join_threshold=0.08,
            merge_threshold=0.08,
            window=window,
            evidence_weight=0.2,
            min_shared_terms=1,
        )


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a document joined a story: the numbers and the shared keys."""

    text: float = 0.0  # cosine of the document to the story centroid
    signature: float = 0.0  # normalised IDF mass of the shared keys
    names: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    url_words: tuple[str, ...] = ()  # words of the URL slugs
    thread: str = ""  # the live blog both sit in
    cross_language: bool = False


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where a document went: an existing story or a new one (``story_key`` = its id)."""

    doc_id: str
    story_key: str
    is_new: bool
    score: float
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class Merge:
    """Story ``absorbed`` was merged into story ``into``."""

    absorbed: str
    into: str
    score: float


class StoryIndex:
    """In-memory index of the recent stories; feed it documents in time order."""

    def __init__(self, options: ClusterOptions | None = None) -> None:
        self.options = options or ClusterOptions()
        self.df = DocumentFrequency(self.options.features.background_docs)
        self.stories = StorySet(self.options.max_story_terms)
        self.clock = float("-inf")  # newest document time seen (seconds)
        self._dirty: dict[str, None] = {}  # stories changed since the last merge pass

    def __len__(self) -> int:
        return len(self.stories.live)

    def assign(self, doc: StoryDoc) -> Assignment:
        """Put ``doc`` into a story and say which, why and with what score."""
        when = doc.timestamp
        self.clock = max(self.clock, when)
        features = doc_features(doc, self.df, self.options.features)
        best, score, evidence = self._best_story(doc, features, when)
        if best is None:
            story = self.stories.create(doc.id, when)
            score, evidence = 1.0, Evidence(text=1.0)
        else:
            story = best
        # A document joined across languages keeps its words out of the centroid:
        # they would only dilute it for the story's own language.
        self.stories.add_doc(story, features, doc.language, when, text=not evidence.cross_language)
        self._dirty[story.key] = None
        return Assignment(doc.id, story.key, best is None, score, evidence)

    def learn(self, doc: StoryDoc) -> None:
        """Count ``doc`` in the IDF statistics only (history older than the window)."""
        doc_features(doc, self.df, self.options.features)

    def resolve(self, key: str) -> str:
        """The live key of a story, following merges (a key never merged is itself)."""
        return self.stories.resolve(key)

    def expire(self) -> list[str]:
        """Drop stories too old to take documents; returns their keys."""
        horizon = self.clock - self.options.window.total_seconds()
        return self.stories.expire(horizon)

    def merge_converged(self) -> list[Merge]:
        """Merge concurrent stories that describe one event; see the module docstring."""
        merges: list[Merge] = []
        self.expire()
        dirty = sorted(
            (self.stories.live[k] for k in self._dirty if k in self.stories.live),
            key=lambda s: (-s.size, s.seq),
        )
        self._dirty = {}
        for story in dirty:
            while story.key in self.stories.live:
                found = self._merge_partner(story)
                if found is None:
                    break
                partner, score = found
                big, small = (story, partner) if _outranks(story, partner) else (partner, story)
                self.stories.merge(small, big)
                merges.append(Merge(small.key, big.key, round(score, 6)))
                story = big
        return merges

    def _merge_partner(self, story: Story) -> tuple[Story, float] | None:
        best: tuple[Story, float] | None = None
        gap = self.options.merge_gap.total_seconds()
        # Fragments of one event share their heaviest terms: two of the top eight.
        proposers = story.top_terms(8)
        per_key = self.options.candidates_per_term // 2
        for other in self.stories.candidates(proposers, story.key, per_key, min_hits=2):
            if other.first > story.last + gap or story.first > other.last + gap:
                continue  # not concurrent: two events, however alike
            small = other if _outranks(story, other) else story
            score = story.cosine(other)
            if small.size == 1:  # a late join, against the centroid as it is now
                needed = self.options.late_join_threshold or self.options.join_threshold
            else:
                score *= small.coherence
                needed = self.options.merge_threshold
            if score >= needed and (best is None or score > best[1]):
                best = (other, score)
        return best

    def _best_story(
        self, doc: StoryDoc, features: DocFeatures, when: float
    ) -> tuple[Story | None, float, Evidence]:
        options = self.options
        window = options.window.total_seconds()
        keys = {
            k: i * _KEY_WEIGHTS.get(k[0], 1.0)
            for k in features.signature
            if (i := self.df.idf(k)) >= options.key_min_idf
        }
        scale = 2.0 * max(self.df.idf(""), 1.0)  # two never-seen keys make 1.0
        half_life = options.gap_half_life.total_seconds()
        best: Story | None = None
        best_score, best_parts = 0.0, (0.0, 0.0, False)
        for story, shared, mass in self._candidates(features, keys):
            if story.last < when - window or story.first > when + window:
                continue
            signature = mass / scale
            named = any(k in story.signature for k in keys if k[0] in _NAMING_KEYS)
            score, text, cross = self._score(doc, features, story, signature, shared, named)
            score *= 0.5 ** (max(0.0, when - story.last) / half_life)
            if score > best_score:
                best, best_score, best_parts = story, score, (text, signature, cross)
        if best is None or best_score < options.join_threshold:
            return None, 0.0, Evidence()
        return best, best_score, _evidence(best, keys, *best_parts)

    def _candidates(
        self, features: DocFeatures, keys: dict[str, float]
    ) -> list[tuple[Story, int, float]]:
        """Stories worth scoring, with how many distinctive keys they share and their mass.

        The heaviest rare terms and the distinctive keys propose stories (the
        ones that used them most recently); a story proposed by fewer than
        ``min(2, min_shared_terms)`` of them is skipped, and only the
        ``max_candidates`` proposed most often are scored. Every term of the
        document still counts in the score.
        """
        options = self.options
        vector = features.vector
        rare = [t for t in vector if self.df.idf(t) >= options.candidate_min_idf]
        rare.sort(key=lambda t: (-vector[t], t))
        hits: dict[str, int] = {}
        shared: dict[str, tuple[int, float]] = {}
        per_key = options.candidates_per_term
        for term in rare[: options.candidate_terms]:
            for key in self.stories.recent(term, per_key):
                hits[key] = hits.get(key, 0) + 1
        for sig, weight in keys.items():
            for key in self.stories.recent(sig, per_key):
                hits[key] = hits.get(key, 0) + 1
                count, mass = shared.get(key, (0, 0.0))
                shared[key] = (count + 1, mass + weight)
        min_hits = min(2, options.min_shared_terms)
        live = self.stories.live
        chosen = sorted(
            ((n, live[k]) for k, n in hits.items() if n >= min_hits),
            key=lambda item: (-item[0], item[1].seq),
        )[: options.max_candidates]
        chosen.sort(key=lambda item: item[1].seq)  # ties in score go to the older story
        return [(story, *shared.get(story.key, (0, 0.0))) for _, story in chosen]

    def _score(
        self,
        doc: StoryDoc,
        features: DocFeatures,
        story: Story,
        signature: float,
        keys: int,
        named: bool = True,
    ) -> tuple[float, float, bool]:
        """(score, text similarity, joined across languages) of ``doc`` against ``story``.

        ``signature`` is the normalised IDF mass of the ``keys`` distinctive
        signature keys the two share; ``named``: one of them is a name, a link,
        a live blog or a slug word (not only numbers).
        """
        bonus = self.options.evidence_weight * min(signature, 1.0)
        if story.languages and doc.language not in story.languages:
            # No text to compare: evidence alone decides, and a joining document
            # scores just above the threshold so same-language matches win ties.
            # Numbers alone are no such evidence: an Italian weather report and a
            # Spanish Antarctica story can share "2" and "30"; a name says "same event".
            if keys < 2 or signature < self.options.cross_language_evidence or not named:
                return 0.0, 0.0, True
            return self.options.join_threshold + bonus, 0.0, True
        text, overlap = story.dot(features.vector)
        if overlap < self.options.min_shared_terms:
            text = 0.0
        if features.thread and features.thread in story.signature:
            # Posts of one live blog are one story, whatever each post is about.
            return max(text + bonus, self.options.join_threshold + bonus), text, False
        return text + bonus, text, False

    def to_state(self) -> dict[str, Any]:
        """JSON-safe state; :meth:`from_state` restores an equal index."""
        return {
            "clock": self.clock,
            "df": self.df.to_state(),
            "stories": self.stories.to_state(),
            "dirty": list(self._dirty),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], options: ClusterOptions | None = None) -> StoryIndex:
        """Inverse of :meth:`to_state`."""
        index = cls(options)
        index.clock = float(state["clock"])
        index.df = DocumentFrequency.from_state(state["df"])
        index.stories = StorySet.from_state(state["stories"], index.options.max_story_terms)
        index._dirty = dict.fromkeys(str(k) for k in state["dirty"])
        return index


# A shared outbound link or live-blog folder says "same event" more surely than a name.
_KEY_WEIGHTS = {"l": 2.0, "p": 2.0}
# Keys that name the event: a name, a link, a live blog, a word of the URL's slug (Hindi
# outlets slug their articles in Latin script: "kharge", "pitbull"). Numbers alone do not.
_NAMING_KEYS = frozenset("nlpu")


def _evidence(
    story: Story, keys: dict[str, float], text: float, signature: float, cross: bool
) -> Evidence:
    shared = sorted(k for k in keys if k in story.signature)

    def kind(prefix: str) -> tuple[str, ...]:
        return tuple(k[2:] for k in shared if k.startswith(prefix))

    return Evidence(
        text=round(text, 6),
        signature=round(signature, 6),
        names=kind("n:"),
        numbers=kind("#:"),
        links=kind("l:"),
        url_words=kind("u:"),
        thread=kind("p:")[0] if kind("p:") else "",
        cross_language=cross,
    )


def _outranks(a: Story, b: Story) -> bool:
    """The story that survives a merge: the bigger, then the older."""
    return (a.size, -a.seq) > (b.size, -b.seq)


def merge_converged(index: StoryIndex) -> list[Merge]:
    """Run the periodic merge pass on ``index`` (see :meth:`StoryIndex.merge_converged`)."""
    return index.merge_converged()


def rebuild_index(
    docs: Iterable[StoryDoc], options: ClusterOptions | None = None, merge_every: int = 50
) -> tuple[StoryIndex, list[Assignment], list[Merge]]:
    """Replay ``docs`` (in stored order) into a fresh index, merging every ``merge_every``.

    This is how a restart gets its index back from the store, and how the
    benchmark runs a stream. Same documents, same order, same options → the
    same index, assignments and merges.
    """
    index = StoryIndex(options)
    assignments: list[Assignment] = []
    merges: list[Merge] = []
    for n, doc in enumerate(docs, start=1):
        assignments.append(index.assign(doc))
        if merge_every and n % merge_every == 0:
            merges.extend(index.merge_converged())
    if merge_every:
        merges.extend(index.merge_converged())
    return index, assignments, merges
