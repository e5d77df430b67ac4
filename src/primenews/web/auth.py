"""Logging in and out, and what guards every write: sessions, CSRF tokens, API tokens, limits.

- A login makes a server-side session row; the cookie holds a random token whose
  SHA-256 is the row's key (``HttpOnly``, ``SameSite=Lax``, ``Secure`` over https
  or when ``cookie_secure`` is set). Logging out deletes the row, so a copied
  cookie is dead from then on; so is one past ``session_max_age_hours``.
- Every form that writes carries the session's CSRF token (synchroniser token)
  and the handler compares it in constant time. The login form, which has no
  session yet, uses a signed double-submit token: a random nonce in a cookie and
  its HMAC (under ``signing_key``) in the form.
- The JSON API's write endpoints take ``Authorization: Bearer <token>``; cookies
  are not accepted there, so no cross-site page can write through the API.
- Login attempts are limited per client address and per user name, writes per
  client address: in-process token buckets (``auth.ratelimit``), right for one
  machine; several web processes would each allow the full rate.

The referrer policy is ``no-referrer``, so browsers send ``Origin: null`` on
our own form posts: an Origin check would refuse them, the tokens do the work.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from primenews.auth import PasswordHasher, RateLimiter, hash_token, new_token, same_secret
from primenews.auth.passwords import MAX_PASSWORD_LENGTH
from primenews.auth.tokens import sign
from primenews.config import Settings
from primenews.store.users import Session, User
from primenews.web.deps import StoreDep, TemplatesDep
from primenews.web.errors import ErrorBody

logger = logging.getLogger(__name__)

SESSION_COOKIE = "primenews_session"
LOGIN_COOKIE = "primenews_login"  # the nonce of the login form's double-submit token
NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter(include_in_schema=False)


@dataclass(slots=True)
class AuthState:
    """What the app keeps for authentication: the hasher, the limits, the signing key."""

    hasher: PasswordHasher
    login_limit: RateLimiter
    write_limit: RateLimiter
    signing_key: bytes
    session_lifetime: timedelta
    cookie_secure: bool
    now: Callable[[], datetime]


def build_auth_state(settings: Settings, *, hasher: PasswordHasher | None = None) -> AuthState:
    """The app's authentication state from settings (a random key when none is set)."""
    key = settings.signing_key.encode() if settings.signing_key else secrets.token_bytes(32)
    return AuthState(
        hasher=hasher or PasswordHasher(),
        login_limit=RateLimiter(settings.login_attempts_per_minute, clock=time.monotonic),
        write_limit=RateLimiter(settings.write_requests_per_minute, clock=time.monotonic),
        signing_key=key,
        session_lifetime=timedelta(hours=settings.session_max_age_hours),
        cookie_secure=settings.cookie_secure,
        now=lambda: datetime.now(UTC),
    )


def get_auth(request: Request) -> AuthState:
    return cast(AuthState, request.app.state.auth)


AuthDep = Annotated[AuthState, Depends(get_auth)]


def client_address(request: Request) -> str:
    """The peer's address (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return request.client.host if request.client else "unknown"


def _limit(limiter: RateLimiter, key: str, what: str) -> None:
    wait = limiter.take(key)
    if wait > 0:
        seconds = max(1, int(wait + 0.999))
        raise HTTPException(
            429,
            f"Too many {what}: try again in {seconds} s.",
            headers={"Retry-After": str(seconds)},
        )


# Sessions


def current_session(request: Request, store: StoreDep, auth: AuthDep) -> Session | None:
    """The logged-in admin's session, or None (no cookie, unknown, expired, user removed)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or len(token) > 200:
        return None
    return store.users.live_session(hash_token(token), auth.now())


OptionalSessionDep = Annotated[Session | None, Depends(current_session)]


def admin_session(session: OptionalSessionDep) -> Session:
    """The session of a logged-in admin; anyone else gets 401 and a pointer to /login."""
    if session is None:
        raise HTTPException(401, "Log in first: this needs an admin account (/login).")
    return session


AdminSessionDep = Annotated[Session, Depends(admin_session)]
CsrfField = Annotated[str, Form(max_length=200)]


def check_form_write(request: Request, session: Session, csrf_token: str, auth: AuthState) -> None:
    """Refuse a form post without this session's CSRF token (403) or over the write limit (429)."""
    if not csrf_token or not same_secret(csrf_token, session.csrf_token):
        raise HTTPException(403, "The form has expired or did not come from this site: reload it.")
    _limit(auth.write_limit, client_address(request), "changes")


def _set_cookie(
    response: Response, request: Request, auth: AuthState, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=auth.cookie_secure or request.url.scheme == "https",
    )


# API tokens


# Declared through FastAPI's HTTPBearer so OpenAPI shows the scheme (and /api/docs an
# "Authorize" button); auto_error off, so a missing token gets our own 401 in the API's shape.
bearer_token = HTTPBearer(
    auto_error=False,
    scheme_name="API token",
    description="Create one with `primenews tokens add --user NAME` or on /tokens.",
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_token)]


def api_writer(request: Request, store: StoreDep, auth: AuthDep, bearer: BearerDep) -> User:
    """The owner of the request's ``Authorization: Bearer`` token, within the write limit.

    Raises:
        HTTPException: 401 without a valid token (unknown, revoked, its user removed),
            429 over the write limit.
    """
    _limit(auth.write_limit, client_address(request), "writes")
    token = bearer.credentials if bearer is not None else ""
    user = None
    if token and len(token) <= 200:
        user = store.users.api_token_user(hash_token(token), auth.now())
    if user is None:
        raise HTTPException(
            401,
            "This needs an API token: send Authorization: Bearer <token> "
            "(create one with `primenews tokens add` or on /tokens).",
            headers={"WWW-Authenticate": 'Bearer realm="primenews"'},
        )
    return user


ApiWriterDep = Annotated[User, Depends(api_writer)]
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No valid API token"},
    429: {"model": ErrorBody, "description": "Too many writes from this address; see Retry-After"},
}


# Login and logout


# A path on this site: one slash, then no slash or backslash, and no space or control character
# anywhere (browsers drop tabs and newlines, so "/\t/evil.example" would become "//evil.example").
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\s\x00-\x1f\x7f]*")


def _local_path(target: str) -> str:
    """``target`` when it is a path on this site, else /sources (no open redirect)."""
    return target if _LOCAL_PATH.fullmatch(target) else "/sources"


def _login_page(
    request: Request,
    templates: Any,
    auth: AuthState,
    *,
    next_path: str,
    message: str = "",
    name: str = "",
    status_code: int = 200,
) -> Response:
    nonce = new_token()
    context = {
        "nav": "login",
        "csrf_token": sign(auth.signing_key, nonce),
        "next_path": _local_path(next_path),
        "message": message,
        "name": name,
    }
    response: Response = templates.TemplateResponse(
        request, "login.html", context, status_code=status_code, headers=NO_STORE
    )
    _set_cookie(response, request, auth, LOGIN_COOKIE, nonce, max_age=3600)
    return response


@router.get("/login", name="login_page")
def login_page(
    request: Request,
    templates: TemplatesDep,
    auth: AuthDep,
    session: OptionalSessionDep,
    next: str = "/sources",
) -> Response:
    """The login form (an admin already logged in goes straight on)."""
    if session is not None:
        return RedirectResponse(_local_path(next), status_code=303)
    return _login_page(request, templates, auth, next_path=next)


@router.post("/login", name="login")
def login(
    request: Request,
    store: StoreDep,
    templates: TemplatesDep,
    auth: AuthDep,
    name: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)] = "",
    csrf_token: CsrfField = "",
    next: Annotated[str, Form(max_length=2000)] = "/sources",
) -> Response:
    """Check the name and password; on success start a session and go on to ``next``."""
    _limit(auth.login_limit, "address:" + client_address(request), "login attempts")
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not csrf_token or not same_secret(csrf_token, sign(auth.signing_key, nonce)):
        raise HTTPException(403, "The login form has expired or did not come from this site.")
    name = name.strip()
    _limit(auth.login_limit, "name:" + name.casefold(), "login attempts for this user")
    found = store.users.credentials(name) if name else None
    if found is None:
        auth.hasher.verify_dummy(password)  # same time as a real check: names stay secret
    if found is None or not auth.hasher.verify(found.password_hash, password):
        logger.warning("failed login for %r from %s", name, client_address(request))
        return _login_page(
            request, templates, auth, next_path=next, name=name, status_code=401,
            message="Wrong user name or password.",
        )  # fmt: skip
    if auth.hasher.needs_rehash(found.password_hash):
        store.users.set_password_hash(found.user.id, auth.hasher.hash(password))
    token, now = new_token(), auth.now()
    store.users.start_session(
        found.user.id, hash_token(token), new_token(), now, now + auth.session_lifetime
    )
    logger.info("%s logged in from %s", found.user.name, client_address(request))
    response = RedirectResponse(_local_path(next), status_code=303)
    lifetime = int(auth.session_lifetime.total_seconds())
    _set_cookie(response, request, auth, SESSION_COOKIE, token, max_age=lifetime)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout", name="logout")
def logout(
    request: Request,
    store: StoreDep,
    auth: AuthDep,
    session: AdminSessionDep,
    csrf_token: CsrfField = "",
) -> Response:
    """End the session (its cookie is worthless afterwards) and go to the front page."""
    check_form_write(request, session, csrf_token, auth)
    store.users.end_session(hash_token(request.cookies.get(SESSION_COOKIE, "")))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
