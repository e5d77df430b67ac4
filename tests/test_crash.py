"""SIGKILL `primenews ingest` at random moments over real pages; nothing lost, nothing twice.

The harness is bench/crash.py (its docstring says what it checks); here it runs
two kills over six pages so the suite stays quick. The 20-kill run is the
benchmark, recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from shared_data import SHARED_DATA, require_shared

BENCH = Path(__file__).resolve().parents[1] / "bench" / "crash.py"


def load_harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_crash", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_killed_ingests_lose_nothing_and_store_nothing_twice(tmp_path: Path) -> None:
    require_shared(SHARED_DATA / "trafilatura_eval_news")
    crash = load_harness()
    folder = tmp_path / "pages"
    assert crash.make_corpus(folder, 6) == 6
    report = crash.crash_ingest(folder, tmp_path / "crash.sqlite3", kills=2, seed=5)
    assert report.kills == 2
    assert report.killed_mid_write >= 1, "at least one kill landed among the writes"
    assert report.lost == []
    assert report.duplicates == []
    assert report.integrity == "ok"
    assert report.articles == report.final_accounted == 6
