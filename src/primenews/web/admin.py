"""What a logged-in admin can change on the site: sources and API tokens.

Every handler here needs an admin session and the session's CSRF token
(``web.auth.check_form_write``) and answers a successful change with a 303 back
to the page it came from. ``tests/web/test_auth_forms.py`` checks that every
form post of the app refuses a missing or forged token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from primenews.auth.accounts import create_api_token
from primenews.domain import Source, SourceKind
from primenews.web.api import notify_source_added
from primenews.web.auth import NO_STORE, AdminSessionDep, AuthDep, CsrfField, check_form_write
from primenews.web.deps import IdPath, SourceHookDep, StoreDep, TemplatesDep
from primenews.web.schemas import MAX_URL_LENGTH, NewSource

router = APIRouter(include_in_schema=False)


@router.post("/sources/add", name="add_source_form")
async def add_source_form(
    request: Request,
    store: StoreDep,
    auth: AuthDep,
    session: AdminSessionDep,
    hook: SourceHookDep,
    url: Annotated[str, Form(max_length=MAX_URL_LENGTH)] = "",
    kind: Annotated[str, Form(max_length=20)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    """Add a source from the sources page; the poller resolves it like an API-added one."""
    # async like the API's add_source, so the hook runs on the event loop's thread.
    check_form_write(request, session, csrf_token, auth)
    try:
        wanted = NewSource(url=url, kind=SourceKind(kind) if kind else None)
    except (ValidationError, ValueError) as err:
        raise HTTPException(
            422, "Not a source URL: give an http(s) address of a feed, sitemap or site."
        ) from err
    source = Source(url=wanted.url, kind=wanted.kind or SourceKind.FEED)
    stored, created = await run_in_threadpool(store.add_source, source, datetime.now(UTC))
    if created and hook is not None:
        notify_source_added(hook, stored)
    return RedirectResponse(request.url_for("sources_page"), status_code=303)


@router.post("/sources/{source_id:int}/remove", name="remove_source_form")
def remove_source_form(
    request: Request,
    store: StoreDep,
    auth: AuthDep,
    session: AdminSessionDep,
    source_id: IdPath,
    csrf_token: CsrfField = "",
) -> Response:
    """Stop polling a source; its articles stay."""
    check_form_write(request, session, csrf_token, auth)
    if not store.remove_source(source_id):
        raise HTTPException(404, f"No source with id {source_id}")
    return RedirectResponse(request.url_for("sources_page"), status_code=303)


def _tokens_page(
    request: Request,
    templates: TemplatesDep,
    store: StoreDep,
    session: AdminSessionDep,
    *,
    new_token_value: str = "",
) -> Response:
    context = {
        "nav": "tokens",
        "admin": session,
        "tokens": store.users.list_api_tokens(),
        "new_token": new_token_value,
    }
    response: Response = templates.TemplateResponse(
        request, "tokens.html", context, headers=NO_STORE
    )
    return response


@router.get("/tokens", name="tokens_page")
def tokens_page(
    request: Request, templates: TemplatesDep, store: StoreDep, session: AdminSessionDep
) -> Response:
    """Every API token (owner, name, first characters, last use) and a form for a new one."""
    return _tokens_page(request, templates, store, session)


@router.post("/tokens", name="add_token_form")
def add_token_form(
    request: Request,
    templates: TemplatesDep,
    store: StoreDep,
    auth: AuthDep,
    session: AdminSessionDep,
    name: Annotated[str, Form(max_length=100)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    """Create a token for the logged-in admin and show it, once."""
    check_form_write(request, session, csrf_token, auth)
    _, token = create_api_token(store, session.user, name, auth.now())
    return _tokens_page(request, templates, store, session, new_token_value=token)


@router.post("/tokens/{token_id:int}/revoke", name="revoke_token_form")
def revoke_token_form(
    request: Request,
    store: StoreDep,
    auth: AuthDep,
    session: AdminSessionDep,
    token_id: IdPath,
    csrf_token: CsrfField = "",
) -> Response:
    """Revoke a token: requests carrying it get 401 from now on."""
    check_form_write(request, session, csrf_token, auth)
    if not store.users.revoke_api_token(token_id):
        raise HTTPException(404, f"No API token with id {token_id}")
    return RedirectResponse(request.url_for("tokens_page"), status_code=303)
