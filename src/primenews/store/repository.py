"""The store: one object over a SQLAlchemy engine, the only door to the database.

Each method opens a short transaction and calls a plain SQL function from
``store.sources`` / ``store.articles``, so those stay testable on a bare
connection. Writes are meant to come from one writer (the poller's main
loop); readers (web handlers, run in FastAPI's thread pool) may be many.
SQLite runs in WAL mode so readers never wait for the writer; on PostgreSQL
several pollers may share one database, and claim sources with row locks.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from primenews.domain import (
    Article,
    FeedEntry,
    FetchOutcome,
    LiveEvent,
    Source,
    StoredArticle,
    StoredStory,
)
from primenews.errors import StoreError
from primenews.insights.model import EntityKind, Insights
from primenews.store import articles as article_sql
from primenews.store import boilerplate as boilerplate_sql
from primenews.store import checks as check_sql
from primenews.store import dead_letters as dead_letter_sql
from primenews.store import insights as insight_sql
from primenews.store import live_events as live_event_sql
from primenews.store import source_stats as source_stats_sql
from primenews.store import sources as source_sql
from primenews.store import stories as story_sql
from primenews.store import websub as websub_sql
from primenews.store.alerts import AlertStore
from primenews.store.articles import Revision, SaveResult
from primenews.store.boilerplate import SiteArticle
from primenews.store.checks import DueCheck
from primenews.store.dead_letters import DeadLetter
from primenews.store.engine import backend, make_engine, safe_url
from primenews.store.insights import (
    ArticleInsights,
    EntitySort,
    RelatedEntity,
    StoredEntity,
    StoreRegistry,
)
from primenews.store.migrations import apply_migrations
from primenews.store.search import SearchPage, SearchQuery, search_articles
from primenews.store.source_stats import SourceRecord, StoryOutlets
from primenews.store.sources import CLAIM_LEASE, PollState
from primenews.store.stories import StoryArticle
from primenews.store.users import UserStore
from primenews.store.websub import Subscription
from primenews.stories.cluster import Merge
from primenews.stories.documents import StoryDoc
from primenews.stories.rank import StoryActivity
from primenews.stories.rewrites import RewriteCandidate, RewriteMatch
from primenews.stories.tracker import Observation


def content_hash(text: str) -> str:
    """A hash of the text that ignores case, Unicode forms and whitespace."""
    normal = unicodedata.normalize("NFKC", text).casefold()
    normal = re.sub(r"\s+", " ", normal).strip()
    return hashlib.sha256(normal.encode()).hexdigest()


class Store:
    """Sources, fetch log, entries, articles and revisions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.users = UserStore(engine)  # accounts, sessions, API tokens (store/users.py)
        self.alerts = AlertStore(engine)  # saved searches and watchlists (store/alerts.py)

    @classmethod
    def open(cls, url: str) -> Store:
        """A store over ``sqlite:///path`` or ``postgresql://…`` (psycopg 3)."""
        try:
            return cls(make_engine(url))
        except SQLAlchemyError as err:
            raise StoreError(f"store: cannot open {safe_url(url)!r}: {err}") from err

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return backend(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def migrate(self) -> list[str]:
        """Bring the schema up to date; returns the migrations applied now."""
        try:
            return apply_migrations(self.engine)
        except SQLAlchemyError as err:
            raise StoreError(f"store: migration failed: {err}") from err

    # Sources

    def add_source(self, source: Source, now: datetime) -> tuple[Source, bool]:
        with self.engine.begin() as conn:
            return source_sql.add_source(conn, source, now)

    def get_source(self, source_id: int) -> Source | None:
        with self.engine.connect() as conn:
            return source_sql.get_source(conn, source_id)

    def source_by_url(self, url: str) -> Source | None:
        with self.engine.connect() as conn:
            return source_sql.source_by_url(conn, url)

    def list_sources(self) -> list[Source]:
        with self.engine.connect() as conn:
            return source_sql.list_sources(conn)

    def due_sources(self, now: datetime) -> list[Source]:
        with self.engine.connect() as conn:
            return source_sql.due_sources(conn, now)

    def claim_due_sources(self, now: datetime, lease: timedelta = CLAIM_LEASE) -> list[Source]:
        """The due sources, taken for this poller (see ``sources.claim_due_sources``)."""
        with self.engine.begin() as conn:
            return source_sql.claim_due_sources(conn, now, lease)

    def remove_source(self, source_id: int) -> bool:
        with self.engine.begin() as conn:
            return source_sql.remove_source(conn, source_id)

    def poll_soon(self, source_id: int, now: datetime) -> bool:
        with self.engine.begin() as conn:
            return source_sql.poll_soon(conn, source_id, now)

    def record_fetch(self, outcome: FetchOutcome, state: PollState) -> None:
        with self.engine.begin() as conn:
            source_sql.record_fetch(conn, outcome, state)

    def recent_fetches(self, source_id: int, limit: int = 20) -> list[FetchOutcome]:
        with self.engine.connect() as conn:
            return source_sql.recent_fetches(conn, source_id, limit)

    def article_counts_by_source(self) -> dict[int, int]:
        with self.engine.connect() as conn:
            return source_sql.article_counts_by_source(conn)

    # Entries and articles

    def pending_entries(self, source_id: int, candidates: Sequence[FeedEntry]) -> list[FeedEntry]:
        with self.engine.connect() as conn:
            return article_sql.pending_entries(conn, source_id, candidates)

    def known_urls(self, urls: Iterable[str]) -> set[str]:
        with self.engine.connect() as conn:
            return article_sql.known_urls(conn, urls)

    def record_entry(
        self,
        source_id: int,
        entry: FeedEntry,
        now: datetime,
        *,
        article_id: int | None = None,
        error: str | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            article_sql.record_entry(
                conn, source_id, entry, now, article_id=article_id, error=error
            )

    def save_article(
        self,
        article: Article,
        *,
        source_id: int | None,
        raw_html: bytes,
        fetched_at: datetime,
        entry: FeedEntry | None = None,
        sections: Mapping[str, float] | None = None,
    ) -> SaveResult:
        """Store an article (and mark the feed entry that led to it) in one transaction."""
        with self.engine.begin() as conn:
            result = article_sql.save_article(
                conn,
                article,
                content_hash=content_hash(article.text),
                source_id=source_id,
                raw_html=raw_html,
                fetched_at=fetched_at,
                sections=sections,
            )
            if entry is not None and source_id is not None:
                article_sql.record_entry(
                    conn, source_id, entry, fetched_at, article_id=result.article_id
                )
            return result

    def get_article(self, article_id: int) -> StoredArticle | None:
        with self.engine.connect() as conn:
            return article_sql.get_article(conn, article_id)

    def list_articles(
        self,
        *,
        source_id: int | None = None,
        since: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
        section: str | None = None,
        originals_only: bool = False,
    ) -> tuple[list[StoredArticle], str | None]:
        with self.engine.connect() as conn:
            return article_sql.list_articles(
                conn,
                source_id=source_id,
                since=since,
                limit=limit,
                cursor=cursor,
                section=section,
                originals_only=originals_only,
            )

    def list_revisions(self, article_id: int) -> list[Revision]:
        with self.engine.connect() as conn:
            return article_sql.list_revisions(conn, article_id)

    def raw_html(self, article_id: int, revision: int | None = None) -> bytes | None:
        with self.engine.connect() as conn:
            return article_sql.raw_html(conn, article_id, revision)

    def article_ids_after(self, after_id: int) -> list[int]:
        with self.engine.connect() as conn:
            return article_sql.article_ids_after(conn, after_id)

    def last_article_id(self) -> int:
        with self.engine.connect() as conn:
            return article_sql.last_article_id(conn)

    def unenriched_articles(self, source_id: int, since: datetime, limit: int = 200) -> list[int]:
        with self.engine.connect() as conn:
            return article_sql.unenriched_articles(conn, source_id, since, limit)

    def failed_insights(self, article_ids: Sequence[int]) -> list[int]:
        with self.engine.connect() as conn:
            return article_sql.failed_insights(conn, article_ids)

    def count_articles(self) -> int:
        with self.engine.connect() as conn:
            return article_sql.count_articles(conn)

    # Stories

    def story_docs(
        self, *, since: datetime | None = None, article_ids: Sequence[int] = ()
    ) -> list[StoryDoc]:
        with self.engine.connect() as conn:
            return story_sql.story_docs(conn, since=since, article_ids=article_ids)

    def record_observations(
        self,
        observations: Sequence[Observation],
        now: datetime,
        terms: Mapping[str, Sequence[str]],
        merges: Sequence[Merge] = (),
    ) -> set[int]:
        """Record what the stories stage decided and refresh the stories it changed.

        One transaction: a story row never disagrees with its members.

        Args:
            terms: the heaviest terms of live stories by key (for related stories).

        Returns:
            The ids of the stories that changed.
        """
        touched: dict[int, str] = {}
        try:
            with self.engine.begin() as conn:
                for observation in observations:
                    touched.update(story_sql.record_observation(conn, observation, now))
                touched.update(story_sql.record_merges(conn, merges, now))
                for story_id, key in touched.items():
                    story_sql.refresh_story(conn, story_id, now, terms.get(key, ()))
        except SQLAlchemyError as err:
            raise StoreError(f"store: cannot record story decisions: {err}") from err
        return set(touched)

    def rewrite_candidates(
        self, article_id: int
    ) -> tuple[RewriteCandidate | None, list[RewriteCandidate]]:
        with self.engine.connect() as conn:
            return story_sql.rewrite_candidates(conn, article_id)

    def story_ids_by_keys(self, keys: Sequence[str]) -> list[int]:
        with self.engine.connect() as conn:
            return story_sql.story_ids_by_keys(conn, keys)

    def record_rewrite(self, article_id: int, match: RewriteMatch | None) -> None:
        with self.engine.begin() as conn:
            story_sql.record_rewrite(conn, article_id, match)

    def list_stories(
        self,
        *,
        section: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[StoredStory], str | None]:
        with self.engine.connect() as conn:
            return story_sql.list_stories(
                conn, section=section, since=since, limit=limit, cursor=cursor
            )

    def get_story(self, story_id: int) -> StoredStory | None:
        with self.engine.connect() as conn:
            return story_sql.get_stories(conn, [story_id]).get(story_id)

    def get_stories(self, story_ids: Sequence[int]) -> dict[int, StoredStory]:
        with self.engine.connect() as conn:
            return story_sql.get_stories(conn, story_ids)

    def resolve_story(self, story_id: int) -> int | None:
        with self.engine.connect() as conn:
            return story_sql.resolve_story(conn, story_id)

    def story_articles(self, story_id: int) -> list[StoryArticle]:
        with self.engine.connect() as conn:
            return story_sql.story_articles(conn, story_id)

    def related_stories(self, story: StoredStory, limit: int = 5) -> list[StoredStory]:
        with self.engine.connect() as conn:
            return story_sql.related_stories(conn, story, limit)

    def ranking_activity(
        self,
        since: datetime,
        now: datetime,
        window_hours: float,
        *,
        section: str | None = None,
        limit: int = 1000,
    ) -> dict[int, StoryActivity]:
        with self.engine.connect() as conn:
            return story_sql.ranking_activity(
                conn, since, now, window_hours, section=section, limit=limit
            )

    def stories_by_country(self, since: datetime) -> dict[str, int]:
        with self.engine.connect() as conn:
            return story_sql.stories_by_country(conn, since)

    def entity_stories(self, entity_id: int, limit: int = 10) -> list[StoredStory]:
        with self.engine.connect() as conn:
            return story_sql.entity_stories(conn, entity_id, limit)

    def count_stories(self) -> int:
        with self.engine.connect() as conn:
            return story_sql.count_stories(conn)

    # Re-fetching articles of active stories

    def due_checks(
        self,
        now: datetime,
        active_since: datetime,
        *,
        first_after: datetime,
        everything: bool = False,
        limit: int = 500,
    ) -> list[DueCheck]:
        with self.engine.connect() as conn:
            return check_sql.due_checks(
                conn, now, active_since, first_after=first_after, everything=everything, limit=limit
            )

    def record_check(
        self,
        article_id: int,
        *,
        now: datetime,
        next_check: datetime,
        checks: int,
        status: int | None,
        etag: str | None = None,
        last_modified: str | None = None,
        error: str | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            check_sql.record_check(
                conn,
                article_id,
                now=now,
                next_check=next_check,
                checks=checks,
                status=status,
                etag=etag,
                last_modified=last_modified,
                error=error,
            )

    # Site boilerplate

    def site_boilerplate(self, site: str) -> set[str]:
        with self.engine.connect() as conn:
            return boilerplate_sql.site_boilerplate(conn, site)

    def learn_paragraphs(self, site: str, keys: Sequence[str], now: datetime) -> set[str]:
        """Count the article's paragraph keys; the site's boilerplate keys afterwards."""
        with self.engine.begin() as conn:  # one transaction: the read sees the counts
            boilerplate_sql.learn_paragraphs(conn, site, keys, now)
            return boilerplate_sql.site_boilerplate(conn, site)

    def recent_site_articles(self, site: str, limit: int = 200) -> list[SiteArticle]:
        with self.engine.connect() as conn:
            return boilerplate_sql.recent_site_articles(conn, site, limit)

    def replace_texts(self, cleaned: Sequence[tuple[int, str, str]]) -> None:
        """Store cleaned texts (id, text, html) of articles, without making revisions."""
        with self.engine.begin() as conn:
            for article_id, text, html in cleaned:
                boilerplate_sql.replace_text(conn, article_id, text, html, content_hash(text))

    # Search

    def search(self, query: SearchQuery) -> SearchPage:
        """Articles matching a reader's query (see ``store.search``)."""
        with self.engine.connect() as conn:
            return search_articles(conn, query)

    # Dead letters (queue tasks that kept failing)

    def record_dead_letter(self, letter: DeadLetter) -> int:
        with self.engine.begin() as conn:
            return dead_letter_sql.record_dead_letter(conn, letter)

    def list_dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        with self.engine.connect() as conn:
            return dead_letter_sql.list_dead_letters(conn, limit)

    def dead_letter_counts(self) -> dict[int, int]:
        with self.engine.connect() as conn:
            return dead_letter_sql.dead_letter_counts(conn)

    # Live events (web processes beside the poller stream them from here)

    def append_live_event(self, event: LiveEvent, at: datetime) -> int:
        with self.engine.begin() as conn:
            return live_event_sql.append_event(conn, event, at)

    def live_events_after(self, after_id: int | None, limit: int) -> list[tuple[int, LiveEvent]]:
        with self.engine.connect() as conn:
            return live_event_sql.events_after(conn, after_id, limit)

    def prune_live_events(self, keep: int = live_event_sql.KEEP) -> int:
        with self.engine.begin() as conn:
            return live_event_sql.prune_events(conn, keep)

    # Insights

    def save_insights(
        self, article_id: int, revision: int, insights: Insights, now: datetime
    ) -> bool:
        """Replace the article's insights (False when that revision is no longer current)."""
        with self.engine.begin() as conn:
            return insight_sql.save_insights(conn, article_id, revision, insights, now)

    def record_insights_error(
        self, article_id: int, revision: int, error: str, now: datetime
    ) -> None:
        with self.engine.begin() as conn:
            insight_sql.record_insights_error(conn, article_id, revision, error, now)

    def get_article_insights(self, article_id: int) -> ArticleInsights | None:
        with self.engine.connect() as conn:
            return insight_sql.get_article_insights(conn, article_id)

    def registry(self) -> StoreRegistry:
        """Known entities for the insights stage, read through this store's engine."""
        return StoreRegistry(self.engine)

    def get_entity(self, entity_id: int) -> StoredEntity | None:
        with self.engine.connect() as conn:
            return insight_sql.get_entity(conn, entity_id)

    def list_entities(
        self,
        *,
        kind: EntityKind | None = None,
        prefix: str = "",
        sort: EntitySort = "mentions",
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[StoredEntity], str | None]:
        with self.engine.connect() as conn:
            return insight_sql.list_entities(
                conn, kind=kind, prefix=prefix, sort=sort, limit=limit, cursor=cursor
            )

    def entity_aliases(self, entity_id: int) -> list[str]:
        with self.engine.connect() as conn:
            return insight_sql.entity_aliases_of(conn, entity_id)

    def entity_mentions_by_day(self, entity_id: int) -> list[tuple[date, int]]:
        with self.engine.connect() as conn:
            return insight_sql.mentions_by_day(conn, entity_id)

    def entity_articles(self, entity_id: int, limit: int = 20) -> list[StoredArticle]:
        with self.engine.connect() as conn:
            return insight_sql.entity_articles(conn, entity_id, limit)

    def related_entities(self, entity_id: int, limit: int = 10) -> list[RelatedEntity]:
        with self.engine.connect() as conn:
            return insight_sql.related_entities(conn, entity_id, limit)

    def insights_of_articles(self, article_ids: Sequence[int]) -> dict[int, ArticleInsights]:
        with self.engine.connect() as conn:
            return insight_sql.insights_of_articles(conn, article_ids)

    def entities_of_articles(
        self, article_ids: Sequence[int], limit: int = 15
    ) -> list[tuple[StoredEntity, int]]:
        with self.engine.connect() as conn:
            return insight_sql.entities_of_articles(conn, article_ids, limit)

    # WebSub subscriptions (store/websub.py)

    def get_subscription(self, subscription_id: int) -> Subscription | None:
        with self.engine.connect() as conn:
            return websub_sql.get_subscription(conn, subscription_id)

    def subscription_for_source(self, source_id: int) -> Subscription | None:
        with self.engine.connect() as conn:
            return websub_sql.subscription_for_source(conn, source_id)

    def list_subscriptions(self) -> list[Subscription]:
        with self.engine.connect() as conn:
            return websub_sql.list_subscriptions(conn)

    def request_subscription(
        self, source_id: int, hub_url: str, topic_url: str, secret: str, now: datetime
    ) -> Subscription:
        with self.engine.begin() as conn:
            return websub_sql.request_subscription(conn, source_id, hub_url, topic_url, secret, now)

    def mark_subscription_verified(
        self, subscription_id: int, lease_seconds: int, now: datetime
    ) -> None:
        with self.engine.begin() as conn:
            websub_sql.mark_verified(conn, subscription_id, lease_seconds, now)

    def mark_subscription_failed(self, subscription_id: int, error: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            websub_sql.mark_failed(conn, subscription_id, error, now)

    def record_push(self, subscription_id: int, now: datetime) -> None:
        with self.engine.begin() as conn:
            websub_sql.record_push(conn, subscription_id, now)

    # A source's record (web.source_page)

    def source_record(self, source_id: int) -> SourceRecord:
        with self.engine.connect() as conn:
            return source_stats_sql.source_record(conn, source_id)

    def source_stories(
        self, source_id: int, limit: int = 20, *, shared_only: bool = False
    ) -> list[StoredStory]:
        with self.engine.connect() as conn:
            return source_stats_sql.source_stories(conn, source_id, limit, shared_only=shared_only)

    def shared_story_members(self, story_ids: Sequence[int]) -> list[StoryOutlets]:
        with self.engine.connect() as conn:
            return source_stats_sql.shared_story_members(conn, story_ids)
