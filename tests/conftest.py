"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_DATA = SHARED / "data"
SEED_DIR = SHARED / "golden" / "seed-article"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No PRIMENEWS_* variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("PRIMENEWS_"):
            monkeypatch.delenv(name)
    yield


def require_shared(path: Path) -> Path:
    """The path under ../shared, or skip the test with the reason."""
    if not path.exists():
        pytest.skip(f"{path} is missing: the shared data sets sit beside the repository")
    return path
