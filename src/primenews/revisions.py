"""What changed between two versions of an article, in words a reader can follow.

    diff_revisions(old title, old text, new title, new text) ─► RevisionDiff
        title       (old, new) when the headline changed
        added       paragraphs only in the new version
        removed     paragraphs only in the old version
        changed     (old, new) paragraph pairs rewritten in place
        figures     (old, new) numbers that changed inside rewritten paragraphs
        corrections paragraphs of the new version that announce a correction or update

Pure: paragraphs are the lines of ``Article.text``; matching is difflib's
(``SequenceMatcher`` over paragraphs, then over words to decide whether a
replaced paragraph was rewritten or swapped for another).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

__all__ = ["RevisionDiff", "diff_revisions", "successive_diffs"]

# A replaced paragraph sharing at least this share of words with its
# replacement was rewritten in place; below it, one was removed and another added.
REWRITE_SIMILARITY = 0.5

_NUMBER = re.compile(r"(?<![\w.,])\d[\d,.]*\d(?![\w])|(?<![\w.,])\d(?![\w.,]\d)")
_CORRECTION = re.compile(
    r"^\s*(correction|clarification|update[sd]?|editor'?s note)\b\s*[:.\-—]"
    r"|\ban earlier version of this (article|story|report)\b"
    r"|\bthis (article|story|report) (has been|was) (updated|corrected|amended)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class RevisionDiff:
    """The differences from one version to the next (empty fields: nothing of that kind)."""

    title: tuple[str, str] | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[tuple[str, str], ...] = ()
    figures: tuple[tuple[str, str], ...] = ()
    corrections: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.title or self.added or self.removed or self.changed)


def diff_revisions(old_title: str, old_text: str, new_title: str, new_text: str) -> RevisionDiff:
    """How the new version differs from the old one."""
    old, new = _paragraphs(old_text), _paragraphs(new_text)
    added: list[str] = []
    removed: list[str] = []
    changed: list[tuple[str, str]] = []
    matcher = SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "insert":
            added.extend(new[j1:j2])
        elif op == "delete":
            removed.extend(old[i1:i2])
        elif op == "replace":
            _pair_up(old[i1:i2], new[j1:j2], changed, added, removed)
    figures = tuple(pair for before, after in changed for pair in _changed_numbers(before, after))
    known = set(old)
    corrections = tuple(p for p in new if p not in known and _CORRECTION.search(p))
    title = (old_title, new_title) if old_title.strip() != new_title.strip() else None
    return RevisionDiff(title, tuple(added), tuple(removed), tuple(changed), figures, corrections)


def successive_diffs(versions: Sequence[tuple[str, str]]) -> list[RevisionDiff | None]:
    """For (title, text) versions in order: each one's diff from the one before (None first)."""
    return [None] + [
        diff_revisions(*before, *after)
        for before, after in zip(versions, versions[1:], strict=False)
    ]


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _pair_up(
    olds: list[str],
    news: list[str],
    changed: list[tuple[str, str]],
    added: list[str],
    removed: list[str],
) -> None:
    """Match replaced paragraphs to their rewrites, in order; the rest are added or removed."""
    start = 0
    for before in olds:
        best, best_ratio = -1, REWRITE_SIMILARITY
        for j in range(start, len(news)):
            ratio = _word_similarity(before, news[j])
            if ratio >= best_ratio:
                best, best_ratio = j, ratio
        if best < 0:
            removed.append(before)
            continue
        added.extend(news[start:best])
        changed.append((before, news[best]))
        start = best + 1
    added.extend(news[start:])


def _word_similarity(a: str, b: str) -> float:
    return SequenceMatcher(a=a.split(), b=b.split(), autojunk=False).ratio()


def _changed_numbers(before: str, after: str) -> list[tuple[str, str]]:
    """Numbers that differ between a paragraph and its rewrite, paired in order."""
    old = _NUMBER.findall(before)
    new = _NUMBER.findall(after)
    pairs: list[tuple[str, str]] = []
    matcher = SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "replace":
            pairs.extend(zip(old[i1:i2], new[j1:j2], strict=False))
        elif op == "delete":
            pairs.extend((value, "") for value in old[i1:i2])
        elif op == "insert":
            pairs.extend(("", value) for value in new[j1:j2])
    return pairs
