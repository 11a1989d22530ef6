"""Schemathesis against both OpenAPI documents of a real ``tutela serve``: no 500, no spec lie.

Every check and every phase (examples, coverage, fuzzing, stateful), derandomized, over
whatever operations the documents hold. The public document is run with a tenant owner's key
that the run cannot revoke (``schemathesis_hooks.py``), then the admin document with an
operator's key. Azure is unreachable (a proxy that refuses), so scans of a tenant the run gave
credentials answer 502, as documented. The same command by hand is in docs/api-conformance.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_settings, new_postgres_database
from tests.platform import Platform
from tests.serving import free_port, served
from tutela.server.migrate import upgrade

pytest.importorskip("schemathesis")

REPO = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
# Cases per operation in the fuzzing phase: the coverage phase adds its own edge cases; the
# whole test stays under a minute and a half for both backends on a 2-core machine.
MAX_EXAMPLES = 5


@dataclass
class Seeded:
    tenant_key: str
    tenant_key_id: str
    operator_key: str
    operator_key_id: str


def _refusing_proxy() -> str:
    """A proxy address nothing listens on: every HTTPS request is refused at once."""
    return f"http://127.0.0.1:{free_port()}"


@dataclass
class Server:
    base_url: str
    seeded: Seeded
    log: Path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    database = new_postgres_database() if request.param == "postgres" else nullcontext(None)
    with database as url:
        settings = make_settings(tmp_path, **({"database_url": url} if url else {}))
        upgrade(settings.resolved_database_url)
        with Platform(settings) as platform:
            tenant = platform.tenant("enterprise")
            operator = platform.operator_key()
            seeded = Seeded(
                tenant.owner_key,
                platform.key_id(tenant.owner_key),
                operator,
                platform.key_id(operator),
            )
        environment = {
            "TUTELA_DATA_DIR": str(tmp_path),
            "TUTELA_RATE_LIMIT": "100000/minute",
            "TUTELA_LOG_LEVEL": "WARNING",
            "HTTPS_PROXY": _refusing_proxy(),
            "PYTHONUNBUFFERED": "1",
        }
        if url:
            environment["TUTELA_DATABASE_URL"] = url
        log = tmp_path / "serve.log"
        with served(environment, log, timeout=30) as base_url:
            yield Server(base_url, seeded, log)


def run_schemathesis(
    spec_url: str, key: str, key_id: str, report: Path
) -> subprocess.CompletedProcess[str]:
    """``st run`` with every check and phase; the command docs/api-conformance.md shows.

    Every check runs by default (the config file shows the one exception); ``--checks all``
    would override that exception too.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTELA_")}
    env.update(
        PYTHONPATH=str(REPO),
        SCHEMATHESIS_HOOKS="tests.server.schemathesis_hooks",
        PROTECTED_KEY_ID=key_id,
    )
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file",
        str(CONFIG),
        "run",
        spec_url,
        "--header",
        f"X-API-Key: {key}",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "1",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    return subprocess.run(
        command,
        env=env,
        cwd=report.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_schemathesis_finds_no_server_error_and_no_spec_violation(
    server: Server, tmp_path: Path
) -> None:
    seeded = server.seeded
    # The public document first: the admin run may suspend the tenant whose key it used.
    runs = [
        ("/openapi.json", seeded.tenant_key, seeded.tenant_key_id, "/api-keys/current"),
        ("/admin/openapi.json", seeded.operator_key, seeded.operator_key_id, "/admin/tenants"),
    ]
    for spec, key, key_id, own in runs:
        report = tmp_path / f"junit-{spec.strip('/').replace('/', '-')}.xml"
        result = run_schemathesis(f"{server.base_url}{spec}", key, key_id, report)
        summary = result.stdout[-6000:]
        assert result.returncode == 0, f"schemathesis failed on {spec}:\n{summary}\n{result.stderr}"
        assert re.search(r"\b[1-9][0-9]* generated, [1-9][0-9]* passed", result.stdout), summary
        # The key was never revoked: the run went on authenticated to the end.
        still = httpx.get(f"{server.base_url}{own}", headers={"X-API-Key": key}, timeout=5)
        assert still.status_code == 200, still.text
    assert "unhandled_error" not in server.log.read_text()
