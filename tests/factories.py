"""Stored things made by hand for tests: articles, and insights naming a person."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from primenews.domain import Article, Source
from primenews.insights.canonical import entity_key
from primenews.insights.model import Entity, EntityKind, Insights, Mention
from primenews.store import Store

SAVED_AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # the tests' fixed NOW

MakeArticle = Callable[..., int]


def article_maker(store: Store, default_source: Source | None = None) -> MakeArticle:
    """``make(source=None, *, fetched_at, sections, **fields)``: save an article, return its id.

    Each call's article is a minute older than the previous one's; ``fields``
    override the Article's (url, title, text, published, ...).
    """
    numbers = itertools.count(1)

    def make(
        source: Source | None = None,
        *,
        fetched_at: datetime = SAVED_AT,
        sections: dict[str, float] | None = None,
        **fields: Any,
    ) -> int:
        number = next(numbers)
        values: dict[str, Any] = {
            "url": f"https://news.example/story-{number}",
            "title": f"Article {number}",
            "text": f"Text of article {number}.",
            "published": SAVED_AT - timedelta(minutes=number),
        }
        values.update(fields)
        source = source or default_source
        return store.save_article(
            Article(**values),
            source_id=source.id if source else None,
            raw_html=b"<html><body>page</body></html>",
            fetched_at=fetched_at,
            sections=sections,
        ).article_id

    return make


def name_person(store: Store, article_id: int, name: str, now: datetime = SAVED_AT) -> int:
    """Save insights saying the article names the person ``name``; returns the entity's id."""
    mention = Mention(name, 0, len(name), "PERSON")
    entity = Entity(entity_key(EntityKind.PERSON, name), name, EntityKind.PERSON, (mention,))
    stored = store.get_article(article_id)
    assert stored is not None
    insights = Insights(url=stored.article.url, language="en", entities=(entity,))
    assert store.save_insights(article_id, stored.revision, insights, now)
    saved = store.get_article_insights(article_id)
    assert saved is not None
    return saved.entities[0].entity.id
