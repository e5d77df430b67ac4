"""SQL for accounts, their sessions and their API tokens.

Plain functions take a connection; ``UserStore`` (``Store.users``) wraps each
in a short transaction, like ``Store`` does for sources and articles. Only
hashes of session and API tokens are stored (see ``auth.tokens``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from primenews.errors import StoreError
from primenews.store.schema import api_tokens, sessions, users


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    created_at: datetime
    last_login: datetime | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user with the hash to check a password against."""

    user: User
    password_hash: str


@dataclass(frozen=True, slots=True)
class Session:
    """A live login: who, the form token that goes with it, when it ends."""

    user: User
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    user_name: str
    name: str
    hint: str
    created_at: datetime
    last_used: datetime | None = None


def _user(row: Any) -> User:  # any row with the user columns
    return User(id=row.id, name=row.name, created_at=row.created_at, last_login=row.last_login)


_USER_COLUMNS = (users.c.id, users.c.name, users.c.created_at, users.c.last_login)


def add_user(conn: Connection, name: str, password_hash: str, now: datetime) -> User:
    """Create an account; a name already taken is a StoreError."""
    try:
        result = conn.execute(
            users.insert().values(name=name, password_hash=password_hash, created_at=now)
        )
    except IntegrityError as err:
        raise StoreError(f"There is already a user called {name!r}.") from err
    (user_id,) = result.inserted_primary_key or (None,)
    assert user_id is not None
    return User(id=int(user_id), name=name, created_at=now)


def credentials(conn: Connection, name: str) -> Credentials | None:
    row = conn.execute(
        select(*_USER_COLUMNS, users.c.password_hash).where(users.c.name == name)
    ).first()
    return Credentials(_user(row), row.password_hash) if row else None


def list_users(conn: Connection) -> list[User]:
    return [_user(row) for row in conn.execute(select(*_USER_COLUMNS).order_by(users.c.name))]


def remove_user(conn: Connection, name: str) -> bool:
    """Delete an account; its sessions and API tokens go with it."""
    user_id = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
    if user_id is None:
        return False
    # Explicit, not only ON DELETE CASCADE: SQLite honours that only with foreign_keys on.
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
    conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id))
    conn.execute(delete(users).where(users.c.id == user_id))
    return True


def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def start_session(
    conn: Connection, user_id: int, token_hash: str, csrf_token: str, now: datetime, ends: datetime
) -> None:
    """Record a new login; old expired sessions are swept at the same time."""
    conn.execute(delete(sessions).where(sessions.c.expires_at <= now))
    conn.execute(
        sessions.insert().values(
            token_hash=token_hash,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=ends,
        )
    )
    conn.execute(update(users).where(users.c.id == user_id).values(last_login=now))


def live_session(conn: Connection, token_hash: str, now: datetime) -> Session | None:
    """The session with this token hash, if it has not expired and its user still exists."""
    row = conn.execute(
        select(*_USER_COLUMNS, sessions.c.csrf_token, sessions.c.expires_at)
        .join_from(sessions, users, sessions.c.user_id == users.c.id)
        .where(sessions.c.token_hash == token_hash, sessions.c.expires_at > now)
    ).first()
    if row is None:
        return None
    return Session(user=_user(row), csrf_token=row.csrf_token, expires_at=row.expires_at)


def end_session(conn: Connection, token_hash: str) -> bool:
    return bool(conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash)).rowcount)


def add_api_token(
    conn: Connection, user: User, name: str, token_hash: str, hint: str, now: datetime
) -> ApiToken:
    result = conn.execute(
        api_tokens.insert().values(
            user_id=user.id, name=name, token_hash=token_hash, hint=hint, created_at=now
        )
    )
    (token_id,) = result.inserted_primary_key or (None,)
    assert token_id is not None
    return ApiToken(id=int(token_id), user_name=user.name, name=name, hint=hint, created_at=now)


def list_api_tokens(conn: Connection, user_id: int | None = None) -> list[ApiToken]:
    query = (
        select(api_tokens, users.c.name.label("user_name"))
        .join_from(api_tokens, users, api_tokens.c.user_id == users.c.id)
        .order_by(api_tokens.c.id)
    )
    if user_id is not None:
        query = query.where(api_tokens.c.user_id == user_id)
    return [
        ApiToken(
            id=row.id,
            user_name=row.user_name,
            name=row.name,
            hint=row.hint,
            created_at=row.created_at,
            last_used=row.last_used,
        )
        for row in conn.execute(query)
    ]


def revoke_api_token(conn: Connection, token_id: int, user_id: int | None = None) -> bool:
    """Delete a token (only one of ``user_id``'s when given); False when there is none."""
    query = delete(api_tokens).where(api_tokens.c.id == token_id)
    if user_id is not None:
        query = query.where(api_tokens.c.user_id == user_id)
    return bool(conn.execute(query).rowcount)


def api_token_user(conn: Connection, token_hash: str, now: datetime) -> User | None:
    """The owner of the token with this hash (None for an unknown or revoked one)."""
    row = conn.execute(
        select(*_USER_COLUMNS, api_tokens.c.id.label("token_id"))
        .join_from(api_tokens, users, api_tokens.c.user_id == users.c.id)
        .where(api_tokens.c.token_hash == token_hash)
    ).first()
    if row is None:
        return None
    conn.execute(update(api_tokens).where(api_tokens.c.id == row.token_id).values(last_used=now))
    return _user(row)


class UserStore:
    """The account functions above, each in its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_user(self, name: str, password_hash: str, now: datetime) -> User:
        with self.engine.begin() as conn:
            return add_user(conn, name, password_hash, now)

    def credentials(self, name: str) -> Credentials | None:
        with self.engine.connect() as conn:
            return credentials(conn, name)

    def list_users(self) -> list[User]:
        with self.engine.connect() as conn:
            return list_users(conn)

    def remove_user(self, name: str) -> bool:
        with self.engine.begin() as conn:
            return remove_user(conn, name)

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self.engine.begin() as conn:
            set_password_hash(conn, user_id, password_hash)

    def start_session(
        self, user_id: int, token_hash: str, csrf_token: str, now: datetime, ends: datetime
    ) -> None:
        with self.engine.begin() as conn:
            start_session(conn, user_id, token_hash, csrf_token, now, ends)

    def live_session(self, token_hash: str, now: datetime) -> Session | None:
        with self.engine.connect() as conn:
            return live_session(conn, token_hash, now)

    def end_session(self, token_hash: str) -> bool:
        with self.engine.begin() as conn:
            return end_session(conn, token_hash)

    def add_api_token(
        self, user: User, name: str, token_hash: str, hint: str, now: datetime
    ) -> ApiToken:
        with self.engine.begin() as conn:
            return add_api_token(conn, user, name, token_hash, hint, now)

    def list_api_tokens(self, user_id: int | None = None) -> list[ApiToken]:
        with self.engine.connect() as conn:
            return list_api_tokens(conn, user_id)

    def revoke_api_token(self, token_id: int, user_id: int | None = None) -> bool:
        with self.engine.begin() as conn:
            return revoke_api_token(conn, token_id, user_id)

    def api_token_user(self, token_hash: str, now: datetime) -> User | None:
        with self.engine.begin() as conn:
            return api_token_user(conn, token_hash, now)
