"""What an alert is: a rule (what to match), how often, and where to deliver."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Frequency(StrEnum):
    IMMEDIATE = "immediate"  # after each processing round
    HOURLY = "hourly"
    DAILY = "daily"

    @property
    def period(self) -> timedelta:
        """The least time between two deliveries of one alert on one channel."""
        return _PERIODS[self]


_PERIODS = {
    Frequency.IMMEDIATE: timedelta(0),
    Frequency.HOURLY: timedelta(hours=1),
    Frequency.DAILY: timedelta(days=1),
}


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class AlertRule:
    """What an alert matches: words in /search syntax and/or entities, narrowed by filters.

    With ``query`` an article must match the words; with ``entity_ids`` it must name
    at least one of them; with both, both. ``since`` is inclusive (the article's sort time).
    """

    query: str = ""
    section: str | None = None
    source_id: int | None = None
    entity_ids: tuple[int, ...] = ()
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    user_id: int
    name: str
    rule: AlertRule
    frequency: Frequency
    email: str | None
    webhook_url: str | None
    webhook_secret: str
    unsubscribe_key: str
    email_enabled: bool
    scanned_through: int  # the highest article id already matched against the rule
    email_sent_at: datetime | None  # the last successful delivery on each channel
    webhook_sent_at: datetime | None
    email_error: str | None  # the last failure on each channel, None after a success
    webhook_error: str | None
    scan_error: str | None  # why the rule could not be matched, if it could not
    created_at: datetime

    def sent_at(self, channel: Channel) -> datetime | None:
        return self.email_sent_at if channel is Channel.EMAIL else self.webhook_sent_at

    def error(self, channel: Channel) -> str | None:
        return self.email_error if channel is Channel.EMAIL else self.webhook_error

    @property
    def last_sent_at(self) -> datetime | None:
        return max(filter(None, (self.email_sent_at, self.webhook_sent_at)), default=None)

    @property
    def last_error(self) -> str | None:
        """The problem to show: matching first, then each channel's."""
        return self.scan_error or self.email_error or self.webhook_error

    @property
    def channels(self) -> tuple[Channel, ...]:
        """The channels this alert delivers to now (e-mail stops after an unsubscribe)."""
        found: list[Channel] = []
        if self.email and self.email_enabled:
            found.append(Channel.EMAIL)
        if self.webhook_url:
            found.append(Channel.WEBHOOK)
        return tuple(found)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery attempt of an alert's owed articles on one channel (the delivery log)."""

    id: int
    alert_id: int
    channel: Channel
    status: str  # sent, failed
    attempts: int
    articles: int
    last_error: str | None
    started_at: datetime
    finished_at: datetime


@dataclass(frozen=True, slots=True)
class Candidate:
    """A new article as the matcher sees it."""

    article_id: int
    source_id: int | None
    sections: tuple[str, ...]
    entity_ids: frozenset[int]
    sort_time: datetime
