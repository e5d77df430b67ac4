"""Helpers for the stories tests: document builders and the benchmark's loaders."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from primenews.stories import StoryDoc

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 8, 13, 6, 0, tzinfo=UTC)


def doc(
    doc_id: str,
    title: str,
    text: str = "",
    *,
    hours: float = 0.0,
    outlet: str = "",
    language: str = "en",
    url: str = "",
) -> StoryDoc:
    """A StoryDoc published ``hours`` after 2026-08-13 06:00 UTC."""
    return StoryDoc(
        id=doc_id,
        title=title,
        text=text,
        url=url or f"https://{outlet or 'example'}.test/{doc_id}",
        outlet=outlet or "example",
        published=T0 + timedelta(hours=hours),
        language=language,
    )


MakeDoc = Callable[..., StoryDoc]


@pytest.fixture(name="doc")
def doc_fixture() -> MakeDoc:
    """The :func:`doc` builder (test modules here cannot import this conftest by name)."""
    return doc


@pytest.fixture(scope="session")
def bench() -> ModuleType:
    """bench/clustering.py, imported by path (it holds the data loaders the gates share)."""
    spec = importlib.util.spec_from_file_location(
        "bench_clustering", ROOT / "bench" / "clustering.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
