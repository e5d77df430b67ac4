"""Accounts: password hashing, secret tokens and rate limits, free of web and SQL.

Every account is an administrator: Prime News has one role, the people who
manage its sources. Reading the site and the API needs no account.
"""

from primenews.auth.passwords import PasswordHasher, check_password_strength
from primenews.auth.ratelimit import RateLimiter
from primenews.auth.tokens import hash_token, new_token, same_secret

__all__ = [
    "PasswordHasher",
    "RateLimiter",
    "check_password_strength",
    "hash_token",
    "new_token",
    "same_secret",
]
