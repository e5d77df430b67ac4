"""SQL for alerts: the alerts themselves, what each matched, and the delivery log.

Plain functions take a connection; ``AlertStore`` (``Store.alerts``) wraps each in
a short transaction. A match row is owed on a channel until its ``*_sent_at`` is
set, which happens only after that channel's delivery succeeded: a failure
leaves it owed (retried later), a success never sends it again.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, func, select, update

from primenews.alerts.model import Alert, AlertRule, Candidate, Channel, Delivery, Frequency
from primenews.domain import StoredArticle
from primenews.store.articles import (
    ARTICLE_COLUMNS,
    ARTICLE_FROM,
    last_article_id,
    sections_of,
    stored_article_from_row,
)
from primenews.store.schema import (
    alert_deliveries,
    alert_matches,
    alerts,
    article_entities,
    article_insights,
    articles,
    entities,
)
from primenews.store.search import matching_ids

SCAN_BATCH = 500  # new articles matched per step; an alert catches up over several
DELIVERY_LOG_KEEP = 200  # delivery rows kept per alert (the newest)
_SENT_AT = {
    Channel.EMAIL: alert_matches.c.email_sent_at,
    Channel.WEBHOOK: alert_matches.c.webhook_sent_at,
}


@dataclass(frozen=True, slots=True)
class AlertFields:
    """What an owner chooses for an alert (everything but its secrets and its state)."""

    name: str
    rule: AlertRule
    frequency: Frequency
    email: str | None = None
    webhook_url: str | None = None


def _alert(row: Row[Any]) -> Alert:
    rule = AlertRule(
        query=row.query or "",
        section=row.section,
        source_id=row.source_id,
        entity_ids=tuple(int(i) for i in json.loads(row.entity_ids or "[]")),
        since=row.since,
    )
    return Alert(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        rule=rule,
        frequency=Frequency(row.frequency),
        email=row.email,
        webhook_url=row.webhook_url,
        webhook_secret=row.webhook_secret,
        unsubscribe_key=row.unsubscribe_key,
        email_enabled=bool(row.email_enabled),
        scanned_through=int(row.scanned_through),
        email_sent_at=row.email_sent_at,
        webhook_sent_at=row.webhook_sent_at,
        email_error=row.email_error,
        webhook_error=row.webhook_error,
        scan_error=row.scan_error,
        created_at=row.created_at,
    )


def _values(fields: AlertFields) -> dict[str, Any]:
    rule = fields.rule
    return {
        "name": fields.name,
        "query": rule.query,
        "section": rule.section,
        "source_id": rule.source_id,
        "entity_ids": json.dumps(list(rule.entity_ids)),
        "since": rule.since,
        "frequency": fields.frequency.value,
        "email": fields.email or None,
        "webhook_url": fields.webhook_url or None,
    }


def create_alert(conn: Connection, user_id: int, fields: AlertFields, now: datetime) -> Alert:
    """A new alert; it matches articles stored from now on (not the back catalogue)."""
    row = conn.execute(
        alerts.insert()
        .values(
            user_id=user_id,
            webhook_secret=secrets.token_urlsafe(32),
            unsubscribe_key=secrets.token_urlsafe(32),
            email_enabled=True,
            scanned_through=last_article_id(conn),
            created_at=now,
            **_values(fields),
        )
        .returning(alerts.c.id)
    ).one()
    alert = get_alert(conn, int(row.id))
    assert alert is not None
    return alert


def update_alert(conn: Connection, alert_id: int, fields: AlertFields) -> Alert | None:
    """Change what an alert matches and where it goes; a new e-mail address is subscribed again."""
    before = get_alert(conn, alert_id)
    if before is None:
        return None
    values = _values(fields)
    if values["email"] != before.email:
        values["email_enabled"] = True
    conn.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))
    return get_alert(conn, alert_id)


def get_alert(conn: Connection, alert_id: int) -> Alert | None:
    row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
    return _alert(row) if row is not None else None


def list_alerts(conn: Connection, user_id: int | None = None) -> list[Alert]:
    query = select(alerts).order_by(alerts.c.id)
    if user_id is not None:
        query = query.where(alerts.c.user_id == user_id)
    return [_alert(row) for row in conn.execute(query)]


def remove_alert(conn: Connection, alert_id: int) -> bool:
    conn.execute(delete(alert_matches).where(alert_matches.c.alert_id == alert_id))
    conn.execute(delete(alert_deliveries).where(alert_deliveries.c.alert_id == alert_id))
    return conn.execute(delete(alerts).where(alerts.c.id == alert_id)).rowcount > 0


def stop_email(conn: Connection, alert_id: int) -> bool:
    """Unsubscribe: the alert sends no more e-mail (its webhook, if any, goes on)."""
    done = conn.execute(
        update(alerts).where(alerts.c.id == alert_id).values(email_enabled=False)
    ).rowcount
    return done > 0


def existing_entities(conn: Connection, entity_ids: Sequence[int]) -> set[int]:
    """Which of these entity ids the store holds."""
    if not entity_ids:
        return set()
    rows = conn.execute(select(entities.c.id).where(entities.c.id.in_(list(entity_ids))))
    return {int(row.id) for row in rows}


def entity_names(conn: Connection, entity_ids: Sequence[int]) -> dict[int, str]:
    if not entity_ids:
        return {}
    rows = conn.execute(
        select(entities.c.id, entities.c.name).where(entities.c.id.in_(list(entity_ids)))
    )
    return {int(row.id): row.name for row in rows}


# Matching


def candidates_after(
    conn: Connection, after_id: int, settled: datetime | None = None, limit: int = SCAN_BATCH
) -> list[Candidate]:
    """The next ``limit`` articles stored after ``after_id``, with their sections and entities.

    With ``settled``, the list ends before the first article first seen after
    it that has no insights yet (its entities are still to come).
    """
    rows = conn.execute(
        select(
            articles.c.id,
            articles.c.source_id,
            articles.c.sort_time,
            articles.c.first_seen,
            article_insights.c.article_id.label("enriched"),
        )
        .select_from(articles.outerjoin(article_insights))
        .where(articles.c.id > after_id)
        .order_by(articles.c.id)
        .limit(limit)
    ).all()
    if settled is not None:
        waiting = [row.enriched is None and row.first_seen > settled for row in rows]
        rows = rows[: waiting.index(True)] if True in waiting else rows
    ids = [int(row.id) for row in rows]
    labels = sections_of(conn, ids)
    named: dict[int, set[int]] = {}
    if ids:
        for link in conn.execute(
            select(article_entities.c.article_id, article_entities.c.entity_id).where(
                article_entities.c.article_id.in_(ids)
            )
        ):
            named.setdefault(int(link.article_id), set()).add(int(link.entity_id))
    return [
        Candidate(
            article_id=int(row.id),
            source_id=row.source_id,
            sections=labels.get(int(row.id), ()),
            entity_ids=frozenset(named.get(int(row.id), ())),
            sort_time=row.sort_time,
        )
        for row in rows
    ]


def text_matches(conn: Connection, query: str, after_id: int, through_id: int) -> set[int]:
    """Ids in ``(after_id, through_id]`` whose title, text or source match the words.

    The same index and query reading as ``/search`` (``store.search``), on either backend.
    """
    return matching_ids(conn, query, after_id, through_id)


def record_matches(
    conn: Connection, alert_id: int, article_ids: Sequence[int], through_id: int, now: datetime
) -> int:
    """Remember matches (each once) and that the alert has seen articles up to ``through_id``."""
    known = set()
    if article_ids:
        known = {
            int(row.article_id)
            for row in conn.execute(
                select(alert_matches.c.article_id).where(
                    alert_matches.c.alert_id == alert_id,
                    alert_matches.c.article_id.in_(list(article_ids)),
                )
            )
        }
    new = [i for i in dict.fromkeys(article_ids) if i not in known]
    if new:
        conn.execute(
            alert_matches.insert(),
            [{"alert_id": alert_id, "article_id": i, "matched_at": now} for i in new],
        )
    conn.execute(
        update(alerts)
        .where(alerts.c.id == alert_id, alerts.c.scanned_through < through_id)
        .values(scanned_through=through_id)
    )
    return len(new)


def record_scan_error(conn: Connection, alert_id: int, error: str | None) -> None:
    conn.execute(update(alerts).where(alerts.c.id == alert_id).values(scan_error=error))


# Runs: one runner per alert at a time


def claim_alert(conn: Connection, alert_id: int, now: datetime, until: datetime) -> bool:
    """Take the alert for one runner until ``until``; False when another runner holds it.

    One conditional UPDATE, atomic on SQLite and PostgreSQL alike, so the service's
    loop and a ``primenews alerts run-due`` never deliver the same owed articles twice.
    """
    taken = conn.execute(
        update(alerts)
        .where(
            alerts.c.id == alert_id,
            (alerts.c.claimed_until.is_(None)) | (alerts.c.claimed_until < now),
        )
        .values(claimed_until=until)
    ).rowcount
    return taken > 0


def release_alert(conn: Connection, alert_id: int) -> None:
    conn.execute(update(alerts).where(alerts.c.id == alert_id).values(claimed_until=None))


# Delivery


def owed_articles(
    conn: Connection, alert_id: int, channel: Channel, limit: int
) -> list[StoredArticle]:
    """Matched articles not yet delivered on ``channel``, oldest match first."""
    sent_at = _SENT_AT[channel]
    rows = conn.execute(
        select(*ARTICLE_COLUMNS)
        .select_from(ARTICLE_FROM.join(alert_matches, alert_matches.c.article_id == articles.c.id))
        .where(alert_matches.c.alert_id == alert_id, sent_at.is_(None))
        .order_by(articles.c.id)
        .limit(limit)
    ).all()
    labels = sections_of(conn, [row.id for row in rows])
    return [stored_article_from_row(row, labels.get(row.id, ())) for row in rows]


def count_owed(conn: Connection, alert_id: int, channel: Channel) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(alert_matches)
            .where(alert_matches.c.alert_id == alert_id, _SENT_AT[channel].is_(None))
        ).scalar_one()
    )


def mark_sent(
    conn: Connection, alert_id: int, channel: Channel, article_ids: Sequence[int], now: datetime
) -> None:
    if not article_ids:
        return
    conn.execute(
        update(alert_matches)
        .where(
            alert_matches.c.alert_id == alert_id,
            alert_matches.c.article_id.in_(list(article_ids)),
        )
        .values({_SENT_AT[channel].name: now})
    )


def record_delivery(conn: Connection, delivery: Delivery) -> int:
    """Log one delivery; the alert's ``<channel>_sent_at``/``<channel>_error`` follow it."""
    row = conn.execute(
        alert_deliveries.insert()
        .values(
            alert_id=delivery.alert_id,
            channel=delivery.channel.value,
            status=delivery.status,
            attempts=delivery.attempts,
            articles=delivery.articles,
            last_error=delivery.last_error,
            started_at=delivery.started_at,
            finished_at=delivery.finished_at,
        )
        .returning(alert_deliveries.c.id)
    ).one()
    channel = delivery.channel.value
    state: dict[str, Any] = {f"{channel}_error": delivery.last_error}
    if delivery.status == "sent":
        state[f"{channel}_sent_at"] = delivery.finished_at
    conn.execute(update(alerts).where(alerts.c.id == delivery.alert_id).values(**state))
    _trim_log(conn, delivery.alert_id)
    return int(row.id)


def _trim_log(conn: Connection, alert_id: int) -> None:
    keep = (
        select(alert_deliveries.c.id)
        .where(alert_deliveries.c.alert_id == alert_id)
        .order_by(alert_deliveries.c.id.desc())
        .limit(DELIVERY_LOG_KEEP)
        .scalar_subquery()
    )
    conn.execute(
        delete(alert_deliveries).where(
            alert_deliveries.c.alert_id == alert_id, alert_deliveries.c.id.not_in(keep)
        )
    )


def list_deliveries(conn: Connection, alert_id: int, limit: int = 50) -> list[Delivery]:
    rows = conn.execute(
        select(alert_deliveries)
        .where(alert_deliveries.c.alert_id == alert_id)
        .order_by(alert_deliveries.c.id.desc())
        .limit(limit)
    )
    return [
        Delivery(
            id=row.id,
            alert_id=row.alert_id,
            channel=Channel(row.channel),
            status=row.status,
            attempts=row.attempts,
            articles=row.articles,
            last_error=row.last_error,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )
        for row in rows
    ]


class AlertStore:
    """The alert functions above, each in its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, user_id: int, fields: AlertFields, now: datetime) -> Alert:
        with self.engine.begin() as conn:
            return create_alert(conn, user_id, fields, now)

    def update(self, alert_id: int, fields: AlertFields) -> Alert | None:
        with self.engine.begin() as conn:
            return update_alert(conn, alert_id, fields)

    def get(self, alert_id: int) -> Alert | None:
        with self.engine.connect() as conn:
            return get_alert(conn, alert_id)

    def list_alerts(self, user_id: int | None = None) -> list[Alert]:
        with self.engine.connect() as conn:
            return list_alerts(conn, user_id)

    def remove(self, alert_id: int) -> bool:
        with self.engine.begin() as conn:
            return remove_alert(conn, alert_id)

    def stop_email(self, alert_id: int) -> bool:
        with self.engine.begin() as conn:
            return stop_email(conn, alert_id)

    def existing_entities(self, entity_ids: Sequence[int]) -> set[int]:
        with self.engine.connect() as conn:
            return existing_entities(conn, entity_ids)

    def entity_names(self, entity_ids: Sequence[int]) -> dict[int, str]:
        with self.engine.connect() as conn:
            return entity_names(conn, entity_ids)

    def candidates_after(
        self, after_id: int, settled: datetime | None = None, limit: int = SCAN_BATCH
    ) -> list[Candidate]:
        with self.engine.connect() as conn:
            return candidates_after(conn, after_id, settled, limit)

    def text_matches(self, query: str, after_id: int, through_id: int) -> set[int]:
        with self.engine.connect() as conn:
            return text_matches(conn, query, after_id, through_id)

    def record_matches(
        self, alert_id: int, article_ids: Sequence[int], through_id: int, now: datetime
    ) -> int:
        with self.engine.begin() as conn:
            return record_matches(conn, alert_id, article_ids, through_id, now)

    def record_scan_error(self, alert_id: int, error: str | None) -> None:
        with self.engine.begin() as conn:
            record_scan_error(conn, alert_id, error)

    def claim(self, alert_id: int, now: datetime, until: datetime) -> bool:
        with self.engine.begin() as conn:
            return claim_alert(conn, alert_id, now, until)

    def release(self, alert_id: int) -> None:
        with self.engine.begin() as conn:
            release_alert(conn, alert_id)

    def owed_articles(self, alert_id: int, channel: Channel, limit: int) -> list[StoredArticle]:
        with self.engine.connect() as conn:
            return owed_articles(conn, alert_id, channel, limit)

    def count_owed(self, alert_id: int, channel: Channel) -> int:
        with self.engine.connect() as conn:
            return count_owed(conn, alert_id, channel)

    def mark_sent(
        self, alert_id: int, channel: Channel, article_ids: Sequence[int], now: datetime
    ) -> None:
        with self.engine.begin() as conn:
            mark_sent(conn, alert_id, channel, article_ids, now)

    def record_delivery(self, delivery: Delivery) -> int:
        with self.engine.begin() as conn:
            return record_delivery(conn, delivery)

    def deliveries(self, alert_id: int, limit: int = 50) -> list[Delivery]:
        with self.engine.connect() as conn:
            return list_deliveries(conn, alert_id, limit)
