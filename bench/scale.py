"""Replaced by bench/pipeline.py (in-process vs 1 vs 2 queue workers, plus the reference).

.venv/bin/python bench/scale.py [args]  ==  .venv/bin/python bench/pipeline.py [args]
"""

from __future__ import annotations

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).with_name("pipeline.py")), run_name="__main__")
