"""The README's promise: two Quickstart commands, and CI runs the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quickstart_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [block.strip() for block in blocks[:2]]


def test_quickstart_has_a_start_and_a_test_command() -> None:
    start, test = quickstart_commands()
    assert "tutela serve --demo" in start
    assert "\n" not in start
    assert "pytest" in test
    assert "\n" not in test


def test_ci_runs_the_readme_test_command() -> None:
    _, test = quickstart_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert test in ci.splitlines()
    assert "TUTELA_REQUIRE_SERVICES=1" in ci
