"""Password hashing with argon2id (argon2-cffi), and the few rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; a cap keeps a hostile login cheap to refuse


def check_password_strength(password: str, name: str = "") -> str | None:
    """What is wrong with a new password, or None when it will do."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password may have at most {MAX_PASSWORD_LENGTH} characters"
    if name and password.casefold() == name.casefold():
        return "the password must not be the user name"
    return None


class PasswordHasher:
    """argon2id hashes with argon2-cffi's defaults (RFC 9106's low-memory profile).

    ``verify`` never raises for a wrong password or a damaged hash: it answers False.
    ``verify_dummy`` spends the same time as a real check, so a login for a name that
    does not exist takes as long as one for a name that does (no user enumeration).
    """

    def __init__(self, hasher: _Argon2 | None = None) -> None:
        self._hasher = hasher or _Argon2()
        self._dummy = ""  # made on first use: building an app should not cost a hash

    def _dummy_hash(self) -> str:
        if not self._dummy:
            self._dummy = self._hasher.hash("not a real password, only spends the same time")
        return self._dummy

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        if len(password) > MAX_PASSWORD_LENGTH:
            return False
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_dummy(self, password: str) -> None:
        self.verify(self._dummy_hash(), password[:MAX_PASSWORD_LENGTH])

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with weaker parameters than ours today."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except (InvalidHashError, ValueError):
            return True
