"""The account core: password hashing, tokens, rate limits (no web, no SQL)."""

from __future__ import annotations

import argon2
import pytest

import primenews.auth
from primenews.auth import PasswordHasher, RateLimiter, hash_token, new_token, same_secret
from primenews.auth.passwords import check_password_strength


def test_exports_are_honest() -> None:
    assert all(hasattr(primenews.auth, name) for name in primenews.auth.__all__)


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher(argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def test_hashes_are_argon2id_salted_and_checked(hasher: PasswordHasher) -> None:
    first, second = hasher.hash("correct horse battery"), hasher.hash("correct horse battery")
    assert first.startswith("$argon2id$") and first != second, "a fresh salt each time"
    assert hasher.verify(first, "correct horse battery")
    assert not hasher.verify(first, "correct horse batterY")
    assert not hasher.verify(first, "x" * 5000), "over the cap: refused without hashing"


@pytest.mark.parametrize("damaged", ["", "plain text", "$argon2id$v=19$m=1024,t=1,p=1$AAAA$BBBB",
                                     "$2b$12$notargon"])  # fmt: skip
def test_a_damaged_hash_is_a_wrong_password(hasher: PasswordHasher, damaged: str) -> None:
    assert hasher.verify(damaged, "anything at all") is False
    assert hasher.needs_rehash(damaged) is True


def test_weaker_hashes_ask_to_be_redone(hasher: PasswordHasher) -> None:
    assert PasswordHasher().needs_rehash(hasher.hash("correct horse battery"))
    hasher.verify_dummy("whatever")  # spends time, answers nothing, never raises


@pytest.mark.parametrize(
    ("password", "name", "problem"),
    [("short", "", "at least 10"), ("x" * 1025, "", "at most 1024"),
     ("alice-alice", "ALICE-ALICE", "user name"), ("long enough pw", "alice", None)],
)  # fmt: skip
def test_password_rules(password: str, name: str, problem: str | None) -> None:
    found = check_password_strength(password, name)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_tokens_are_random_and_kept_as_hashes() -> None:
    tokens = {new_token("pn_") for _ in range(100)}
    assert len(tokens) == 100 and all(t.startswith("pn_") and len(t) == 46 for t in tokens)
    token = tokens.pop()
    assert hash_token(token) == hash_token(token) and len(hash_token(token)) == 64
    assert same_secret(token, token) and not same_secret(token, token[:-1] + "x")
    assert not same_secret("é\udcff", "e")  # odd input is a mismatch, not an error


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    limit = RateLimiter(6, clock=clock)  # 6 a minute: one every 10 s
    assert [limit.take("a") for _ in range(6)] == [0.0] * 6
    assert limit.take("a") == pytest.approx(10.0)
    assert limit.take("b") == 0.0, "another key, another bucket"
    clock.now += 10
    assert limit.take("a") == 0.0
    assert limit.take("a") > 0
    clock.now += 3600
    assert [limit.take("a") for _ in range(7)].count(0.0) == 6, "refills up to the burst only"


def test_bucket_count_is_capped() -> None:
    clock = Clock()
    limit = RateLimiter(1, clock=clock, max_buckets=100)
    for n in range(1000):
        limit.take(f"10.0.{n // 256}.{n % 256}")
    assert len(limit._buckets) == 100
    assert limit.take("10.0.3.231") > 0, "recent keys are kept"
    assert limit.take("10.0.0.0") == 0.0, "the oldest were dropped (a fresh bucket)"
