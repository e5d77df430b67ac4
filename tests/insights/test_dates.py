"""Dates resolved against the publication date."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from primenews.domain import Article
from primenews.insights.dates import extract_dates
from primenews.insights.entities import analyse_texts
from primenews.insights.model import DateMention
from primenews.insights.summary import split_sentences

FRIDAY = datetime(2024, 11, 29, 9, 30, tzinfo=UTC)


def dates_of(text: str, published: datetime | date | None = FRIDAY) -> tuple[DateMention, ...]:
    return extract_dates(text, published, split_sentences(text))


def resolved(text: str, published: datetime | date | None = FRIDAY) -> list[tuple[str, str]]:
    return [(d.text, d.resolved) for d in dates_of(text, published)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The ministry announced this Thursday the release.", ("this Thursday", "2024-11-28")),
        ("Talks failed last Tuesday.", ("last Tuesday", "2024-11-26")),
        ("They will meet next Monday.", ("next Monday", "2024-12-02")),
        ("Prisoners were freed on Wednesday.", ("Wednesday", "2024-11-27")),
        ("The summit will open on Wednesday.", ("Wednesday", "2024-12-04")),
        ("Measures were granted on November 26.", ("November 26", "2024-11-26")),
        ("Measures were granted on 26 November.", ("26 November", "2024-11-26")),
        ("The vote is due on December 15.", ("December 15", "2024-12-15")),
        ("The crisis began on Dec. 30, 2019.", ("Dec. 30, 2019", "2019-12-30")),
        ("He fled to Spain in September.", ("September", "2024-09")),
        ("Results are expected in March.", ("March", "2025-03")),
        ("The law came into force in May 2021.", ("May 2021", "2021-05")),
        ("The party was founded in 2012.", ("2012", "2012")),
        ("Officials met yesterday.", ("yesterday", "2024-11-28")),
        ("The plan was leaked three days ago.", ("three days ago", "2024-11-26")),
        ("Earlier this week, the party spoke.", ("Earlier this week", "2024-W48")),
        ("Prices fell last month.", ("last month", "2024-10")),
        ("The report was filed on 2024-10-02.", ("2024-10-02", "2024-10-02")),
    ],
)
def test_resolution(text: str, expected: tuple[str, str]) -> None:
    assert resolved(text) == [expected]


def test_a_yearless_date_near_new_year_takes_the_nearest_year() -> None:
    january = date(2025, 1, 3)
    assert resolved("The vote took place on December 30.", january) == [
        ("December 30", "2024-12-30")
    ]
    december = date(2024, 12, 28)
    assert resolved("The vote takes place on January 5.", december) == [("January 5", "2025-01-05")]


def test_may_the_verb_is_no_month() -> None:
    assert resolved("Officials may decide soon. May talks resume?") == []
    assert resolved("The ceasefire held until May.") == [("May", "2024-05")]


def test_without_publication_date_only_dates_with_a_year() -> None:
    text = "On Thursday, July 28, the vote was held. The term ends on January 10, 2025."
    assert resolved(text, None) == [("January 10, 2025", "2025-01-10")]


def test_what_happened() -> None:
    text = "In the hours after the July 28 election, the authority declared the winner."
    [analysis] = analyse_texts([text])
    [mention] = extract_dates(text, FRIDAY, split_sentences(text), analysis.tokens)
    assert (mention.resolved, mention.what) == ("2024-07-28", "election")
    [fled] = dates_of("González himself fled abroad to Spain in September, where he got asylum.")
    assert fled.what == "González himself fled abroad to Spain"
    assert fled.value == date(2024, 9, 1) and fled.granularity == "month"


def test_seed_dates(seed_article: Article, seed_expected: dict[str, object]) -> None:
    [analysis] = analyse_texts([seed_article.text])
    mentions = extract_dates(
        seed_article.text,
        seed_article.published,
        split_sentences(seed_article.text),
        analysis.tokens,
    )
    found = {(m.text, m.resolved) for m in mentions}
    gold = seed_expected["dates"]
    assert isinstance(gold, list)
    for item in gold:
        assert any(item["text"] in text and value == item["resolved"] for text, value in found), (
            item
        )
