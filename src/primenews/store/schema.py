"""Tables of the store, as SQLAlchemy Core objects shared by SQLite and PostgreSQL.

Types are chosen to mean the same on both: times are stored as naive UTC and
handed back timezone-aware (``UTCDateTime``), raw pages as compressed bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store; use UTC-aware times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite may hand back text for computed columns.
        when = datetime.fromisoformat(value) if isinstance(value, str) else value
        assert isinstance(when, datetime)
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


# BigInteger ids on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

migrations = Table(
    "schema_migrations",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("applied_at", UTCDateTime, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("site_url", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("poll_interval_minutes", Float),
    Column("next_due", UTCDateTime),
    Column("last_fetched", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_new_item_at", UTCDateTime),
    Index("ix_sources_next_due", "next_due"),
)

fetches = Table(
    "fetches",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source_id", Id, ForeignKey("sources.id", ondelete="CASCADE")),
    Column("url", Text, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("status", Integer),
    Column("elapsed_ms", Float, nullable=False, default=0.0),
    Column("bytes_received", Integer, nullable=False, default=0),
    Column("new_items", Integer, nullable=False, default=0),
    Column("error", Text),
    Index("ix_fetches_source_started", "source_id", "started_at"),
)

entries = Table(
    "entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source_id", Id, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("key", Text, nullable=False),  # guid, else canonical URL
    Column("url", Text, nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("published", UTCDateTime),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("article_id", Id, ForeignKey("articles.id", ondelete="SET NULL")),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    UniqueConstraint("source_id", "key", name="uq_entries_source_key"),
    Index("ix_entries_url", "url"),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False, unique=True),  # canonical URL: the identity
    Column("source_id", Id, ForeignKey("sources.id", ondelete="SET NULL")),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False, default=""),
    Column("byline", Text, nullable=False, default=""),
    Column("published", UTCDateTime),
    Column("updated", UTCDateTime),
    Column("language", String(16), nullable=False, default=""),
    Column("image", Text, nullable=False, default=""),
    Column("site_name", Text, nullable=False, default=""),
    Column("section", Text, nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("tags", Text, nullable=False, default="[]"),  # JSON list
    Column("fetched_url", Text, nullable=False, default=""),
    Column("content_hash", String(64), nullable=False),
    Column("revision", Integer, nullable=False, default=1),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("sort_time", UTCDateTime, nullable=False),  # published, never later than first_seen
    Index("ix_articles_sort", "sort_time", "id"),
    Index("ix_articles_source_sort", "source_id", "sort_time", "id"),
    Index("ix_articles_content_hash", "content_hash"),
)

# Every URL that led to an article (feed link with tracking parameters,
# sitemap link, canonical URL), so a known link is never fetched twice.
article_urls = Table(
    "article_urls",
    metadata,
    Column("url", Text, primary_key=True),
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
)

# The sections an article belongs to (multi-label), with the classifier's probability.
article_sections = Table(
    "article_sections",
    metadata,
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("section", String(40), primary_key=True),
    Column("score", Float, nullable=False),
    Index("ix_article_sections_section", "section", "article_id"),
)

article_revisions = Table(
    "article_revisions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("raw_html", LargeBinary),  # zlib-compressed page, for re-extraction
    UniqueConstraint("article_id", "revision", name="uq_revisions_article_revision"),
)

# Stories: one event, every outlet's coverage of it. ``key`` is the story
# index's key (the id of its first article, as text); merged stories keep
# their row, pointing at the survivor through ``merged_into``.
stories = Table(
    "stories",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("headline", Text, nullable=False, default=""),
    Column("headline_article_id", Id, ForeignKey("articles.id", ondelete="SET NULL")),
    Column("first_article_id", Id, ForeignKey("articles.id", ondelete="SET NULL")),
    Column("first_seen", UTCDateTime, nullable=False),  # the first report's time
    Column("last_seen", UTCDateTime, nullable=False),  # the newest article's time
    Column("article_count", Integer, nullable=False, default=0),
    Column("outlet_count", Integer, nullable=False, default=0),
    Column("terms", Text, nullable=False, default="[]"),  # JSON: heaviest centroid terms
    Column("merged_into", Id, ForeignKey("stories.id", ondelete="SET NULL")),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_stories_last_seen", "last_seen", "id"),
)

# Which story each article is in (one each), with why it joined.
story_members = Table(
    "story_members",
    metadata,
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("story_id", Id, ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    Column("joined_at", UTCDateTime, nullable=False),
    Column("score", Float, nullable=False),
    Column("started", Boolean, nullable=False, default=False),  # it opened the story
    Column("evidence", Text, nullable=False, default="{}"),  # JSON: cluster.Evidence
    Index("ix_story_members_story", "story_id", "article_id"),
)

# A story's sections, from its members' (see stories.aggregate.story_sections).
story_sections = Table(
    "story_sections",
    metadata,
    Column("story_id", Id, ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
    Column("section", String(40), primary_key=True),
    Column("score", Float, nullable=False),
    Index("ix_story_sections_section", "section", "story_id"),
)

# Copies: an article whose text is (nearly) another's, e.g. a syndicated wire report.
duplicates = Table(
    "duplicates",
    metadata,
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("original_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(10), nullable=False),  # "exact" or "near"
    Column("similarity", Float, nullable=False),
    Index("ix_duplicates_original", "original_id"),
)

# Re-fetching articles while their story is active: validators for a
# conditional GET and when to look again.
article_checks = Table(
    "article_checks",
    metadata,
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_checked", UTCDateTime, nullable=False),
    Column("next_check", UTCDateTime, nullable=False),
    Column("checks", Integer, nullable=False, default=0),
    Column("last_status", Integer),
    Column("last_error", Text),
    Index("ix_article_checks_next", "next_check"),
)

# Paragraphs counted per site, to learn each site's boilerplate
# (extract.boilerplate): how many of the site's articles carried each one.
site_paragraphs = Table(
    "site_paragraphs",
    metadata,
    Column("site", String(255), primary_key=True),
    Column("key", String(32), primary_key=True),
    Column("articles", Integer, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
)

sites = Table(
    "sites",
    metadata,
    Column("site", String(255), primary_key=True),
    Column("articles", Integer, nullable=False),  # articles whose paragraphs were counted
)

# Rewrites: an article retelling another outlet's earlier article (stories.rewrites),
# which is credited as the original.
rewrites = Table(
    "rewrites",
    metadata,
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("original_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("share", Float, nullable=False),  # of the rewrite's sentences found in the original
    Index("ix_rewrites_original", "original_id"),
)

# Insights (migration 0004_insights). Entities are relational because pages and
# the API query them across articles (lists by mentions, co-mentions, mentions
# per day); an article's figures, quotes, dates and summary are only ever read
# with that article, so they are one JSON document in article_insights (one row
# read instead of four tables joined).
entities = Table(
    "entities",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False, unique=True),  # "person:gerardo werthein"
    Column("name", Text, nullable=False),
    Column("kind", String(20), nullable=False),  # person, organization, place
    Column("place_name", Text),  # the gazetteer's name, for places it could map
    Column("feature", String(20)),  # country, city, region
    Column("country_code", String(2)),
    Column("country", Text),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("population", BigInteger),
    Column("geonameid", Integer),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),  # the newest article naming it
    Column("mention_count", Integer, nullable=False, default=0),  # over all articles
    Column("article_count", Integer, nullable=False, default=0),
    Index("ix_entities_mentions", "mention_count", "id"),
    Index("ix_entities_recent", "last_seen", "id"),
)

# Every normalised spelling an entity goes by (its own name included), for the
# registry's exact lookups; first and last word find near-spellings, which by
# the rule in insights.canonical always share one of them.
entity_aliases = Table(
    "entity_aliases",
    metadata,
    Column("kind", String(20), primary_key=True),
    Column("name_key", Text, primary_key=True),
    Column("name", Text, nullable=False),  # as first written
    Column("entity_id", Id, ForeignKey("entities.id", ondelete="CASCADE"), nullable=False),
    Column("first_word", Text, nullable=False),
    Column("last_word", Text, nullable=False),
    Index("ix_entity_aliases_entity", "entity_id"),
    Index("ix_entity_aliases_first_word", "kind", "first_word"),
    Index("ix_entity_aliases_last_word", "kind", "last_word"),
)

article_entities = Table(
    "article_entities",
    metadata,
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("entity_id", Id, ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True),
    Column("mentions", Integer, nullable=False),
    Column("first_offset", Integer, nullable=False),
    Index("ix_article_entities_entity", "entity_id", "article_id"),
)

article_insights = Table(
    "article_insights",
    metadata,
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("revision", Integer, nullable=False),  # the article revision they were read from
    Column("language", String(16), nullable=False, default=""),
    Column("summary", Text, nullable=False, default="[]"),  # JSON list of sentences
    Column("details", Text, nullable=False, default="{}"),  # JSON: figures, quotes, dates
    Column("error", Text),  # why enrichment failed, when it did
    Column("enriched_at", UTCDateTime, nullable=False),
)

# Accounts (every account is an administrator). Sessions and API tokens keep only the
# SHA-256 of their secret; removing a user removes both (ON DELETE CASCADE).
users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login", UTCDateTime),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_sessions_user", "user_id"),
    Index("ix_sessions_expires", "expires_at"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("hint", String(20), nullable=False),  # the token's first characters, to tell them apart
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used", UTCDateTime),
    Index("ix_api_tokens_user", "user_id"),
)

# Queue tasks that kept failing (retries spent, or delivered too often because their
# worker kept dying): what, for which source, why, so an operator can look and re-poll.
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("task_id", String(64), nullable=False),
    Column("task", String(100), nullable=False),
    Column("source_id", Id, ForeignKey("sources.id", ondelete="CASCADE")),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("failed_at", UTCDateTime, nullable=False),
    Index("ix_dead_letters_source", "source_id", "failed_at"),
)

# WebSub subscriptions (worker.websub): one per source whose feed advertises a hub.
# ``requested_at`` is the last (re)subscription request; a hub's verification is
# accepted while it is newer than ``verified_at``.
websub_subscriptions = Table(
    "websub_subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "source_id",
        Id,
        ForeignKey("sources.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("hub_url", Text, nullable=False),
    Column("topic_url", Text, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("state", String(16), nullable=False),  # pending, active, failed
    Column("lease_seconds", Integer),
    Column("requested_at", UTCDateTime),
    Column("verified_at", UTCDateTime),
    Column("expires_at", UTCDateTime),
    Column("last_push_at", UTCDateTime),
    Column("pushes", Integer, nullable=False, default=0),
    Column("last_error", Text),
)

# Alerts (alerts/): a user's saved search or entity watchlist, delivered by e-mail and/or
# webhook. ``scanned_through`` is the highest article id already matched against the alert;
# ``alert_matches`` keeps every match with, per channel, when it was delivered (NULL: still
# owed), so a failed delivery is retried and a delivered article is never sent again.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("query", Text, nullable=False, default=""),  # /search syntax; empty for a watchlist
    Column("section", String(40)),
    Column("source_id", Id),  # no foreign key: a removed source leaves the alert matching nothing
    Column("entity_ids", Text, nullable=False, default="[]"),  # JSON list of entity ids
    Column("since", UTCDateTime),  # only articles sorted at or after this time
    Column("frequency", String(16), nullable=False),  # immediate, hourly, daily
    Column("email", String(320)),
    Column("webhook_url", Text),
    Column("webhook_secret", String(128), nullable=False),
    Column("unsubscribe_key", String(128), nullable=False),
    Column("email_enabled", Boolean, nullable=False, default=True),
    Column("scanned_through", BigInteger, nullable=False, default=0),
    Column("email_sent_at", UTCDateTime),  # the last successful delivery per channel
    Column("webhook_sent_at", UTCDateTime),
    Column("email_error", Text),  # the last failure per channel (NULL after a success)
    Column("webhook_error", Text),
    Column("scan_error", Text),  # why matching failed (e.g. no full-text search)
    Column("claimed_until", UTCDateTime),  # a runner is matching/delivering it until then
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_alerts_user", "user_id"),
)

alert_matches = Table(
    "alert_matches",
    metadata,
    Column("alert_id", Id, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("matched_at", UTCDateTime, nullable=False),
    Column("email_sent_at", UTCDateTime),
    Column("webhook_sent_at", UTCDateTime),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("alert_id", Id, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(16), nullable=False),  # email, webhook
    Column("status", String(16), nullable=False),  # sent, failed
    Column("attempts", Integer, nullable=False),
    Column("articles", Integer, nullable=False),
    Column("last_error", Text),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Index("ix_alert_deliveries_alert", "alert_id", "started_at"),
)

# The story desk's in-memory state (worker.desk), saved so that a restart loads it
# instead of replaying a week of articles. One row per name ("stories"); ``version``
# says which code wrote it, ``last_article_id`` the newest article it had observed.
desk_state = Table(
    "desk_state",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("version", String(200), nullable=False),
    Column("last_article_id", Id, nullable=False),
    Column("saved_at", UTCDateTime, nullable=False),
    Column("state", LargeBinary, nullable=False),  # zlib-compressed JSON
)

# Live events (store.live_events): what the story desk told its readers, kept so
# that web processes beside the poller stream them too. The id is the event's id
# on every process (SSE Last-Event-ID), so SQLite must never reuse one.
live_events = Table(
    "live_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("story_id", Id),
    Column("sections", Text, nullable=False, default="[]"),  # JSON list
    Column("entity_ids", Text, nullable=False, default="[]"),  # JSON list
    Column("data", Text, nullable=False, default="{}"),  # JSON object
    sqlite_autoincrement=True,
)
