"""Matching and delivering for real: a store, an SMTP server and a webhook receiver on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from primenews import service
from primenews.alerts.model import AlertRule, Channel, Frequency
from primenews.config import Settings
from primenews.domain import Article, Source
from primenews.store import Store
from primenews.store.alerts import AlertFields
from primenews.store.users import User

from .conftest import NOW, Mailbox, MakeArticle, Receiver, SmtpServer, free_port
from factories import name_person

pytestmark = pytest.mark.anyio


def _add(store: Store, owner: User, rule: AlertRule, **where: object) -> int:
    values: dict[str, object] = {"frequency": Frequency.IMMEDIATE}
    values.update(where)
    fields = AlertFields("Test alert", rule, **values)  # type: ignore[arg-type]
    return store.alerts.create(owner.id, fields, NOW).id


def _watch_and_name(store: Store, owner: User, make_article: MakeArticle, name: str,
                    **where: object) -> int:  # fmt: skip
    """An alert watching ``name`` (known from an older article), then a new article naming them."""
    entity_id = name_person(store, make_article(), name)
    alert_id = _add(store, owner, AlertRule(entity_ids=(entity_id,)), **where)
    name_person(store, make_article(), name)
    return alert_id


async def test_saved_search_mails_each_new_match_once(
    alert_settings: Settings, store: Store, owner: User, make_article: MakeArticle,
    smtp_server: SmtpServer,
) -> None:  # fmt: skip
    make_article(title="Storm before the alert")  # older than the alert: not sent
    alert_id = _add(store, owner, AlertRule("storm"), email="ana@example.org")
    hit = make_article(title="Storm reaches the coast", text="Winds of 120 km/h.")
    make_article(title="Markets rally", text="Shares rose.")
    report = await service.run_alerts(alert_settings, store)
    assert (report.matched, report.sent, report.failed, report.articles) == (1, 1, 0, 1)
    [message] = smtp_server.mailbox.messages
    assert message["To"] == "ana@example.org" and message["From"] == "alerts@news.example"
    assert "Storm reaches the coast" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"https://news.example/article/{hit}" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert (
        message["List-Unsubscribe"].strip().startswith("<https://news.example/alerts/unsubscribe/")
    )
    again = await service.run_alerts(alert_settings, store)
    assert (again.matched, again.sent) == (0, 0) and len(smtp_server.mailbox.messages) == 1
    make_article(title="Second storm forms")
    await service.run_alerts(alert_settings, store)
    assert len(smtp_server.mailbox.messages) == 2
    assert (
        "Second storm forms" in smtp_server.mailbox.messages[1].get_body(("plain",)).get_content()
    )  # type: ignore[union-attr]
    [log, _] = store.alerts.deliveries(alert_id)
    assert (log.channel, log.status, log.articles, log.attempts) == (Channel.EMAIL, "sent", 1, 1)


async def test_watchlist_posts_signed_json_to_the_webhook(
    alert_settings: Settings, store: Store, owner: User, make_article: MakeArticle,
    receiver: Receiver,
) -> None:  # fmt: skip
    first = make_article(title="Before")
    entity_id = name_person(store, first, "Ana Ruiz")
    alert_id = _add(store, owner, AlertRule(entity_ids=(entity_id,)), webhook_url=receiver.url)
    named = make_article(title="Ruiz speaks")
    name_person(store, named, "Ana Ruiz")
    make_article(title="Someone else")
    report = await service.run_alerts(alert_settings, store)
    assert (report.matched, report.sent) == (1, 1)
    [(headers, body)] = receiver.calls
    alert = store.alerts.get(alert_id)
    assert alert is not None
    expected = hmac.new(alert.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-primenews-signature"] == f"sha256={expected}"
    assert headers["content-type"] == "application/json"
    document = json.loads(body)
    assert document["alert"]["id"] == alert_id
    assert [a["title"] for a in document["articles"]] == ["Ruiz speaks"]
    assert document["articles"][0]["url"] == f"https://news.example/article/{named}"


async def test_a_watchlist_waits_for_the_insights_of_an_article_just_stored(
    alert_settings: Settings, store: Store, owner: User, make_article: MakeArticle,
    source: Source, receiver: Receiver,
) -> None:  # fmt: skip
    # A queue worker stores the article, then enriches it: a scan in between must not
    # move past it, or the watchlist never sees the entity its insights bring.
    entity_id = name_person(store, make_article(title="Before"), "Ana Ruiz")
    _add(store, owner, AlertRule(entity_ids=(entity_id,)), webhook_url=receiver.url)
    just_stored = store.save_article(
        Article(url="https://news.example/just-now", title="Ruiz speaks", text="She spoke."),
        source_id=source.id,
        raw_html=b"<html><body>page</body></html>",
        fetched_at=datetime.now(UTC),
    ).article_id
    waiting = await service.run_alerts(alert_settings, store)
    assert (waiting.matched, waiting.sent, receiver.calls) == (0, 0, [])
    name_person(store, just_stored, "Ana Ruiz")
    enriched = await service.run_alerts(alert_settings, store)
    assert (enriched.matched, enriched.sent) == (1, 1)
    [(_, body)] = receiver.calls
    assert [a["title"] for a in json.loads(body)["articles"]] == ["Ruiz speaks"]


async def test_webhook_500_is_retried_with_backoff_then_logged(
    alert_settings: Settings, store: Store, owner: User, make_article: MakeArticle,
    receiver: Receiver,
) -> None:  # fmt: skip
    alert_id = _watch_and_name(store, owner, make_article, "X Y", webhook_url=receiver.url)
    receiver.statuses = [500, 503]
    report = await service.run_alerts(alert_settings, store)
    assert report.sent == 1 and len(receiver.calls) == 3
    ids = {headers["x-primenews-delivery"] for headers, _ in receiver.calls}
    assert len(ids) == 1, "retries carry the same delivery id"
    [log] = store.alerts.deliveries(alert_id)
    assert (log.status, log.attempts) == ("sent", 3)
    receiver.statuses = [500, 500, 500]
    name_person(store, make_article(title="Named again"), "X Y")
    failed = await service.run_alerts(alert_settings, store)
    assert failed.failed == 1 and "HTTP 500" in failed.errors[0]
    latest = store.alerts.deliveries(alert_id)[0]
    assert (latest.status, latest.attempts, latest.last_error) == ("failed", 3, "webhook: HTTP 500")
    assert store.alerts.count_owed(alert_id, Channel.WEBHOOK) == 1, "kept for the next run"
    alert = store.alerts.get(alert_id)
    assert alert is not None and alert.last_error == "webhook: HTTP 500"
    retried = await service.run_alerts(alert_settings, store)
    assert retried.sent == 1 and store.alerts.count_owed(alert_id, Channel.WEBHOOK) == 0


async def test_webhook_timeout_is_a_logged_failure(
    alert_settings: Settings, store: Store, owner: User, make_article: MakeArticle,
    receiver: Receiver,
) -> None:  # fmt: skip
    settings = alert_settings.replace(alert_webhook_retries=0, alert_webhook_timeout_seconds=0.2)
    alert_id = _watch_and_name(store, owner, make_article, "T", webhook_url=receiver.url)
    receiver.delay = 1.0
    report = await service.run_alerts(settings, store)
    assert report.failed == 1
    [log] = store.alerts.deliveries(alert_id)
    assert log.status == "failed" and "timed out" in (log.last_error or "")
    assert store.alerts.count_owed(alert_id, Channel.WEBHOOK) == 1


async def test_webhook_to_a_private_address_is_refused_without_the_allowlist(
    alert_settings: Settings, store: Store, owner: User, make_article: MakeArticle,
    receiver: Receiver,
) -> None:  # fmt: skip
    # Stored while allowed, then the operator removed the allowlist: refused at connect time.
    alert_id = _watch_and_name(store, owner, make_article, "P", webhook_url=receiver.url)
    report = await service.run_alerts(alert_settings.replace(fetch_allowlist=""), store)
    assert report.failed == 1 and receiver.calls == []
    [log] = store.alerts.deliveries(alert_id)
    assert log.attempts == 1 and "refused" in (log.last_error or ""), log.last_error


async def test_smtp_down_keeps_the_digest_owed_until_it_is_back(
    alert_settings: Settings, store: Store, owner: User, make_article: MakeArticle,
    smtp_server: SmtpServer,
) -> None:  # fmt: skip
    alert_id = _add(store, owner, AlertRule("storm"), email="ana@example.org")
    make_article(title="Storm one")
    down = alert_settings.replace(smtp_port=free_port())  # nothing listens there
    report = await service.run_alerts(down, store)
    assert report.failed == 1 and "ConnectionRefusedError" in report.errors[0]
    assert store.alerts.count_owed(alert_id, Channel.EMAIL) == 1
    smtp_server.mailbox.refuse = True
    refused = await service.run_alerts(alert_settings, store)
    assert refused.failed == 1 and "550" in refused.errors[0]
    smtp_server.mailbox.refuse = False
    make_article(title="Storm two")
    back = await service.run_alerts(alert_settings, store)
    assert back.sent == 1 and back.articles == 2
    [message] = smtp_server.mailbox.messages
    assert "2 new articles" in message["Subject"]
    assert [d.status for d in store.alerts.deliveries(alert_id)] == ["sent", "failed", "failed"]


async def test_hourly_alert_waits_for_its_hour_and_unsubscribed_mail_stops(
    alert_settings: Settings, store: Store, owner: User, make_article: MakeArticle,
    smtp_server: SmtpServer,
) -> None:  # fmt: skip
    alert_id = _add(store, owner, AlertRule("storm"), email="ana@example.org",
                    frequency=Frequency.HOURLY)  # fmt: skip
    make_article(title="Storm one")
    assert (await service.run_alerts(alert_settings, store)).sent == 1
    make_article(title="Storm two")
    later = await service.run_alerts(alert_settings, store)
    assert (later.matched, later.sent) == (1, 0), "the hour has not passed"
    assert store.alerts.count_owed(alert_id, Channel.EMAIL) == 1
    store.alerts.stop_email(alert_id)
    with store.engine.begin() as conn:  # an hour later
        from primenews.store.schema import alerts

        conn.execute(alerts.update().values(email_sent_at=NOW - timedelta(hours=2)))
    assert (await service.run_alerts(alert_settings, store)).sent == 0
    assert len(smtp_server.mailbox.messages) == 1


async def test_deleted_entity_matches_nothing_and_breaks_nothing(
    alert_settings: Settings, store: Store, owner: User, make_article: MakeArticle,
    receiver: Receiver,
) -> None:  # fmt: skip
    entity_id = name_person(store, make_article(), "Gone")
    alert_id = _add(store, owner, AlertRule(entity_ids=(entity_id,)), webhook_url=receiver.url)
    with store.engine.begin() as conn:
        from primenews.store.schema import entities

        conn.execute(entities.delete().where(entities.c.id == entity_id))
    make_article(title="After")
    report = await service.run_alerts(alert_settings, store)
    assert (report.matched, report.sent, report.failed) == (0, 0, 0)
    alert = store.alerts.get(alert_id)
    assert alert is not None and alert.scanned_through == store.last_article_id()


def _check_login(
    server: object, session: object, envelope: object, mechanism: str, auth_data: object
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"right password"
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


async def test_smtp_login_is_used_and_a_wrong_password_is_a_logged_failure(
    alert_settings: Settings, store: Store, owner: User, make_article: MakeArticle,
) -> None:  # fmt: skip
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, auth_require_tls=False,
                            authenticator=_check_login)  # fmt: skip
    controller.start()
    try:
        settings = alert_settings.replace(smtp_port=port, smtp_user="news",
                                          smtp_password="wrong")  # fmt: skip
        alert_id = _watch_and_name(store, owner, make_article, "L", email="ana@example.org")
        refused = await service.run_alerts(settings, store)
        assert refused.failed == 1 and "535" in refused.errors[0], refused.errors
        assert "wrong" not in refused.errors[0], "the password stays out of the log"
        right = await service.run_alerts(settings.replace(smtp_password="right password"), store)
        assert right.sent == 1 and len(mailbox.messages) == 1
    finally:
        controller.stop()
    assert [d.status for d in store.alerts.deliveries(alert_id)] == ["sent", "failed"]


async def test_webhook_receiver_down_is_retried_then_logged(
    alert_settings: Settings, store: Store, owner: User, make_article: MakeArticle,
) -> None:  # fmt: skip
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    alert_id = _watch_and_name(store, owner, make_article, "D", webhook_url=url)
    report = await service.run_alerts(alert_settings, store)
    assert report.failed == 1
    [log] = store.alerts.deliveries(alert_id)
    assert log.attempts == 3 and "ConnectError" in (log.last_error or ""), log.last_error
    assert store.alerts.count_owed(alert_id, Channel.WEBHOOK) == 1


async def test_an_alert_another_runner_holds_is_left_alone(
    alert_settings: Settings, store: Store, owner: User, make_article: MakeArticle,
    receiver: Receiver,
) -> None:  # fmt: skip
    alert_id = _watch_and_name(store, owner, make_article, "C", webhook_url=receiver.url)
    now = datetime.now(UTC)
    assert store.alerts.claim(alert_id, now, now + timedelta(minutes=15))
    assert not store.alerts.claim(alert_id, now, now + timedelta(minutes=15)), "held"
    held = await service.run_alerts(alert_settings, store)
    assert (held.matched, held.sent) == (0, 0) and receiver.calls == []
    assert store.alerts.claim(alert_id, now + timedelta(minutes=16), now), "a dead runner's lapses"
    store.alerts.release(alert_id)
    free = await service.run_alerts(alert_settings, store)
    assert (free.matched, free.sent) == (1, 1) and len(receiver.calls) == 1
    assert store.alerts.claim(alert_id, now, now + timedelta(minutes=1)), "released after the run"
