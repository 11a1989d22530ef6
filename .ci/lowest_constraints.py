"""Print a constraints file pinning every direct dependency to its declared lower bound.

CI installs the project with it into a second environment and runs tests there: a ``>=X`` in
pyproject.toml is a promise that X works, and only installing X checks it.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

# "name[extras]>=1.2,<2 ; marker": the name, and the version after ">=".
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*)")
LOWER_BOUND = re.compile(r">=\s*([^,\s]+)")


def lowest_pins(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = REQUIREMENT.match(requirement)
        if match is None:
            continue
        name, versions = match.group(1), match.group(2)
        if name.lower() == project["name"]:  # the project's own extras
            continue
        bound = LOWER_BOUND.search(versions)
        if bound is not None:
            pins[name.lower()] = bound.group(1)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    print("\n".join(lowest_pins(root / "pyproject.toml")))
