"""Account operations shared by the CLI and the web: checked, hashed, then stored."""

from __future__ import annotations

import re
from datetime import datetime

from primenews.auth.passwords import PasswordHasher, check_password_strength
from primenews.auth.tokens import API_TOKEN_PREFIX, hash_token, new_token
from primenews.errors import PrimeNewsError
from primenews.store import Store
from primenews.store.users import ApiToken, User

USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
TOKEN_HINT_LENGTH = len(API_TOKEN_PREFIX) + 6  # "pn_" and six characters: enough to tell apart


class AccountError(PrimeNewsError):
    """A user name, password or token that cannot be used, with what to do instead."""


def create_user(
    store: Store, hasher: PasswordHasher, name: str, password: str, now: datetime
) -> User:
    """Add an admin account.

    Raises:
        AccountError: the name has characters outside ``[A-Za-z0-9._@-]`` or the password
            is too short or too long.
        StoreError: the name is taken.
    """
    if not USER_NAME.fullmatch(name):
        raise AccountError(
            f"{name!r} is not a user name: use 1-100 letters, digits and . _ @ - "
            "(starting with a letter or digit)."
        )
    problem = check_password_strength(password, name)
    if problem:
        raise AccountError(problem[0].upper() + problem[1:] + ".")
    return store.users.add_user(name, hasher.hash(password), now)


def create_api_token(store: Store, user: User, label: str, now: datetime) -> tuple[ApiToken, str]:
    """A new API token for ``user``: what is stored about it, and the token itself (shown once)."""
    token = new_token(API_TOKEN_PREFIX)
    stored = store.users.add_api_token(
        user, label.strip()[:100] or "unnamed", hash_token(token), token[:TOKEN_HINT_LENGTH], now
    )
    return stored, token
