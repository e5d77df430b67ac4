"""The pure parts: rule checks, matching, when an alert is due, form text, digests, signatures."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from primenews.alerts.digest import (
    Links,
    build_digest,
    signature,
    token_alert_id,
    token_matches,
    unsubscribe_token,
)
from primenews.alerts.match import is_due, matches, rule_problems
from primenews.alerts.model import Alert, AlertRule, Candidate, Frequency
from primenews.alerts.validate import AlertInputError, checked_alert, rule_from_strings
from primenews.domain import Article, StoredArticle
from primenews.ingest.netsafety import AddressPolicy

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SECTIONS = ("world", "business")


def candidate(article_id: int = 7, **changes: object) -> Candidate:
    values: dict[str, object] = {
        "article_id": article_id, "source_id": 3, "sections": ("world",),
        "entity_ids": frozenset({11}), "sort_time": NOW,
    }  # fmt: skip
    values.update(changes)
    return Candidate(**values)  # type: ignore[arg-type]


def alert(**changes: object) -> Alert:
    values: dict[str, object] = {
        "id": 5, "user_id": 1, "name": "Storm <b>watch</b>", "rule": AlertRule("storm"),
        "frequency": Frequency.DAILY, "email": "ana@example.org", "webhook_url": None,
        "webhook_secret": "s3cret", "unsubscribe_key": "k" * 40, "email_enabled": True,
        "scanned_through": 0, "email_sent_at": None, "webhook_sent_at": None,
        "email_error": None, "webhook_error": None, "scan_error": None, "created_at": NOW,
    }  # fmt: skip
    values.update(changes)
    return Alert(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (AlertRule(""), "needs words to search for, or entities"),
        (AlertRule("-crypto"), "has no word to look for"),
        (AlertRule('"" ,,, !!'), "has no word to look for"),
        (AlertRule("storm", section="sport"), "There is no section 'sport'"),
        (AlertRule("x" * 501), "longer than 500"),
        (AlertRule(entity_ids=tuple(range(1, 52))), "at most 50 entities"),
    ],
)
def test_rules_that_cannot_match_are_refused(rule: AlertRule, problem: str) -> None:
    assert any(problem in p for p in rule_problems(rule, SECTIONS))


def test_a_good_rule_has_no_problem() -> None:
    assert rule_problems(AlertRule('"central bank" rates -crypto', section="world"), SECTIONS) == []
    assert rule_problems(AlertRule(entity_ids=(3,)), SECTIONS) == []


def test_matching_applies_every_filter() -> None:
    rule = AlertRule("storm", section="world", source_id=3, entity_ids=(11, 12), since=NOW)
    assert matches(rule, candidate(), {7})
    assert not matches(rule, candidate(), set()), "words must match"
    assert not matches(rule, candidate(entity_ids=frozenset({99})), {7})
    assert not matches(rule, candidate(sections=("business",)), {7})
    assert not matches(rule, candidate(source_id=4), {7})
    assert not matches(rule, candidate(sort_time=NOW - timedelta(seconds=1)), {7})
    watchlist = AlertRule(entity_ids=(11,))
    assert matches(watchlist, candidate(), set()), "a watchlist needs no words"


def test_due_by_frequency() -> None:
    assert is_due(Frequency.DAILY, None, NOW)
    assert is_due(Frequency.IMMEDIATE, NOW, NOW)
    assert not is_due(Frequency.HOURLY, NOW - timedelta(minutes=59), NOW)
    assert is_due(Frequency.HOURLY, NOW - timedelta(hours=1), NOW)
    assert not is_due(Frequency.DAILY, NOW - timedelta(hours=23), NOW)


def test_form_text_is_read_or_reported() -> None:
    rule, problems = rule_from_strings(
        query=" storm ", section="World", source="3", entities="4, 5 4", since="2026-11-01"
    )
    assert rule == AlertRule("storm", "world", 3, (4, 5), datetime(2026, 11, 1, tzinfo=UTC))
    assert problems == []
    _, problems = rule_from_strings(
        query="", section="", source="x1", entities="4 abc", since="yesterday"
    )
    assert len(problems) == 3


def _check(**changes: object) -> object:
    values: dict[str, object] = {
        "name": "", "rule": AlertRule("storm"), "frequency": "daily", "email": "a@b.example",
        "webhook_url": None, "sections": SECTIONS, "known_entities": set(),
        "policy": AddressPolicy(),
    }  # fmt: skip
    values.update(changes)
    return checked_alert(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"rule": AlertRule(entity_ids=(42,))}, "There is no entity 42"),
        ({"frequency": "weekly"}, "Frequency 'weekly'"),
        ({"email": "not an address"}, "is not an e-mail address"),
        ({"email": "a@b.example\r\nBcc: c@d.example"}, "is not an e-mail address"),
        ({"email": None}, "needs an e-mail address, a webhook URL"),
        ({"webhook_url": "http://127.0.0.1:8080/x"}, "webhook URL is refused"),
        ({"webhook_url": "http://169.254.169.254/latest/meta-data"}, "webhook URL is refused"),
        ({"webhook_url": "file:///etc/passwd"}, "webhook URL is refused"),
        ({"webhook_url": "http://[::1]/hook"}, "webhook URL is refused"),
    ],
)
def test_bad_alert_input_is_refused_with_a_reason(changes: dict[str, object], problem: str) -> None:
    with pytest.raises(AlertInputError) as caught:
        _check(**changes)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_good_alert_input_gets_a_default_name() -> None:
    fields = _check(webhook_url="https://hooks.example/x", rule=AlertRule("storm surge"))
    assert fields.name == "storm surge"  # type: ignore[attr-defined]
    allowed = AddressPolicy.from_allowlist(["127.0.0.1/32"])
    assert _check(webhook_url="http://127.0.0.1:9/x", policy=allowed)


def test_unsubscribe_tokens_are_per_alert_and_unforgeable() -> None:
    token = unsubscribe_token(alert())
    assert token_alert_id(token) == 5 and token_matches(alert(), token)
    assert not token_matches(alert(unsubscribe_key="other" * 8), token)
    assert not token_matches(alert(), "5.0000")
    assert token_alert_id("abc.def") is None and token_alert_id("5") is None


def test_signature_is_hmac_sha256_of_the_body() -> None:
    body = b'{"a":1}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert signature("s3cret", body) == f"sha256={expected}"


def test_digest_is_multipart_escaped_with_one_click_unsubscribe() -> None:
    hostile = Article(
        url="https://news.example/a", title="<script>x</script> Storm\r\nBcc: evil@x.example",
        text="The storm <b>hit</b>.", published=NOW,
    )  # fmt: skip
    stored = StoredArticle(9, hostile, 3, "h", NOW, NOW, source_title="Example & Co")
    message = build_digest(
        alert(), [stored], Links("https://news.example"), sender="alerts@news.example", now=NOW
    )
    assert message["Subject"] == "[Prime News] Storm <b>watch</b>: 1 new article"
    token = unsubscribe_token(alert())
    assert message["List-Unsubscribe"] == f"<https://news.example/alerts/unsubscribe/{token}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Bcc"] is None
    plain = message.get_body(("plain",))
    rich = message.get_body(("html",))
    assert plain is not None and rich is not None
    text, html = plain.get_content(), rich.get_content()
    assert "https://news.example/article/9" in text and f"unsubscribe/{token}" in text
    assert "<script>" not in html and "&lt;script&gt;" in html and "Example &amp; Co" in html
    assert f"/alerts/unsubscribe/{token}" in html
