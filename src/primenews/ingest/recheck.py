"""When to fetch an article again: while its story is active, at doubling intervals.

Checked first ``FIRST_CHECK_AFTER`` after it was seen, then 30 minutes, 1, 2
and 4 hours later, then every ``MAX_INTERVAL`` while its story keeps getting
new articles (a story is active for ``ACTIVE_FOR`` after its newest article).
Publishers edit and correct most in the first hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta

ACTIVE_FOR = timedelta(hours=48)
FIRST_CHECK_AFTER = timedelta(minutes=15)
MAX_INTERVAL = timedelta(hours=6)


def next_check_after(now: datetime, checks: int) -> datetime:
    """The time of the next check after ``checks`` checks (0 = only the first fetch)."""
    wait: timedelta = min(FIRST_CHECK_AFTER * (2**checks), MAX_INTERVAL)
    return now + wait
