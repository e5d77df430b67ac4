"""Sentence splitting and extractive summaries: verbatim sentences only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from primenews.domain import Article
from primenews.insights.summary import sentence_at, split_sentences, summarise, summarise_story


def test_abbreviations_do_not_end_sentences() -> None:
    text = (
        "Gov. Gavin Newsom met U.S. officials at 3 p.m. on Monday. They agreed.\n\nA new paragraph"
    )
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "Gov. Gavin Newsom met U.S. officials at 3 p.m. on Monday.",
        "They agreed.",
        "A new paragraph",
    ]
    for sentence in sentences:
        assert text[sentence.start : sentence.end] == sentence.text
    assert sentence_at(sentences, text.index("They")) == sentences[1]
    assert sentence_at(sentences, len(text) + 5) is None


def test_summary_is_two_or_three_sentences_of_the_text(
    seed_article: Article, takeover: Article, floods: Article
) -> None:
    for article in (seed_article, takeover, floods):
        summary = summarise(article.text, article.title)
        assert 2 <= len(summary) <= 3
        assert all(sentence in article.text for sentence in summary)
        positions = [article.text.index(s) for s in summary]
        assert positions == sorted(positions)


def test_seed_summary_leads_with_the_release(seed_article: Article) -> None:
    summary = summarise(seed_article.text, seed_article.title)
    assert any("freed 103 people" in s for s in summary)


def test_summary_of_nothing_is_empty() -> None:
    assert summarise("") == ()
    assert summarise("Too short.") == ()


def test_story_summary_takes_sentences_from_its_articles_once(takeover: Article) -> None:
    copy = replace(
        takeover,
        url="https://example.net/acme",
        published=datetime(2025, 3, 12, 9, 0, tzinfo=UTC),
    )
    other = Article(
        url="https://example.com/northwind",
        title="Northwind sold to Acme",
        published=datetime(2025, 3, 11, 20, 0, tzinfo=UTC),
        text="Northwind Logistics is being sold to Acme Robotics for $7.86bn in the largest "
        "warehouse takeover of the year. The Federal Trade Commission must still approve the "
        "deal, which Acme expects to close in June.",
    )
    story = summarise_story([takeover, copy, other])
    assert 2 <= len(story) <= 3
    texts = [s.text for s in story]
    assert len(set(texts)) == len(texts)
    by_url = {a.url: a.text for a in (takeover, copy, other)}
    assert all(s.text in by_url[s.url] for s in story)
    assert story[0].url == other.url  # the earliest report comes first
