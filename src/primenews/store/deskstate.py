"""The story desk's saved state (table ``desk_state``) and the articles a restart still owes it.

The state itself is opaque bytes here (``worker.desk`` encodes it); this module
stores one row per name and answers which recent articles the saved state has
not observed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, or_, select

from primenews.store.schema import articles, desk_state, story_members


@dataclass(frozen=True, slots=True)
class SavedState:
    version: str
    last_article_id: int
    saved_at: datetime
    state: bytes


def save_state(
    conn: Connection, name: str, version: str, last_article_id: int, now: datetime, state: bytes
) -> None:
    """Replace the state saved under ``name``."""
    conn.execute(delete(desk_state).where(desk_state.c.name == name))
    conn.execute(
        insert(desk_state).values(
            name=name,
            version=version,
            last_article_id=last_article_id,
            saved_at=now,
            state=state,
        )
    )


def load_state(conn: Connection, name: str) -> SavedState | None:
    row = conn.execute(select(desk_state).where(desk_state.c.name == name)).first()
    if row is None:
        return None
    return SavedState(row.version, int(row.last_article_id), row.saved_at, bytes(row.state))


def unobserved_article_ids(conn: Connection, since: datetime, after_id: int) -> list[int]:
    """Articles first seen since ``since`` that a state saved at ``after_id`` has not seen.

    Those are the newer ones, and any older one that never got a story (stored,
    then the process stopped before the desk placed it): every article the desk
    observes as new or as a copy gets a story membership.
    """
    placed = select(story_members.c.article_id).where(story_members.c.article_id == articles.c.id)
    query = (
        select(articles.c.id)
        .where(articles.c.first_seen >= since)
        .where(or_(articles.c.id > after_id, ~placed.exists()))
        .order_by(articles.c.id)
    )
    return [int(row.id) for row in conn.execute(query)]


def delete_state(conn: Connection, name: str) -> None:
    conn.execute(delete(desk_state).where(desk_state.c.name == name))
