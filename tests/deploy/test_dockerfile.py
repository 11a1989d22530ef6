"""The Dockerfile, read with dockerfile-parse (no Docker engine on the build machine): a builder
and a slim runtime stage, an unprivileged numeric user, a healthcheck the app answers, `tutela`
as entrypoint, no secret baked in; and the wheel the builder installs carries every file the
server reads at run time."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.deploy import layout
from tests.platform import Platform


def instructions(stage: list[dict[str, str]], name: str) -> list[str]:
    return [i["value"] for i in stage if i["instruction"] == name]


def test_a_builder_stage_and_a_runtime_stage_that_copies_only_the_venv() -> None:
    builder, runtime = layout.stages()
    assert builder[0]["value"].endswith(" AS builder")
    assert runtime[0]["value"].endswith(" AS runtime")
    assert layout.dockerfile().baseimage.startswith("python:3.12.")  # a pinned patch release
    assert "slim" in layout.dockerfile().baseimage
    assert any("pip wheel" in run for run in instructions(builder, "RUN"))
    assert any("--constraint constraints.txt" in run for run in instructions(builder, "RUN"))
    assert any("[server]" in run for run in instructions(builder, "RUN"))
    assert instructions(runtime, "COPY") == ["--from=builder /opt/tutela /opt/tutela"]
    for run in instructions(runtime, "RUN"):  # no compiler, no package manager at run time
        assert not re.search(r"apt-get|pip install|gcc|build-essential", run), run


def test_the_runtime_runs_as_a_numeric_unprivileged_user_and_writes_only_to_data() -> None:
    runtime = layout.stages()[-1]
    [user] = instructions(runtime, "USER")
    assert re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", user), user  # numeric: runAsNonRoot checks
    environment = layout.image_environment()
    assert environment["PYTHONDONTWRITEBYTECODE"] == "1"
    assert environment["TUTELA_DATA_DIR"] == "/data"
    assert instructions(runtime, "VOLUME") == ['["/data"]']
    assert instructions(runtime, "EXPOSE") == [environment["TUTELA_PORT"]]
    assert environment["TUTELA_HOST"] == "0.0.0.0"  # noqa: S104 (a container's own network)
    assert any(f"chown {user} /data" in run for run in instructions(runtime, "RUN"))


def test_entrypoint_command_labels_and_no_secret_in_the_image() -> None:
    runtime = layout.stages()[-1]
    assert layout.entrypoint() == ["tutela"]
    assert instructions(runtime, "CMD") == ['["serve"]']
    labels = layout.dockerfile().labels
    for name in ("title", "version", "licenses", "description"):
        assert labels[f"org.opencontainers.image.{name}"], name
    secret = re.compile(r"KEY|SECRET|PASSWORD|TOKEN", re.IGNORECASE)
    for stage in layout.stages():
        for instruction in stage:
            if instruction["instruction"] in ("ENV", "ARG"):
                assert not secret.search(instruction["value"]), instruction["value"]


def test_the_image_healthcheck_asks_a_route_the_app_serves(platform: Platform) -> None:
    command = layout.healthcheck_of_image()
    assert command[0] == "python"
    path = layout.health_path(command)
    assert "get" in platform.client.get("/openapi.json").json()["paths"][path]
    assert platform.client.get(path).status_code == 200


def test_the_wheel_the_builder_installs_carries_what_the_server_reads(tmp_path: Path) -> None:
    needed_by_copy = ["pyproject.toml", "constraints.txt", "README.md", "LICENSE", "src"]
    ignored = [
        line.strip()
        for line in layout.DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for name in needed_by_copy:
        assert (layout.ROOT / name).exists(), name
        assert not any(fnmatch.fnmatch(name, pattern) for pattern in ignored), name
    assert {".git", ".venv", ".env", "*.key", "tests"} <= set(ignored)

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), "."],
        cwd=layout.ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    [wheel] = tmp_path.glob("tutela-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    source = layout.ROOT / "src"
    data = {
        path.relative_to(source).as_posix()
        for path in (source / "tutela").rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    }
    migrations = {
        path.relative_to(source).as_posix()
        for path in (source / "tutela/server/migrations/versions").glob("*.py")
    }
    kinds = {
        "migrations": "tutela/server/migrations/",
        "catalogue": "tutela/scanner/catalog/",
        "templates": "tutela/server/web/templates/",
        "static": "tutela/server/web/static/",
    }
    for kind, prefix in kinds.items():
        assert any(name.startswith(prefix) for name in data | migrations), kind
    assert not (data | migrations) - packed
    assert any(name.endswith("entry_points.txt") for name in packed)
