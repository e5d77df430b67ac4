"""Dead letters: queue tasks that kept failing, recorded against their source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from primenews.store.schema import dead_letters

ERROR_CHARS = 2000  # a traceback's last line is enough; the worker log has the rest


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One task that gave up: which, for which source, why, after how many attempts."""

    task_id: str
    task: str
    source_id: int | None
    error: str
    attempts: int
    failed_at: datetime
    id: int | None = None


def record_dead_letter(conn: Connection, letter: DeadLetter) -> int:
    """Store a dead letter; returns its id."""
    result = conn.execute(
        dead_letters.insert().values(
            task_id=letter.task_id,
            task=letter.task,
            source_id=letter.source_id,
            error=letter.error[:ERROR_CHARS],
            attempts=letter.attempts,
            failed_at=letter.failed_at,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def list_dead_letters(conn: Connection, limit: int = 100) -> list[DeadLetter]:
    """The newest dead letters first."""
    rows = conn.execute(
        select(dead_letters)
        .order_by(dead_letters.c.failed_at.desc(), dead_letters.c.id.desc())
        .limit(limit)
    )
    return [
        DeadLetter(
            id=row.id,
            task_id=row.task_id,
            task=row.task,
            source_id=row.source_id,
            error=row.error,
            attempts=row.attempts,
            failed_at=row.failed_at,
        )
        for row in rows
    ]


def dead_letter_counts(conn: Connection) -> dict[int, int]:
    """Dead letters per source id."""
    rows = conn.execute(
        select(dead_letters.c.source_id, func.count())
        .where(dead_letters.c.source_id.is_not(None))
        .group_by(dead_letters.c.source_id)
    )
    return {int(source_id): int(count) for source_id, count in rows}
