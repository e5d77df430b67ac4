"""Duplicate detection: same URL, exact and near copies, revisions, short texts, expiry."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from primenews.stories import DedupKind, DedupOptions, DuplicateIndex, StoryDoc
from primenews.stories.text import content_hash, normalise_text, shingles

MakeDoc = Callable[..., StoryDoc]

WIRE = (
    "Rescue teams in western Colombia pulled a woman alive from the rubble of a collapsed "
    "apartment block on Wednesday, 36 hours after the magnitude 7.1 earthquake that struck "
    "near Cali. The national disaster agency said the confirmed death toll had risen to 265, "
    "with thousands still missing, and that search efforts would enter a final phase on "
    "Thursday. President Gustavo Petro declared three days of national mourning and asked "
    "neighbouring countries for heavy lifting equipment and sniffer dogs."
)


def _variant(text: str, changed: float, seed: int = 3) -> str:
    """``text`` with a share ``changed`` of its words replaced by new ones."""
    rng = random.Random(seed)
    words = text.split()
    for i in rng.sample(range(len(words)), round(len(words) * changed)):
        words[i] = f"w{rng.randrange(10**6)}"
    return " ".join(words)


def test_syndicated_copy_is_found_with_its_original(doc: MakeDoc) -> None:
    index = DuplicateIndex()
    assert index.add(doc("a1", "Woman rescued 36 hours after quake", WIRE, outlet="ap")).kind == (
        DedupKind.NEW
    )
    copy = index.add(doc("b7", "Woman rescued 36 hours after quake", WIRE, hours=1, outlet="wapo"))
    assert copy.kind is DedupKind.EXACT and copy.original_id == "a1" and copy.is_duplicate
    # Punctuation and case do not make a new text.
    shouted = index.add(doc("c2", "WOMAN RESCUED 36 HOURS AFTER QUAKE!", WIRE.upper(), hours=2))
    assert shouted.kind is DedupKind.EXACT and shouted.original_id == "a1"
    # A copy with a paper's own sentence added is still the wire story.
    edited = index.add(
        doc("d4", "Colombia quake: woman rescued", WIRE + " Our reporter adds.", hours=3)
    )
    assert edited.kind is DedupKind.NEAR and edited.original_id == "a1"
    assert edited.similarity >= DedupOptions().near_threshold


@pytest.mark.parametrize(
    ("changed", "expected"),
    [(0.01, DedupKind.NEAR), (0.03, DedupKind.NEAR), (0.4, DedupKind.NEW), (0.8, DedupKind.NEW)],
)
def test_near_duplicate_threshold(changed: float, expected: DedupKind, doc: MakeDoc) -> None:
    index = DuplicateIndex()
    index.add(doc("orig", "Quake", WIRE))
    verdict = index.add(doc("other", "Quake", _variant(WIRE, changed), hours=1))
    assert verdict.kind is expected
    exact = len(shingles(normalise_text(WIRE)) & shingles(normalise_text(_variant(WIRE, changed))))
    union = len(shingles(normalise_text(WIRE)) | shingles(normalise_text(_variant(WIRE, changed))))
    # The MinHash estimate stays near the true Jaccard similarity of the shingles.
    if verdict.kind is DedupKind.NEAR:
        assert verdict.similarity == pytest.approx(exact / union, abs=0.12)


def test_title_edit_at_the_same_url_is_a_revision_not_a_duplicate(doc: MakeDoc) -> None:
    index = DuplicateIndex()
    first = doc("n1", "Leavitt to step down", WIRE, url="https://news.test/leavitt")
    assert index.add(first).kind is DedupKind.NEW
    assert index.add(replace(first, id="n1-again")).kind is DedupKind.SEEN
    edited = index.add(replace(first, title="Leavitt steps down as press secretary"))
    assert edited.kind is DedupKind.REVISION and edited.original_id == "n1"
    assert not edited.is_duplicate
    # The revised text is what later copies are matched against.
    copy = index.add(doc("n2", "Leavitt steps down as press secretary", WIRE, hours=1))
    assert copy.kind is DedupKind.EXACT and copy.original_id == "n1"


def test_short_texts_are_matched_exactly_only(doc: MakeDoc) -> None:
    index = DuplicateIndex()
    index.add(doc("s1", "Iphone 17 price drops by Rs 16,000", "Check the new deal today"))
    other = index.add(doc("s2", "Iphone 17 price drops by Rs 12,000", "Check the new deal today"))
    assert other.kind is DedupKind.NEW


def test_copies_older_than_the_window_are_forgotten(doc: MakeDoc) -> None:
    index = DuplicateIndex(DedupOptions(window=timedelta(days=2)))
    index.add(doc("old", "Quake", WIRE))
    assert index.add(doc("new", "Quake", WIRE, hours=72)).kind is DedupKind.NEW
    assert len(index) == 1  # the old entry went with the window


def test_rebuild_gives_the_same_verdicts(doc: MakeDoc) -> None:
    docs = [
        doc("a", "Quake", WIRE),
        doc("b", "Quake", WIRE, hours=1),
        doc("c", "Quake", _variant(WIRE, 0.01), hours=2),
        doc("d", "Other", _variant(WIRE, 0.9), hours=3),
    ]
    index = DuplicateIndex()
    first = [index.add(d) for d in docs]
    rebuilt = DuplicateIndex.rebuild(docs[:3])
    assert [v.kind for v in first] == [
        DedupKind.NEW, DedupKind.EXACT, DedupKind.NEAR, DedupKind.NEW,
    ]  # fmt: skip
    assert rebuilt.add(docs[3]) == first[3]


def test_content_hash_ignores_case_punctuation_and_spacing(doc: MakeDoc) -> None:
    assert content_hash(normalise_text("Hello,  World!")) == content_hash(
        normalise_text("hello world")
    )
    assert content_hash(normalise_text("Hello world")) != content_hash(normalise_text("Hello word"))
