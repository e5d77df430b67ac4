"""Alerts on the web: the owner's pages, the JSON API, and unsubscribing from an e-mail.

- Pages (``/alerts``, ``/alerts/new``, ``/alerts/{id}``) need a login; every form
  post carries the session's CSRF token (``web.auth.check_form_write``). An owner
  sees only their own alerts: another account's alert is a 404, as if absent.
- ``/api/v1/alerts`` needs an API token for every call (alerts hold addresses
  and webhook secrets, so reading is private too).
- ``/alerts/unsubscribe/{token}`` needs no login: the token in the e-mail is
  signed per alert. GET shows a confirmation button; POST unsubscribes (also
  the RFC 8058 one-click POST a mail client sends from ``List-Unsubscribe``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from primenews.alerts.digest import token_alert_id, token_matches
from primenews.alerts.model import Alert, AlertRule, Channel, Delivery
from primenews.alerts.validate import AlertInputError, checked_alert, rule_from_strings
from primenews.ingest.fetch import FetchOptions
from primenews.store import Store
from primenews.store.alerts import AlertFields
from primenews.web.auth import (
    NO_STORE,
    WRITE_RESPONSES,
    AdminSessionDep,
    ApiWriterDep,
    AuthDep,
    CsrfField,
    check_form_write,
)
from primenews.web.deps import SECTIONS, IdPath, StoreDep, TemplatesDep
from primenews.web.errors import ERROR_RESPONSES

page_router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", responses={**ERROR_RESPONSES, **WRITE_RESPONSES})

FREQUENCIES = ("immediate", "hourly", "daily")


class AlertForm(BaseModel):
    """The alert form's fields, as typed (checked by ``alerts.validate``, not here, so a
    mistake comes back as a note on the filled-in form rather than a bare 422)."""

    name: str = Field("", max_length=2000)
    q: str = Field("", max_length=2000)
    section: str = Field("", max_length=2000)
    source: str = Field("", max_length=2000)
    entities: str = Field("", max_length=2000)
    since: str = Field("", max_length=2000)
    frequency: str = Field("daily", max_length=2000)
    email: str = Field("", max_length=2000)
    webhook_url: str = Field("", max_length=2000)
    csrf_token: str = Field("", max_length=200)


FormDep = Annotated[AlertForm, Form()]


def _fields(request: Request, store: Store, form: dict[str, str]) -> AlertFields:
    """The checked alert from form-like text; raises ``AlertInputError``."""
    rule, unread = rule_from_strings(
        query=form["q"],
        section=form["section"],
        source=form["source"],
        entities=form["entities"],
        since=form["since"],
    )
    return checked_alert(
        name=form["name"],
        rule=rule,
        frequency=form["frequency"],
        email=form["email"],
        webhook_url=form["webhook_url"],
        sections=SECTIONS,
        known_entities=store.alerts.existing_entities(rule.entity_ids),
        policy=FetchOptions.from_settings(request.app.state.settings).policy,
        read_problems=unread,
    )


def _owned(store: Store, alert_id: int, user_id: int) -> Alert:
    alert = store.alerts.get(alert_id)
    if alert is None or alert.user_id != user_id:
        raise HTTPException(404, f"You have no alert {alert_id}.")
    return alert


def _form_of(alert: Alert) -> dict[str, str]:
    rule = alert.rule
    return {
        "name": alert.name,
        "q": rule.query,
        "section": rule.section or "",
        "source": str(rule.source_id or ""),
        "entities": " ".join(map(str, rule.entity_ids)),
        "since": rule.since.date().isoformat() if rule.since else "",
        "frequency": alert.frequency.value,
        "email": alert.email or "",
        "webhook_url": alert.webhook_url or "",
    }


def _render(
    request: Request,
    templates: TemplatesDep,
    name: str,
    context: dict[str, Any],
    status: int = 200,
) -> Response:
    base = {"nav": "alerts", "sections": SECTIONS, "frequencies": FREQUENCIES}
    response: Response = templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status, headers=NO_STORE
    )
    return response


# Pages


@page_router.get("/alerts", name="alerts_page")
def alerts_page(
    request: Request, store: StoreDep, templates: TemplatesDep, session: AdminSessionDep
) -> Response:
    """The logged-in user's alerts, with what each still owes and its last problem."""
    mine = store.alerts.list_alerts(session.user.id)
    owed = {a.id: {ch.value: store.alerts.count_owed(a.id, ch) for ch in a.channels} for a in mine}
    return _render(
        request, templates, "alerts.html", {"admin": session, "alerts": mine, "owed": owed}
    )


@page_router.get("/alerts/new", name="new_alert_page")
def new_alert_page(
    request: Request,
    store: StoreDep,
    templates: TemplatesDep,
    session: AdminSessionDep,
) -> Response:
    """The form for a new alert, filled from the query string (``/search`` and entity links)."""
    params = request.query_params
    form = {
        key: params.get(key, "")[:2000]
        for key in ("name", "q", "section", "source", "entities", "since", "webhook_url")
    }
    form["entities"] = form["entities"] or params.get("entity", "")[:2000]
    form["frequency"] = params.get("frequency", "daily")
    form["email"] = params.get("email", "")[:320]
    names = _entity_names(store, form["entities"])
    return _render(
        request,
        templates,
        "alert_form.html",
        {"admin": session, "form": form, "alert": None, "problems": [], "entity_names": names},
    )


def _entity_names(store: Store, entities: str) -> dict[int, str]:
    ids = [int(p) for p in entities.replace(",", " ").split() if p.isdigit() and len(p) < 18]
    return store.alerts.entity_names(ids)


@page_router.post("/alerts", name="create_alert_form")
def create_alert_form(
    request: Request,
    store: StoreDep,
    templates: TemplatesDep,
    auth: AuthDep,
    session: AdminSessionDep,
    posted: FormDep,
) -> Response:
    """Create an alert; a form with problems comes back filled in, each problem listed."""
    check_form_write(request, session, posted.csrf_token, auth)
    form = posted.model_dump(exclude={"csrf_token"})
    try:
        fields = _fields(request, store, form)
    except AlertInputError as err:
        return _render(
            request,
            templates,
            "alert_form.html",
            {
                "admin": session,
                "form": form,
                "alert": None,
                "problems": err.problems,
                "entity_names": _entity_names(store, posted.entities),
            },
            status=422,
        )
    alert = store.alerts.create(session.user.id, fields, auth.now())
    return RedirectResponse(request.url_for("alert_page", alert_id=alert.id), status_code=303)


@page_router.get("/alerts/{alert_id:int}", name="alert_page")
def alert_page(
    request: Request,
    store: StoreDep,
    templates: TemplatesDep,
    session: AdminSessionDep,
    alert_id: IdPath,
) -> Response:
    """One alert: its settings (editable), its webhook secret, what it owes, its delivery log."""
    alert = _owned(store, alert_id, session.user.id)
    return _detail(request, store, templates, session, alert, _form_of(alert), [])


def _detail(
    request: Request,
    store: Store,
    templates: TemplatesDep,
    session: Any,
    alert: Alert,
    form: dict[str, str],
    problems: list[str],
    status: int = 200,
) -> Response:
    context = {
        "admin": session,
        "alert": alert,
        "form": form,
        "problems": problems,
        "owed": {ch.value: store.alerts.count_owed(alert.id, ch) for ch in Channel},
        "deliveries": store.alerts.deliveries(alert.id),
        "entity_names": store.alerts.entity_names(alert.rule.entity_ids),
    }
    return _render(request, templates, "alert_form.html", context, status)


@page_router.post("/alerts/{alert_id:int}", name="update_alert_form")
def update_alert_form(
    request: Request,
    store: StoreDep,
    templates: TemplatesDep,
    auth: AuthDep,
    session: AdminSessionDep,
    alert_id: IdPath,
    posted: FormDep,
) -> Response:
    """Change an alert; it keeps what it matched and delivered so far."""
    check_form_write(request, session, posted.csrf_token, auth)
    alert = _owned(store, alert_id, session.user.id)
    form = posted.model_dump(exclude={"csrf_token"})
    try:
        fields = _fields(request, store, form)
    except AlertInputError as err:
        return _detail(request, store, templates, session, alert, form, err.problems, 422)
    store.alerts.update(alert_id, fields)
    return RedirectResponse(request.url_for("alert_page", alert_id=alert_id), status_code=303)


@page_router.post("/alerts/{alert_id:int}/delete", name="delete_alert_form")
def delete_alert_form(
    request: Request,
    store: StoreDep,
    auth: AuthDep,
    session: AdminSessionDep,
    alert_id: IdPath,
    csrf_token: CsrfField = "",
) -> Response:
    """Delete an alert with its matches and delivery log."""
    check_form_write(request, session, csrf_token, auth)
    _owned(store, alert_id, session.user.id)
    store.alerts.remove(alert_id)
    return RedirectResponse(request.url_for("alerts_page"), status_code=303)


# Unsubscribing: no login, the signed token is the permission


def _by_token(store: Store, token: str) -> Alert:
    alert_id = token_alert_id(token) if len(token) <= 100 else None
    alert = store.alerts.get(alert_id) if alert_id is not None else None
    if alert is None or not token_matches(alert, token):
        raise HTTPException(404, "This unsubscribe link is not valid (or its alert was deleted).")
    return alert


@page_router.get("/alerts/unsubscribe/{token}", name="unsubscribe_page")
def unsubscribe_page(
    request: Request, store: StoreDep, templates: TemplatesDep, token: str
) -> Response:
    """Confirm before unsubscribing: mail scanners follow links, a person presses the button."""
    alert = _by_token(store, token)
    return _render(
        request,
        templates,
        "alert_unsubscribe.html",
        {"alert": alert, "token": token, "done": False},
    )


@page_router.post("/alerts/unsubscribe/{token}", name="unsubscribe")
def unsubscribe(request: Request, store: StoreDep, templates: TemplatesDep, token: str) -> Response:
    """Stop the alert's e-mails (its webhook, if any, goes on); saying it twice is fine."""
    alert = _by_token(store, token)
    store.alerts.stop_email(alert.id)
    return _render(
        request, templates, "alert_unsubscribe.html", {"alert": alert, "token": token, "done": True}
    )


# JSON API


class AlertIn(BaseModel):
    """An alert to create or the new state of one (all fields, as on the form)."""

    name: str = Field("", max_length=200)
    query: str = Field("", max_length=500, description="Words in /search syntax")
    section: str | None = Field(None, max_length=40)
    source_id: int | None = Field(None, ge=1)
    entity_ids: list[int] = Field(default_factory=list, max_length=50)
    since: date | None = None
    frequency: str = Field("daily", description="immediate, hourly or daily")
    email: str | None = Field(None, max_length=320)
    webhook_url: str | None = Field(None, max_length=2000)


class DeliveryOut(BaseModel):
    channel: str
    status: str
    attempts: int
    articles: int
    last_error: str | None
    started_at: datetime
    finished_at: datetime


class AlertOut(BaseModel):
    id: int
    name: str
    query: str
    section: str | None
    source_id: int | None
    entity_ids: list[int]
    since: date | None
    frequency: str
    email: str | None
    email_enabled: bool
    webhook_url: str | None
    webhook_secret: str = Field(description="Key of the X-PrimeNews-Signature HMAC")
    last_sent_at: datetime | None
    last_error: str | None
    owed: dict[str, int] = Field(description="Matched articles not yet delivered, per channel")


class AlertList(BaseModel):
    alerts: list[AlertOut]


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]


def _out(store: Store, alert: Alert) -> AlertOut:
    rule = alert.rule
    return AlertOut(
        id=alert.id,
        name=alert.name,
        query=rule.query,
        section=rule.section,
        source_id=rule.source_id,
        entity_ids=list(rule.entity_ids),
        since=rule.since.date() if rule.since else None,
        frequency=alert.frequency.value,
        email=alert.email,
        email_enabled=alert.email_enabled,
        webhook_url=alert.webhook_url,
        webhook_secret=alert.webhook_secret,
        last_sent_at=alert.last_sent_at,
        last_error=alert.last_error,
        owed={ch.value: store.alerts.count_owed(alert.id, ch) for ch in alert.channels},
    )


def _api_fields(request: Request, store: Store, body: AlertIn) -> AlertFields:
    since = (
        datetime(body.since.year, body.since.month, body.since.day, tzinfo=UTC)
        if body.since
        else None
    )
    rule = AlertRule(
        body.query.strip(),
        (body.section or "").lower() or None,
        body.source_id,
        tuple(dict.fromkeys(body.entity_ids)),
        since,
    )
    try:
        return checked_alert(
            name=body.name,
            rule=rule,
            frequency=body.frequency,
            email=body.email,
            webhook_url=body.webhook_url,
            sections=SECTIONS,
            known_entities=store.alerts.existing_entities(rule.entity_ids),
            policy=FetchOptions.from_settings(request.app.state.settings).policy,
        )
    except AlertInputError as err:
        raise HTTPException(422, " ".join(err.problems)) from err


@api_router.get("/alerts", name="api_alerts", tags=["alerts"])
def list_alerts(store: StoreDep, user: ApiWriterDep) -> AlertList:
    """The token owner's alerts."""
    return AlertList(alerts=[_out(store, a) for a in store.alerts.list_alerts(user.id)])


@api_router.post("/alerts", name="api_create_alert", tags=["alerts"], status_code=201)
def create_alert(request: Request, store: StoreDep, user: ApiWriterDep, body: AlertIn) -> AlertOut:
    """Create a saved search or watchlist; it matches articles stored from now on."""
    fields = _api_fields(request, store, body)
    return _out(store, store.alerts.create(user.id, fields, datetime.now(UTC)))


@api_router.get("/alerts/{alert_id}", name="api_alert", tags=["alerts"])
def get_alert(store: StoreDep, user: ApiWriterDep, alert_id: IdPath) -> AlertOut:
    return _out(store, _owned(store, alert_id, user.id))


@api_router.put("/alerts/{alert_id}", name="api_update_alert", tags=["alerts"])
def update_alert(
    request: Request, store: StoreDep, user: ApiWriterDep, alert_id: IdPath, body: AlertIn
) -> AlertOut:
    """Replace an alert's settings; what it matched and delivered so far stays."""
    _owned(store, alert_id, user.id)
    updated = store.alerts.update(alert_id, _api_fields(request, store, body))
    assert updated is not None
    return _out(store, updated)


@api_router.delete("/alerts/{alert_id}", name="api_delete_alert", tags=["alerts"], status_code=204)
def delete_alert(store: StoreDep, user: ApiWriterDep, alert_id: IdPath) -> Response:
    _owned(store, alert_id, user.id)
    store.alerts.remove(alert_id)
    return Response(status_code=204)


@api_router.get("/alerts/{alert_id}/deliveries", name="api_alert_deliveries", tags=["alerts"])
def alert_deliveries(store: StoreDep, user: ApiWriterDep, alert_id: IdPath) -> DeliveryList:
    """The alert's delivery log, newest first: channel, status, attempts, last error."""
    _owned(store, alert_id, user.id)
    return DeliveryList(deliveries=[_delivery_out(d) for d in store.alerts.deliveries(alert_id)])


def _delivery_out(d: Delivery) -> DeliveryOut:
    return DeliveryOut(
        channel=d.channel.value,
        status=d.status,
        attempts=d.attempts,
        articles=d.articles,
        last_error=d.last_error,
        started_at=d.started_at,
        finished_at=d.finished_at,
    )
