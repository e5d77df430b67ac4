"""Random tokens (sessions, API tokens, CSRF) and how they are kept.

Tokens are 256 random bits, so a plain SHA-256 of one is as good as argon2 and
costs nothing per request: the store keeps only that hash, and a copy of the
database gives no one a live session or API token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_TOKEN_PREFIX = "pn_"  # makes a leaked token easy to spot (secret scanners, logs)


def new_token(prefix: str = "") -> str:
    """A fresh random token: 32 bytes, URL-safe base64, after ``prefix``."""
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hex SHA-256 of a token, which is what the store keeps."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Compare two secrets in constant time (no timing hint of how much matched)."""
    return hmac.compare_digest(
        given.encode("utf-8", "replace"), expected.encode("utf-8", "replace")
    )


def sign(key: bytes, value: str) -> str:
    """An HMAC-SHA256 of ``value`` under ``key``, hex."""
    return hmac.new(key, value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
