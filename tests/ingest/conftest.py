"""Ingest fixtures: a real HTTP publisher on 127.0.0.1 (see tests/publisher.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from publisher import PublisherServer  # tests/ is on pytest's pythonpath


@pytest.fixture
def publisher() -> Iterator[PublisherServer]:
    """A started publisher server; stopped after the test."""
    with PublisherServer() as server:
        yield server


@pytest.fixture
def tls_publisher() -> Iterator[PublisherServer]:
    """A started HTTPS publisher whose certificate names ``publisher.test``."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    with PublisherServer(tls_names=["publisher.test"]) as server:
        yield server
