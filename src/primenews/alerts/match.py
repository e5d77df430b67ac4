"""Matching new articles against an alert's rule, and when an alert is due: pure functions.

The words of a saved search are matched by the store's full-text index (the
same one ``/search`` uses, so an alert finds what the search page finds); the
store hands those ids in as ``text_ids`` and everything else is decided here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import datetime

from primenews.alerts.model import AlertRule, Candidate, Frequency
from primenews.store.search_query import parse_query

MAX_ENTITIES = 50  # one watchlist; more is a different product (a firehose)
MAX_QUERY_CHARS = 500
_EMAIL = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+")


def rule_problems(rule: AlertRule, sections: Collection[str]) -> list[str]:
    """What is wrong with a rule, as sentences for a form or an API error (empty: fine)."""
    problems: list[str] = []
    if len(rule.query) > MAX_QUERY_CHARS:
        problems.append(f"The search is longer than {MAX_QUERY_CHARS} characters.")
    elif rule.query.strip() and not parse_query(rule.query).wanted:
        problems.append(
            f"The search {rule.query.strip()!r} has no word to look for "
            "(a search of only -excluded words or punctuation finds nothing)."
        )
    if not rule.query.strip() and not rule.entity_ids:
        problems.append("An alert needs words to search for, or entities to watch, or both.")
    if len(rule.entity_ids) > MAX_ENTITIES:
        problems.append(f"A watchlist holds at most {MAX_ENTITIES} entities.")
    if rule.section is not None and rule.section not in sections:
        problems.append(f"There is no section {rule.section!r}: one of {', '.join(sections)}.")
    return problems


def email_problem(address: str) -> str | None:
    """Why ``address`` cannot be an alert recipient, or None (one plain address only)."""
    if len(address) > 320 or not _EMAIL.fullmatch(address):
        return f"{address[:80]!r} is not an e-mail address like name@example.org."
    return None


def matches(rule: AlertRule, candidate: Candidate, text_ids: Collection[int]) -> bool:
    """Whether the article is one the alert asks for (``text_ids``: articles matching the words)."""
    if rule.query.strip() and candidate.article_id not in text_ids:
        return False
    if rule.entity_ids and candidate.entity_ids.isdisjoint(rule.entity_ids):
        return False
    if rule.section is not None and rule.section not in candidate.sections:
        return False
    if rule.source_id is not None and candidate.source_id != rule.source_id:
        return False
    return rule.since is None or candidate.sort_time >= rule.since


def matching_ids(
    rule: AlertRule, candidates: Sequence[Candidate], text_ids: Collection[int]
) -> list[int]:
    """The ids of the candidates the rule matches, in the candidates' order."""
    return [c.article_id for c in candidates if matches(rule, c, text_ids)]


def is_due(frequency: Frequency, last_sent_at: datetime | None, now: datetime) -> bool:
    """Whether a digest may go now: immediately, or a full period after the last one."""
    return last_sent_at is None or now - last_sent_at >= frequency.period
