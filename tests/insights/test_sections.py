"""classify_sections: seed article, publisher hints, empty input, shipped model, quality gate.

The quality gate scores 500 ag_news test documents (every 15th) and all 445
bbc_news test ids with the shipped model; it skips when ../shared/data is
absent. Floors sit a little under the full-benchmark numbers
(docs/benchmarks.md, "Sections") so noise does not fail them; lowering one
is a deliberate edit here.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

import primenews.insights
from primenews.domain import Article
from primenews.insights.sections import (
    LABELS,
    MAIN_LABELS,
    MODEL_DIR,
    SectionHints,
    char_scores,
    classify_sections,
    document_tokens,
    hinted_labels,
    hints_from_article,
    load_model,
    tokenize,
    word_char_vector,
    word_ids,
)
from primenews.insights.sections_data import read_ag_news, read_bbc_news

from shared_data import SEED_DIR, SHARED_DATA, require_shared

AG_FLOOR = 0.88  # full ag_news test: see docs/benchmarks.md
BBC_FLOOR = 0.97
AG = ("world", "sport", "business", "technology")
BBC = ("business", "culture", "politics", "sport", "technology")
AMBIGUOUS = (
    "Talks continue",
    "Officials met on Tuesday to discuss the plan, and a decision is expected next week.",
)


def test_exports() -> None:
    for name in (
        "SectionHints",
        "SectionModel",
        "SectionResult",
        "classify_sections",
        "load_model",
    ):
        assert name in primenews.insights.__all__
        assert hasattr(primenews.insights, name)


def test_model_ships_in_the_package_small_and_without_pickle() -> None:
    files = sorted(p.name for p in MODEL_DIR.iterdir())
    assert files == ["sections.json", "sections.npz"]
    assert sum(p.stat().st_size for p in MODEL_DIR.iterdir()) < 8_000_000
    with np.load(MODEL_DIR / "sections.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    model = load_model()
    assert model is load_model()  # loaded once
    assert model.labels == LABELS
    assert model.tfidf_weights.shape == (len(model.vocab) + model.n_buckets, len(LABELS))
    assert model.glove_scores.shape == (len(model.glove_vocab), len(LABELS))
    assert len(model.glove_vocab) >= 50_000
    assert model.char_weights.shape == (model.char_idf.size, len(LABELS))
    assert model.char_word_scores.shape == (len(model.vocab), len(LABELS))
    assert ((model.thresholds > 0) & (model.thresholds < 1)).all()


def test_seed_article_text_is_world_and_politics() -> None:
    expected = json.loads((require_shared(SEED_DIR) / "expected.json").read_text())
    lines = (SEED_DIR / "seed.txt").read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if "Prime News" not in line and "Useful" not in line)
    result = classify_sections(expected["metadata"]["title"], text)
    assert [lb for lb in result.labels if lb in MAIN_LABELS] == ["world", "politics"]
    assert set(expected["sections"]) <= set(result.labels)


def test_seed_article_page_with_its_hints(seed_article: Article) -> None:
    hints = hints_from_article(seed_article)
    assert hinted_labels(hints) == {"world"}  # /world/ in the URL, section "World"
    result = classify_sections(seed_article.title, seed_article.text, hints)
    assert [lb for lb in result.labels if lb in MAIN_LABELS] == ["world", "politics"]


def test_url_section_tips_an_ambiguous_text() -> None:
    plain = classify_sections(*AMBIGUOUS)
    assert "business" not in plain.labels
    hinted = classify_sections(
        *AMBIGUOUS, SectionHints(url="https://news.example/business/group-agrees-new-deal")
    )
    assert "business" in hinted.labels
    assert hinted.scores["business"] > plain.scores["business"]
    assert hinted.scores["sport"] == plain.scores["sport"]


def test_hints_from_categories_and_section() -> None:
    hints = SectionHints(categories=("Arts & Culture", "Sci-Tech"), section="US Politics")
    assert hinted_labels(hints) == {"culture", "technology", "science", "politics"}
    # the slug is not a section, a trailing slash keeps the last segment
    assert hinted_labels(SectionHints(url="https://x.example/news/sport-is-fun")) == frozenset()
    assert hinted_labels(SectionHints(url="https://x.example/tech/")) == {"technology"}
    assert hinted_labels(SectionHints()) == frozenset()


def test_text_wins_over_a_weak_hint() -> None:
    text = (
        "Roger Federer beat Andy Roddick in straight sets to win the Wimbledon final, "
        "his third title at the All England Club."
    )
    result = classify_sections("Federer wins Wimbledon", text, SectionHints(section="Business"))
    assert "sport" in result.labels


def test_empty_article() -> None:
    result = classify_sections("", "")
    assert result.labels == ()
    assert set(result.scores) == set(LABELS)
    assert all(0.0 <= p <= 1.0 for p in result.scores.values())
    assert classify_sections("", "   \n").labels == ()
    assert classify_sections("", "", SectionHints(section="Sport")).labels == ("sport",)


def test_one_label_at_least_for_a_text_that_says_something() -> None:
    assert len(classify_sections("Fed raises rates", "").labels) >= 1
    assert len(classify_sections("", "Apple earnings beat forecasts").labels) >= 1


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("ok", ""),
        ("", "ok"),
        ("Hello", ""),
        ("ok ok ok", ""),
        ("the of and", ""),
        ("", "zzzz qqqq xxxx"),
    ],
)
def test_near_empty_text_gets_no_section(title: str, text: str) -> None:
    # one word is a single full-weight feature: "ok" alone used to pass business and sport,
    # and the fallback then named the prior's favourite; a word or two is no evidence
    result = classify_sections(title, text)
    assert result.labels == ()
    assert set(result.scores) == set(LABELS)  # the scores are still reported
    assert classify_sections(title, text, SectionHints(section="Sport")).labels == ("sport",)


def test_multi_label_world_and_politics() -> None:
    result = classify_sections(
        "Ukraine parliament approves new prime minister",
        "Lawmakers in Kiev voted to approve the prime minister after weeks of protests over "
        "the disputed presidential election.",
    )
    assert {"world", "politics"} <= set(result.labels)
    assert "sport" not in result.labels


def test_known_and_unknown_words_get_the_same_character_score() -> None:
    # known words read a table built at training time, unknown ones are computed at run time
    model = load_model()
    words = ["election", "elections", "minister", "football", "smartphone"]
    ids = word_ids(words, model.vocab)
    assert (ids >= 0).all()
    shipped = char_scores(model, words, ids)
    computed = char_scores(model, words, np.full(len(words), -1))
    assert np.allclose(shipped, computed, atol=0.02 + 0.01 * np.abs(computed).max())
    for word, row in zip(words, computed, strict=True):
        grams, values = word_char_vector(word, model.char_idf)
        assert np.isclose(np.linalg.norm(values), 1.0, atol=1e-5)
        assert np.allclose(row, values @ model.char_weights[grams], atol=1e-5)


def test_long_text_is_read_up_to_the_token_cap_only() -> None:
    model = load_model()
    text = "markets rally " * 5_000
    tokens = document_tokens("Title", text, model.max_tokens, model.title_repeat)
    assert len(tokens) == model.max_tokens
    assert classify_sections("", text).labels == classify_sections("", text[:20_000]).labels


def test_tokenize_folds_case_and_accents() -> None:
    assert tokenize("Nicolás MADURO's 103 días") == ["nicolas", "maduro", "s", "103", "dias"]


def test_speed_is_well_over_a_thousand_documents_a_second() -> None:
    docs = [AMBIGUOUS] * 300
    load_model()
    start = time.process_time()
    for title, text in docs:
        classify_sections(title, text)
    # 1,000 docs/s is the goal; the test allows a slow, shared CI core
    assert len(docs) / (time.process_time() - start) > 500


def _accuracy(docs: list, labels: tuple[str, ...]) -> float:  # type: ignore[type-arg]
    hits = 0
    for doc in docs:
        scores = classify_sections(doc.title, doc.text).scores
        hits += max(labels, key=lambda lb: scores[lb]) == doc.gold
    return hits / len(docs)


def test_quality_gate_ag_news() -> None:
    docs = read_ag_news(require_shared(SHARED_DATA / "ag_news"), "test")[::15]
    assert len(docs) >= 500
    assert _accuracy(docs, AG) >= AG_FLOOR


def test_quality_gate_bbc_news() -> None:
    docs = read_bbc_news(require_shared(SHARED_DATA / "bbc_news"), "test")
    assert len(docs) == 445
    assert _accuracy(docs, BBC) >= BBC_FLOOR


def test_training_never_reads_test_documents() -> None:
    directory: Path = require_shared(SHARED_DATA / "ag_news")
    train = read_ag_news(directory, "train")
    test = {f"{d.title} {d.text}".strip() for d in read_ag_news(directory, "test")}
    assert len(train) == 6904
    assert not any(f"{d.title} {d.text}".strip() in test for d in train)
    # bbc_news holds a few articles twice under two ids, so compare ids, not texts
    split = json.loads((SHARED_DATA / "bbc_news" / "split.json").read_text())
    assert not set(split["train"]) & set(split["test"])
    assert len(read_bbc_news(SHARED_DATA / "bbc_news", "train")) == len(split["train"])
