"""SQL for WebSub subscriptions: plain functions taking a connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, select, update

from primenews.store.schema import sources, websub_subscriptions
from primenews.store.sources import inserted_id


class PushState(StrEnum):
    PENDING = "pending"  # asked, the hub has not verified yet
    ACTIVE = "active"  # verified; pushes arrive until expires_at
    FAILED = "failed"  # refused, never verified, or lapsed: polling only


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    source_id: int
    hub_url: str
    topic_url: str
    secret: str
    state: PushState
    lease_seconds: int | None = None
    requested_at: datetime | None = None
    verified_at: datetime | None = None
    expires_at: datetime | None = None
    last_push_at: datetime | None = None
    pushes: int = 0
    last_error: str | None = None

    @property
    def awaits_verification(self) -> bool:
        """A request was sent and the hub has not verified it yet."""
        if self.requested_at is None:
            return False
        return self.verified_at is None or self.verified_at < self.requested_at

    def live(self, now: datetime) -> bool:
        """Whether pushes stand in for polls now."""
        return (
            self.state is PushState.ACTIVE and self.expires_at is not None and self.expires_at > now
        )


_table = websub_subscriptions


def _from_row(row: Row[Any]) -> Subscription:
    return Subscription(
        id=row.id,
        source_id=row.source_id,
        hub_url=row.hub_url,
        topic_url=row.topic_url,
        secret=row.secret,
        state=PushState(row.state),
        lease_seconds=row.lease_seconds,
        requested_at=row.requested_at,
        verified_at=row.verified_at,
        expires_at=row.expires_at,
        last_push_at=row.last_push_at,
        pushes=row.pushes,
        last_error=row.last_error,
    )


def get_subscription(conn: Connection, subscription_id: int) -> Subscription | None:
    row = conn.execute(select(_table).where(_table.c.id == subscription_id)).first()
    return _from_row(row) if row else None


def subscription_for_source(conn: Connection, source_id: int) -> Subscription | None:
    row = conn.execute(select(_table).where(_table.c.source_id == source_id)).first()
    return _from_row(row) if row else None


def list_subscriptions(conn: Connection) -> list[Subscription]:
    return [_from_row(row) for row in conn.execute(select(_table).order_by(_table.c.id))]


def request_subscription(
    conn: Connection,
    source_id: int,
    hub_url: str,
    topic_url: str,
    secret: str,
    now: datetime,
) -> Subscription:
    """Record a (re)subscription request; a live lease stays live until the hub verifies."""
    existing = subscription_for_source(conn, source_id)
    values = {"hub_url": hub_url, "topic_url": topic_url, "secret": secret, "requested_at": now}
    if existing is None:
        result = conn.execute(
            _table.insert().values(
                source_id=source_id, state=PushState.PENDING.value, pushes=0, **values
            )
        )
        subscription_id = inserted_id(result)
    else:
        subscription_id = existing.id
        if not existing.live(now):
            values["state"] = PushState.PENDING.value
        conn.execute(update(_table).where(_table.c.id == existing.id).values(**values))
    stored = get_subscription(conn, subscription_id)
    assert stored is not None
    return stored


def mark_verified(
    conn: Connection, subscription_id: int, lease_seconds: int, now: datetime
) -> None:
    conn.execute(
        update(_table)
        .where(_table.c.id == subscription_id)
        .values(
            state=PushState.ACTIVE.value,
            lease_seconds=lease_seconds,
            verified_at=now,
            expires_at=now + timedelta(seconds=lease_seconds),
            last_error=None,
        )
    )


def mark_failed(conn: Connection, subscription_id: int, error: str, now: datetime) -> None:
    """Back to polling: the subscription failed, and its source is polled now."""
    row = conn.execute(
        update(_table)
        .where(_table.c.id == subscription_id)
        .values(state=PushState.FAILED.value, last_error=error, expires_at=None)
        .returning(_table.c.source_id)
    ).first()
    if row is not None:
        conn.execute(update(sources).where(sources.c.id == row.source_id).values(next_due=now))


def record_push(conn: Connection, subscription_id: int, now: datetime) -> None:
    conn.execute(
        update(_table)
        .where(_table.c.id == subscription_id)
        .values(last_push_at=now, pushes=_table.c.pushes + 1)
    )
