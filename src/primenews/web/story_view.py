"""What a story's page and API show beyond its members: its insights, read from the store."""

from __future__ import annotations

from dataclasses import dataclass

from primenews.domain import StoredArticle
from primenews.insights.story import StoryInsights, StoryMemberRef, story_insights
from primenews.store import Store
from primenews.store.insights import StoredEntity
from primenews.store.stories import StoryArticle

SUMMARY_ARTICLES = 12


@dataclass(frozen=True, slots=True)
class StoryView:
    insights: StoryInsights
    entities: list[tuple[StoredEntity, int]]  # entity, articles naming it


def story_view(store: Store, members: list[StoryArticle]) -> StoryView:
    """The story's insights from its original articles (copies would only repeat them)."""
    originals = [m for m in members if m.duplicate_of is None]
    ids = [m.article_id for m in originals]
    stored = store.insights_of_articles(ids)
    details = {i: (s.figures, s.quotes, s.dates) for i, s in stored.items()}
    texts = [store.get_article(i) for i in ids[:SUMMARY_ARTICLES]]
    articles = [a.article for a in texts if isinstance(a, StoredArticle)]
    refs = [StoryMemberRef(m.article_id, m.outlet, m.published) for m in originals]
    return StoryView(
        insights=story_insights(refs, details, articles),
        entities=store.entities_of_articles([m.article_id for m in members]),
    )
