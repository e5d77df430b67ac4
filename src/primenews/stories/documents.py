"""What dedup and clustering read of an article: :class:`StoryDoc`.

The caller builds one from a stored :class:`~primenews.domain.Article` (see
:func:`story_doc_from_article`), so the stories stage never sees the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from primenews.domain import Article

__all__ = ["StoryDoc", "story_doc_from_article"]


@dataclass(frozen=True, slots=True)
class StoryDoc:
    """One article as the stories stage sees it.

    Attributes:
        id: the store's identity for the article (any string, unique).
        title: the headline.
        text: the body (or a feed summary when that is all there is).
        url: canonical URL; a second document at the same URL is a revision.
        outlet: the publisher ("bbc_world", a site name or a source id).
        language: ISO 639-1 code ("en"); "" when unknown (treated as English).
        published: when it was published (or first seen), timezone-aware.
        names: people, organisations and places, when an entity tagger ran;
            empty means "find capitalised names in the text".
        numbers: key figures, when the figures stage ran; empty means "read
            them from the text".
        links: outbound links of the article (sources it cites).
    """

    id: str
    title: str
    text: str
    url: str
    outlet: str
    published: datetime
    language: str = "en"
    names: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    links: tuple[str, ...] = ()

    @property
    def timestamp(self) -> float:
        """Seconds since the epoch (naive times are taken as UTC)."""
        when = self.published
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()


def story_doc_from_article(
    article: Article, doc_id: str, outlet: str, seen_at: datetime
) -> StoryDoc:
    """Build the doc for ``article``; ``seen_at`` stands in for a missing date.

    A publication date in the future (clock skew, time-zone bugs) is clipped
    to ``seen_at`` so it cannot hold a story open.
    """
    published = article.published or seen_at
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    seen = seen_at if seen_at.tzinfo is not None else seen_at.replace(tzinfo=UTC)
    return StoryDoc(
        id=doc_id,
        title=article.title,
        text=article.text or article.description,
        url=article.url,
        outlet=outlet or article.site_name,
        published=min(published, seen),
        language=(article.language or "en")[:2].lower(),
    )
