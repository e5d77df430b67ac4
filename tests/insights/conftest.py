"""Articles for the insight tests: the seed page and a few written for these tests.

The written articles use other wording than the seed page (money, percentages,
single quotation marks, "Gov.", "U.S.", acronyms defined in the text) so the
rules are not tuned to one page. They are invented news, not real reports.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from primenews.domain import Article
from primenews.extract import extract_article
from primenews.insights.canonical import KnownEntity, MemoryRegistry, entity_key
from primenews.insights.model import EntityKind

from shared_data import SEED_DIR, require_shared

TAKEOVER = Article(
    url="https://example.org/business/acme-northwind",
    title="Acme Robotics to buy Northwind Logistics for $7.86bn",
    published=datetime(2025, 3, 12, 8, 0, tzinfo=UTC),  # a Wednesday
    language="en",
    text="\n\n".join(
        [
            "Acme Robotics agreed on Tuesday to buy Northwind Logistics for $7.86bn, the largest "
            "takeover in the U.S. warehouse industry this year.",
            "Maria Lindqvist, Acme’s chief executive, said the deal would close in June if the "
            "Federal Trade Commission (FTC) approves it. “This gives us the scale to compete with "
            "anyone,” Lindqvist told analysts on a call.",
            "“We are not buying a company, we are buying a network.”",
            "Northwind, based in Santa Barbara, California, runs more than 300 warehouses and "
            "employs roughly 45,000 people. Its revenue rose 12% last year to $2.3 billion, "
            "according to company filings.",
            "Gov. Gavin Newsom of California welcomed the agreement. The governor said the state "
            "expected “hundreds of new jobs in the Central Valley over the next decade,” although "
            "he gave no details.",
            "The FTC has blocked two similar deals since 2021. Critics call Acme’s plan an "
            "“efficiency drive”. The companies first held talks on January 14, people familiar "
            "with the matter said.",
        ]
    ),
)

FLOODS = Article(
    url="https://example.org/world/italy-floods",
    title="Floods in northern Italy kill at least twelve",
    published=datetime(2023, 5, 21, 18, 0, tzinfo=UTC),  # a Sunday
    language="en",
    text="\n\n".join(
        [
            "Flooding in northern Italy has killed at least twelve people and forced more than "
            "3,000 residents from their homes, officials said on Sunday.",
            "Civil protection chief Fabrizio Curcio said five of the victims were found in the "
            "town of Faenza. ‘The water rose faster than anyone had predicted,’ he told reporters "
            "in Bologna.",
            "Rescuers pulled two children and an elderly woman from a flooded car near Ravenna on "
            "Saturday. Some 400 millimetres of rain fell in 36 hours, nearly half the region’s "
            "annual average, according to the weather service.",
            "Prime Minister Giorgia Meloni will visit the area on Thursday. Meloni promised "
            "‘every euro that is needed for the rebuilding’, which regional authorities put at "
            "€1.2bn.",
        ]
    ),
)


@pytest.fixture
def takeover() -> Article:
    return TAKEOVER


@pytest.fixture
def floods() -> Article:
    return FLOODS


@pytest.fixture(scope="session")
def seed_expected() -> dict[str, Any]:
    return dict(json.loads((require_shared(SEED_DIR) / "expected.json").read_text()))


@pytest.fixture(scope="session")
def seed_article(seed_expected: dict[str, Any]) -> Article:
    html = (SEED_DIR / "page.html").read_bytes()
    return extract_article(html, url=seed_expected["metadata"]["canonical_url"])


@pytest.fixture
def werthein_registry() -> MemoryRegistry:
    """What the store holds once one article spelt the minister's name right."""
    name = "Gerardo Werthein"
    return MemoryRegistry(
        [KnownEntity(entity_key(EntityKind.PERSON, name), name, EntityKind.PERSON)]
    )
