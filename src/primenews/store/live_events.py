"""Live events kept in the store, so that every web process can stream them.

The story desk runs in one process (the poller); readers' event streams may be
served by any number of web processes (``primenews up --no-poll``). The desk's
process appends each event here before streaming it itself; every other web
process reads what is new about once a second (``web.events.relay_stored_events``).
The row id is the event's id on every process, so a browser that reconnects
to another process with ``Last-Event-ID`` gets what it missed. Only the newest
``KEEP`` events stay: enough for any reconnect, small enough to never matter.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, delete, func, select

from primenews.domain import LiveEvent
from primenews.store.schema import live_events
from primenews.store.sources import inserted_id

KEEP = 10_000


def append_event(conn: Connection, event: LiveEvent, at: datetime) -> int:
    """Store one event; returns its id (greater than every id before it)."""
    result = conn.execute(
        live_events.insert().values(
            at=at,
            kind=event.kind,
            story_id=event.story_id,
            sections=json.dumps(list(event.sections)),
            entity_ids=json.dumps(list(event.entity_ids)),
            data=json.dumps(dict(event.data), ensure_ascii=False, default=str),
        )
    )
    return inserted_id(result)


def events_after(conn: Connection, after_id: int | None, limit: int) -> list[tuple[int, LiveEvent]]:
    """Up to ``limit`` events after ``after_id``, oldest first; with None, the newest ``limit``."""
    query = select(live_events)
    if after_id is None:
        query = query.order_by(live_events.c.id.desc()).limit(limit)
        rows = list(reversed(conn.execute(query).all()))
    else:
        query = query.where(live_events.c.id > after_id).order_by(live_events.c.id).limit(limit)
        rows = list(conn.execute(query))
    return [
        (
            row.id,
            LiveEvent(
                row.kind,
                json.loads(row.data),
                story_id=row.story_id,
                sections=tuple(json.loads(row.sections)),
                entity_ids=tuple(int(i) for i in json.loads(row.entity_ids)),
            ),
        )
        for row in rows
    ]


def prune_events(conn: Connection, keep: int = KEEP) -> int:
    """Delete all but the newest ``keep`` events; returns how many went."""
    newest = conn.execute(select(func.max(live_events.c.id))).scalar_one_or_none()
    if newest is None:
        return 0
    return conn.execute(delete(live_events).where(live_events.c.id <= newest - keep)).rowcount
