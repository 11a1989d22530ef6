"""The example pipelines' set-up as written: installing Tutela, and creating the pipeline's key.

``tests/cli/test_gate.py`` runs their ``tutela gate`` steps; here the steps before them: the
install step with a wheel built from this checkout, and the operator commands in the comments
that make the pipeline's user and key, run with bash as an operator would paste them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.platform import Platform
from tutela.server.audit.models import AuditEvent
from tutela.server.config import Settings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [
    ROOT / "examples" / "github-actions" / "tutela-gate.yml",
    ROOT / "examples" / "gitlab-ci" / ".gitlab-ci.yml",
    ROOT / "examples" / "azure-pipelines" / "azure-pipelines.yml",
]
SETUP_DOCS = [*EXAMPLES, ROOT / "docs" / "ci-gating.md"]
SCRIPTS = Path(sys.executable).parent


def key_commands(text: str) -> list[str]:
    """The operator commands that make the pipeline's user and key (in comments or prose)."""
    commands = []
    for line in text.splitlines():
        command = line.strip().lstrip("#").strip().strip("`")
        if command.startswith(("tutela admin add-user ", "tutela keys create ")):
            commands.append(command)
    return commands


def install_commands(text: str) -> list[str]:
    """The pipeline's install step(s), as the runner's shell gets them."""
    found = re.findall(r"^\s*(?:- )?(?:run:|script:|-)\s*(pip install .*)$", text, flags=re.M)
    # Azure Pipelines expands $(NAME) macros before the shell runs the script.
    return [re.sub(r"\$\((\w+)\)", r"$\1", command) for command in found]


def _bash(command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_no_setup_installs_a_package_that_is_published_nowhere() -> None:
    for path in [*SETUP_DOCS, ROOT / "README.md", ROOT / "docs" / "sdk.md"]:
        text = path.read_text()
        assert not re.search(r"pip install (--\S+ )*['\"]?tutela\b(?![-/.])", text), path


@pytest.mark.parametrize("path", SETUP_DOCS, ids=lambda p: p.parent.name + "/" + p.name)
def test_the_key_creation_step_works_as_written(
    settings_factory, tmp_path: Path, path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings: Settings = settings_factory()
    with Platform(settings) as platform:
        tenant = platform.tenant("professional")
    commands = key_commands(path.read_text())
    assert [c.split(" --")[0] for c in commands] == ["tutela admin add-user", "tutela keys create"]
    env = {
        "PATH": f"{SCRIPTS}{os.pathsep}{os.environ['PATH']}",
        "LANG": "C.UTF-8",
        "TUTELA_DATA_DIR": str(settings.data_dir),
    }
    outputs = []
    for command in commands:
        done = _bash(command.replace("--tenant ID", f"--tenant {tenant.id}"), env, tmp_path)
        assert done.returncode == 0, (command, done.stderr)
        outputs.append(done.stdout)
    secret = outputs[-1].strip().splitlines()[-1].strip()
    assert secret.startswith("tut_")

    with Platform(settings) as platform:
        whoami = platform.client.get("/api-keys/current", headers={"X-API-Key": secret})
        assert whoami.status_code == 200, whoami.text
        assert sorted(whoami.json()["scopes"]) == ["report:read", "scan:run"]
        assert whoami.json()["tenant_id"] == tenant.id
        with platform.db() as session:
            added = session.scalars(
                select(AuditEvent).where(
                    AuditEvent.tenant_id == tenant.id, AuditEvent.action == "user.created"
                )
            ).all()
        assert len(added) == 1
        assert added[0].actor.startswith("tutela CLI")


def test_add_user_refuses_a_second_user_with_the_same_email(settings_factory) -> None:  # type: ignore[no-untyped-def]
    settings: Settings = settings_factory()
    with Platform(settings) as platform:
        tenant = platform.tenant("professional")
    env = {**os.environ, "TUTELA_DATA_DIR": str(settings.data_dir)}
    add = [str(SCRIPTS / "tutela"), "admin", "add-user", "--tenant", tenant.id]
    first = subprocess.run(
        [*add, "--email", "ci@example.com", "--role", "auditor"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    assert "(auditor) added to tenant" in first.stdout
    again = subprocess.run(
        [*add, "--email", "ci@example.com", "--role", "member"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 1
    assert again.stderr.strip() == "error: A user with this email already exists in this tenant"
    owner = subprocess.run(
        [*add, "--email", "x@example.com", "--role", "owner"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert owner.returncode == 2  # not a role an operator gives: each tenant has its owner


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, as the README's "Install" builds it."""
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    [path] = out.glob("tutela-*.whl")
    return path


def test_the_wheel_carries_the_licence_it_declares(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
        [licence] = [n for n in names if n.endswith("/LICENSE")]
        assert archive.read(licence) == (ROOT / "LICENSE").read_bytes()
    assert "License-Expression: Apache-2.0" in text
    assert (
        "Apache License\n                           Version 2.0, January 2004"
        in (ROOT / "LICENSE").read_text()
    )


def test_the_example_pipelines_install_step_works_as_written(wheel: Path, tmp_path: Path) -> None:
    """Each pipeline's install step in a fresh environment, TUTELA_PACKAGE the built wheel."""
    commands = {c for path in EXAMPLES for c in install_commands(path.read_text())}
    assert commands, "no install step found"
    venv = tmp_path / "runner"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "LANG": "C.UTF-8",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "TUTELA_PACKAGE": str(wheel),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for command in sorted(commands):
        done = _bash(command, env, tmp_path)
        assert done.returncode == 0, (command, done.stderr[-3000:])
    for cli in (["tutela", "gate", "--help"], ["tutela", "scan", "--help"]):
        shown = subprocess.run(
            cli, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert shown.returncode == 0, shown.stderr
    # The light install: the gate and the scanner, without the server's packages.
    light = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import fastapi"],
        capture_output=True,
        check=False,
    )
    assert light.returncode != 0
