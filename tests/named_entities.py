"""Insights by hand: an article that names a person, as enrichment would record it."""

from __future__ import annotations

from datetime import UTC, datetime

from primenews.insights.canonical import entity_key
from primenews.insights.model import Entity, EntityKind, Insights, Mention
from primenews.store import Store

SAVED_AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # the tests' fixed NOW


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
