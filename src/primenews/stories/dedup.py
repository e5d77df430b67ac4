"""Duplicate detection: the same article again, a copy of another, or new.

Three tests, cheapest first, against the texts recorded within ``window``:

1. **Same URL** (the canonical URL is the article's identity): the document
   is the same article again — ``SEEN`` if its text is unchanged, otherwise a
   ``REVISION`` (a title edit is a revision, never a duplicate of another).
2. **Exact copy**: the normalised text hash (casefolded words, punctuation
   and spacing ignored) equals that of an earlier article at another URL.
3. **Near copy**: the MinHash estimate of the Jaccard similarity of word
   3-shingles is at least ``near_threshold`` (LSH finds the candidates, the
   full signature decides). Texts under ``min_words`` words only get test 2:
   two short feed summaries can share most shingles and be different news.

A duplicate names its ``original_id``: the earliest article of that text, so
a syndicated wire report is stored once and shown with "also carried by …".
The :class:`DuplicateIndex` is state with a single writer, like the story
index; :meth:`DuplicateIndex.rebuild` replays stored documents after a restart.
"""

from __future__ import annotations

import base64
import zlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH

from primenews.stories.documents import StoryDoc
from primenews.stories.text import content_hash, normalise_text, shingles

__all__ = ["DedupKind", "DedupOptions", "DedupResult", "DuplicateIndex"]


class DedupKind(StrEnum):
    """What a document is with respect to the texts already recorded."""

    NEW = "new"  # a text not seen before: store it
    SEEN = "seen"  # same URL, same text: nothing to do
    REVISION = "revision"  # same URL, changed text: a new revision of that article
    EXACT = "exact"  # another URL, same normalised text
    NEAR = "near"  # another URL, near-identical text


@dataclass(frozen=True, slots=True)
class DedupOptions:
    """Thresholds of duplicate detection."""

    near_threshold: float = 0.8  # estimated Jaccard of word 3-shingles
    num_perm: int = 128  # MinHash size: ±0.04 standard error at J = 0.8
    shingle_words: int = 3
    min_words: int = 25  # shorter texts are matched exactly only
    window: timedelta = timedelta(days=7)  # syndicated copies appear within days


@dataclass(frozen=True, slots=True)
class DedupResult:
    """The verdict on one document; ``original_id`` is set unless ``NEW``."""

    kind: DedupKind
    original_id: str | None = None
    similarity: float = 0.0

    @property
    def is_duplicate(self) -> bool:
        """True for a copy of *another* article (exact or near)."""
        return self.kind in (DedupKind.EXACT, DedupKind.NEAR)


@dataclass(slots=True)
class _Entry:
    doc_id: str
    url: str
    digest: str
    minhash: MinHash | None
    original_id: str  # itself, or the article its text copies
    when: float


class DuplicateIndex:
    """Recent texts by URL, content hash and MinHash; feed it documents in time order."""

    def __init__(self, options: DedupOptions | None = None) -> None:
        self.options = options or DedupOptions()
        # Permutations are drawn once (seeded, so the same in every process).
        self._template = MinHash(num_perm=self.options.num_perm, hashfunc=zlib.crc32)
        # Bands of 6 rows (21 bands of 128): a pair at Jaccard 0.8 becomes a
        # candidate 99.8 % of the time, one at 0.4 8 %; the full signature then
        # decides. datasketch's own band choice for threshold 0.8 (9 × 13) finds
        # a 0.82 pair only half the time.
        self._lsh = MinHashLSH(
            num_perm=self.options.num_perm, params=(self.options.num_perm // 6, 6)
        )
        self._by_url: dict[str, _Entry] = {}
        self._by_digest: dict[str, _Entry] = {}  # the first article of each text
        self._by_id: dict[str, _Entry] = {}  # originals indexed in the LSH
        self._order: deque[_Entry] = deque()  # expiry order
        self._clock = float("-inf")

    def __len__(self) -> int:
        return len(self._by_url)

    def add(self, doc: StoryDoc) -> DedupResult:
        """Classify ``doc`` and record it (single writer)."""
        when = doc.timestamp
        self._clock = max(self._clock, when)
        self._expire()
        text = normalise_text(f"{doc.title}\n{doc.text}")
        digest = content_hash(text)
        known = self._by_url.get(doc.url)
        if known is not None:
            return self._revise(known, doc, digest)
        original = self._by_digest.get(digest)
        if original is not None:
            self._record(_Entry(doc.id, doc.url, digest, None, original.original_id, when))
            return DedupResult(DedupKind.EXACT, original.original_id, 1.0)
        minhash = self._minhash(text)
        near = self._nearest(minhash) if minhash is not None else None
        if near is not None:
            entry, similarity = near
            self._record(_Entry(doc.id, doc.url, digest, None, entry.original_id, when))
            return DedupResult(DedupKind.NEAR, entry.original_id, similarity)
        self._record(_Entry(doc.id, doc.url, digest, minhash, doc.id, when))
        return DedupResult(DedupKind.NEW)

    def _revise(self, known: _Entry, doc: StoryDoc, digest: str) -> DedupResult:
        if known.digest == digest:
            return DedupResult(DedupKind.SEEN, known.doc_id, 1.0)
        # The article changed: its old text no longer stands for anything.
        self._unindex(known)
        text = normalise_text(f"{doc.title}\n{doc.text}")
        minhash = self._minhash(text) if known.original_id == known.doc_id else None
        revised = _Entry(known.doc_id, known.url, digest, minhash, known.original_id, known.when)
        self._by_url[known.url] = revised
        self._by_digest.setdefault(digest, revised)
        if minhash is not None:
            self._by_id[revised.doc_id] = revised
            self._lsh.insert(revised.doc_id, minhash)
        self._order.append(revised)
        return DedupResult(DedupKind.REVISION, known.doc_id, 0.0)

    def _minhash(self, text: str) -> MinHash | None:
        grams = shingles(text, self.options.shingle_words)
        if len(grams) + self.options.shingle_words - 1 < self.options.min_words:
            return None
        template = self._template
        minhash = MinHash(
            num_perm=self.options.num_perm,
            permutations=template.permutations,
            scheme=template.scheme,
            hashfunc=zlib.crc32,  # deterministic and C-fast; SHA-1 cost more than all the rest
        )
        minhash.update_batch([g.encode("utf-8") for g in sorted(grams)])
        return minhash

    def _nearest(self, minhash: MinHash) -> tuple[_Entry, float] | None:
        best: tuple[_Entry, float] | None = None
        for key in sorted(self._lsh.query(minhash)):  # sorted: LSH buckets are sets
            entry = self._by_id[key]
            if entry.minhash is None:  # only originals are indexed, and they all have one
                continue
            similarity = float(np.mean(entry.minhash.hashvalues == minhash.hashvalues))
            if similarity < self.options.near_threshold:
                continue
            if best is None or (similarity, -entry.when) > (best[1], -best[0].when):
                best = (entry, similarity)
        return best

    def _record(self, entry: _Entry) -> None:
        self._by_url[entry.url] = entry
        self._by_digest.setdefault(entry.digest, entry)
        if entry.minhash is not None:
            self._by_id[entry.doc_id] = entry
            self._lsh.insert(entry.doc_id, entry.minhash)
        self._order.append(entry)

    def _unindex(self, entry: _Entry) -> None:
        if self._by_digest.get(entry.digest) is entry:
            del self._by_digest[entry.digest]
        if self._by_id.get(entry.doc_id) is entry:
            del self._by_id[entry.doc_id]
            self._lsh.remove(entry.doc_id)

    def _expire(self) -> None:
        horizon = self._clock - self.options.window.total_seconds()
        while self._order and self._order[0].when < horizon:
            entry = self._order.popleft()
            if self._by_url.get(entry.url) is entry:
                del self._by_url[entry.url]
            self._unindex(entry)

    def to_state(self) -> dict[str, Any]:
        """JSON-safe state; :meth:`from_state` restores an index that decides the same.

        Entries are listed once each in expiry order (a revised article's old
        entry included, until it expires), and the maps refer to them by
        position, so the identities the index relies on survive the round trip.
        MinHash values go as base64 of their bytes; the LSH is rebuilt from them.
        """
        entries: list[_Entry] = []
        position: dict[int, int] = {}
        for entry in (*self._order, *self._by_url.values(), *self._by_digest.values()):
            if id(entry) not in position:
                position[id(entry)] = len(entries)
                entries.append(entry)
        dtype = str(self._template.hashvalues.dtype)
        return {
            "clock": self._clock,
            "dtype": dtype,
            "entries": [
                [
                    e.doc_id,
                    e.url,
                    e.digest,
                    None if e.minhash is None else _encode(e.minhash.hashvalues),
                    e.original_id,
                    e.when,
                ]
                for e in entries
            ],
            "order": [position[id(e)] for e in self._order],
            "by_url": [position[id(e)] for e in self._by_url.values()],
            "by_digest": [[d, position[id(e)]] for d, e in self._by_digest.items()],
            "by_id": [position[id(e)] for e in self._by_id.values()],
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], options: DedupOptions | None = None
    ) -> DuplicateIndex:
        """Inverse of :meth:`to_state` (raises KeyError, ValueError on a malformed state)."""
        index = cls(options)
        template = index._template
        dtype = np.dtype(state["dtype"])
        if dtype != template.hashvalues.dtype:
            raise ValueError(
                f"MinHash values of type {dtype}, expected {template.hashvalues.dtype}"
            )
        entries: list[_Entry] = []
        for doc_id, url, digest, values, original_id, when in state["entries"]:
            minhash = None
            if values is not None:
                hashvalues = np.frombuffer(base64.b64decode(values), dtype=dtype).copy()
                if len(hashvalues) != index.options.num_perm:
                    raise ValueError("MinHash of another size")
                minhash = MinHash(
                    num_perm=index.options.num_perm,
                    hashvalues=hashvalues,
                    permutations=template.permutations,
                    scheme=template.scheme,
                    hashfunc=zlib.crc32,
                )
            entries.append(
                _Entry(str(doc_id), str(url), str(digest), minhash, str(original_id), float(when))
            )
        index._clock = float(state["clock"])
        index._order = deque(entries[n] for n in state["order"])
        index._by_url = {entries[n].url: entries[n] for n in state["by_url"]}
        index._by_digest = {str(d): entries[n] for d, n in state["by_digest"]}
        for n in state["by_id"]:
            entry = entries[n]
            if entry.minhash is None:
                raise ValueError(f"indexed entry {entry.doc_id} has no MinHash")
            index._by_id[entry.doc_id] = entry
            index._lsh.insert(entry.doc_id, entry.minhash)
        return index

    @classmethod
    def rebuild(
        cls, docs: Iterable[StoryDoc], options: DedupOptions | None = None
    ) -> DuplicateIndex:
        """Replay stored documents (oldest first) into a fresh index."""
        index = cls(options)
        for doc in docs:
            index.add(doc)
        return index


def _encode(values: np.ndarray[Any, Any]) -> str:
    return base64.b64encode(values.tobytes()).decode("ascii")
