"""Checking what an owner typed into an alert (form, API or CLI) before it is stored.

Pure: the caller hands in which entity ids exist and the address policy for
webhooks, and gets ``AlertFields`` back or every problem at once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime

from primenews.alerts.match import email_problem, rule_problems
from primenews.alerts.model import AlertRule, Frequency
from primenews.alerts.webhooks import webhook_url_problem
from primenews.errors import PrimeNewsError
from primenews.ingest.netsafety import AddressPolicy
from primenews.store.alerts import AlertFields

MAX_NAME_CHARS = 200


class AlertInputError(PrimeNewsError):
    """What an owner asked for cannot be an alert; ``problems`` says why, one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


def checked_alert(
    *,
    name: str,
    rule: AlertRule,
    frequency: str,
    email: str | None,
    webhook_url: str | None,
    sections: Collection[str],
    known_entities: Collection[int],
    policy: AddressPolicy,
    read_problems: Sequence[str] = (),
) -> AlertFields:
    """The alert's fields, tidied (names and addresses stripped, a default name).

    ``read_problems``: what ``rule_from_strings`` could not read, reported with the rest.

    Raises:
        AlertInputError: with every problem found.
    """
    problems = [*read_problems, *rule_problems(rule, sections)]
    gone = [i for i in rule.entity_ids if i not in known_entities]
    if gone:
        problems.append(f"There is no entity {', '.join(map(str, gone))} (removed, or a typo).")
    try:
        how_often = Frequency(frequency)
    except ValueError:
        problems.append(f"Frequency {frequency!r} is not one of immediate, hourly, daily.")
        how_often = Frequency.DAILY
    email = (email or "").strip() or None
    webhook_url = (webhook_url or "").strip() or None
    if email is not None and (problem := email_problem(email)):
        problems.append(problem)
    if webhook_url is not None and (problem := webhook_url_problem(webhook_url, policy)):
        problems.append(f"The webhook URL is refused: {problem}.")
    if email is None and webhook_url is None:
        problems.append("An alert needs an e-mail address, a webhook URL, or both.")
    name = " ".join(name.split())[:MAX_NAME_CHARS] or _default_name(rule)
    if problems:
        raise AlertInputError(problems)
    return AlertFields(name, rule, how_often, email, webhook_url)


def _default_name(rule: AlertRule) -> str:
    if rule.query.strip():
        return rule.query.strip()[:MAX_NAME_CHARS]
    return f"{len(rule.entity_ids)} watched entit{'y' if len(rule.entity_ids) == 1 else 'ies'}"


def rule_from_strings(
    *, query: str, section: str, source: str, entities: str, since: str
) -> tuple[AlertRule, list[str]]:
    """A rule from form or CLI text (entities: ids separated by commas or spaces; since:
    YYYY-MM-DD), with the problems of the text that could not be read."""
    problems: list[str] = []
    source_id = None
    if source.strip():
        if source.strip().isdigit() and 0 < int(source.strip()) < 2**53:
            source_id = int(source.strip())
        else:
            problems.append(f"Source {source!r} is not a source id.")
    ids: list[int] = []
    for piece in entities.replace(",", " ").split():
        if piece.isdigit() and 0 < int(piece) < 2**53:
            ids.append(int(piece))
        else:
            problems.append(f"Entity {piece[:40]!r} is not an entity id.")
    when: datetime | None = None
    if since.strip():
        try:
            day = date.fromisoformat(since.strip())
            when = datetime(day.year, day.month, day.day, tzinfo=UTC)
        except ValueError:
            problems.append(f"Date {since[:40]!r} is not a date like 2026-11-28.")
    rule = AlertRule(
        query=query.strip(),
        section=section.strip().lower() or None,
        source_id=source_id,
        entity_ids=tuple(dict.fromkeys(ids)),
        since=when,
    )
    return rule, problems
