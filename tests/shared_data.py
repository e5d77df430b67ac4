"""Paths to ../shared (data sets and the seed article), used by path and never copied."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_DATA = SHARED / "data"
SEED_DIR = SHARED / "golden" / "seed-article"


def require_shared(path: Path) -> Path:
    """The path under ../shared, or skip the test with the reason."""
    if not path.exists():
        pytest.skip(f"{path} is missing: the shared data sets sit beside the repository")
    return path
