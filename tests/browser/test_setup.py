"""The browser tests' setup is installed by the project's own files, the same way everywhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_test_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"\*\*Test it\*\*.*?```sh\n(.*?)```", readme, re.S)
    assert block, "README's first screen has a 'Test it' shell block"
    return block.group(1).strip().splitlines()


def test_readme_and_ci_run_the_same_commands() -> None:
    """Every README test command is a line of .ci/run, in order (.ci/run only adds the guard
    that skips the PostgreSQL run, saying so, when PostgreSQL does not answer)."""
    readme = _readme_test_commands()
    script = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    positions = [script.index(command) for command in readme]
    assert positions == sorted(positions)
    commands = [line for line in script if line and not line.startswith(("#", "set ", "cd "))]
    guard = [line for line in commands if line not in readme]
    assert all(line.startswith(("if ", "else", "fi", "echo ", '"')) for line in guard), guard


def test_setup_installs_what_the_browser_tests_use() -> None:
    commands = "\n".join(_readme_test_commands())
    assert "apt-get install -y chromium" in commands
    assert "npm ci" in commands
    assert "playwright install" not in commands  # Playwright's own browser download
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert "node_modules/axe-core" in lock["packages"]
    assert '"playwright' in (ROOT / "pyproject.toml").read_text()
