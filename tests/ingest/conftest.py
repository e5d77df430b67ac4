"""Ingest fixtures: a real HTTP publisher on 127.0.0.1 (see tests/publisher.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# tests/publisher.py is meant for every test package; until pyproject sets pytest's
# ``pythonpath = ["tests"]``, make it importable from here.
_TESTS_DIR = str(Path(__file__).resolve().parents[1])
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from publisher import PublisherServer  # noqa: E402


@pytest.fixture
def publisher() -> Iterator[PublisherServer]:
    """A started publisher server; stopped after the test."""
    with PublisherServer() as server:
        yield server
