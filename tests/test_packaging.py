"""What the project ships for installing it: pinned constraints, the lowest bounds CI tests,
the licence it declares, and a CI script that lints and type-checks."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _project() -> dict[str, object]:
    project: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def _direct_dependencies() -> set[str]:
    project = _project()
    requirements = list(project["dependencies"])  # type: ignore[call-overload]
    for extra in project["optional-dependencies"].values():  # type: ignore[attr-defined]
        requirements.extend(extra)
    names = {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower() for r in requirements}
    return {name.replace("_", "-") for name in names} - {"tutela"}


def _lowest_constraints() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lowest", ROOT / ".ci" / "lowest_constraints.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_constraints_pin_every_dependency_and_not_the_project() -> None:
    lines = [
        line
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    pinned = {}
    for line in lines:
        name, _, version = line.partition("==")
        assert version, line  # exact versions only
        pinned[name.lower().replace("_", "-")] = version
    assert "tutela" not in pinned
    assert _direct_dependencies() <= set(pinned), _direct_dependencies() - set(pinned)


def test_the_lowest_bounds_are_pinned_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "tutela"\ndependencies = ["httpx>=0.28", "PyYAML>=6.0.1"]\n'
        '[project.optional-dependencies]\nserver = ["uvicorn[standard]>=0.30", "tutela[llm]"]\n'
        'dev = ["ruff>=0.17,<0.18", "types-PyYAML",\n'
        "       \"psycopg[binary] >= 3.1.4 ; os_name != 'nt'\"]\n"
    )
    pins = _lowest_constraints().lowest_pins(tmp_path / "pyproject.toml")
    assert pins == [
        "httpx==0.28",
        "psycopg==3.1.4",
        "pyyaml==6.0.1",
        "ruff==0.17",
        "uvicorn==0.30",
    ]
    # Every direct dependency of the real project has a lower bound CI can test.
    real = {
        pin.split("==")[0] for pin in _lowest_constraints().lowest_pins(ROOT / "pyproject.toml")
    }
    assert real == _direct_dependencies() - {"types-pyyaml"}


def test_ci_lints_type_checks_and_tests_the_lowest_bounds() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    for command in (".venv/bin/ruff check .", ".venv/bin/ruff format --check .", ".venv/bin/mypy"):
        assert command in ci
    assert any("lowest_constraints.py" in line for line in ci)
    assert any(line.startswith(".venv-lowest/bin/python -m pytest") for line in ci)


def test_the_licence_file_is_the_declared_apache_2() -> None:
    assert _project()["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert 'Licensed under the Apache License, Version 2.0 (the "License");' in text


def test_the_constraints_satisfy_the_declared_ranges() -> None:
    from packaging.requirements import Requirement

    pinned = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pinned[name.lower().replace("_", "-")] = version
    project = _project()
    requirements = list(project["dependencies"])  # type: ignore[call-overload]
    for extra in project["optional-dependencies"].values():  # type: ignore[attr-defined]
        requirements.extend(extra)
    for text in requirements:
        requirement = Requirement(text)
        name = requirement.name.lower().replace("_", "-")
        if name != "tutela":
            assert requirement.specifier.contains(pinned[name]), (text, pinned[name])
