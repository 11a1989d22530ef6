"""The seed's CI gate, run as GitHub Actions would run it, against a real ``tutela serve --demo``.

The step is the seed's text with only its URL replaced by the local server's (and
``${{ github.sha }}`` filled in, as Actions does before bash sees it). It runs under Actions'
bash invocation with curl and jq. On the demo's sample estate it blocks (exit 1, the critical
finding printed); once the demo's subscriptions hold a clean snapshot, it passes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import service_unavailable
from tests.server.scans.estates import (
    ANONYMOUS_REGISTRY,
    clean_records,
    export,
    sample_records,
    sample_subscriptions,
)
from tests.serving import DemoServer

SEED_URL = "https://app.trustguardia.com"
# The seed's step, verbatim (the `run: |` block of "Run Guardia compliance gate").
SEED_STEP = """\
RESULT=$(curl -s -X POST https://app.trustguardia.com/scan \\
-H "X-API-Key: $GUARDIA_KEY" \\
-H "Content-Type: application/json" \\
-d '{"frameworks":["iso42001","sr11_7"],"scan_label":"${{ github.sha }}"}')
CRITICAL=$(echo $RESULT | jq '.critical_count')
if [[ $CRITICAL -gt 0 ]]; then
echo "❌ BLOCKED: $CRITICAL critical compliance findings"
echo "$RESULT" | jq '.findings[] | select(.severity=="critical")'
exit 1
fi
echo "✅ Compliance gate passed"
"""
KEY = re.compile(r"\btut_[A-Za-z0-9]+")
TIMEOUT = 60


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoServer]:
    server = DemoServer(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tools() -> None:
    for tool in ("bash", "curl", "jq"):
        if shutil.which(tool) is None:
            service_unavailable(tool, "not on PATH")


def run_gate(base_url: str, key: str, sha: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """The seed's step as Actions runs a bash step: ``bash --noprofile --norc -eo pipefail``."""
    assert SEED_STEP.count(SEED_URL) == 1
    script = workdir / f"gate-{sha}.sh"
    script.write_text(SEED_STEP.replace(SEED_URL, base_url).replace("${{ github.sha }}", sha))
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env={"PATH": os.environ["PATH"], "GUARDIA_KEY": key, "LANG": "C.UTF-8"},
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.mark.usefixtures("tools")
def test_the_seeds_ci_gate_blocks_on_the_demo_then_passes_once_clean(
    demo: DemoServer, tmp_path: Path
) -> None:
    output = demo.wait_until_serving()
    keys = KEY.findall(output)
    assert len(keys) == 1, output
    key = keys[0]
    headers = {"X-API-Key": key}
    workdir = tmp_path / "runner"
    workdir.mkdir()

    blocked = run_gate(demo.base_url, key, "0f74f404188c1351aaaa", workdir)

    assert blocked.returncode == 1, (blocked.stdout, blocked.stderr)
    lines = blocked.stdout.splitlines()
    assert lines[0] == "❌ BLOCKED: 1 critical compliance findings"
    assert "Compliance gate passed" not in blocked.stdout
    printed = "\n".join(lines[1:])
    assert '"severity": "critical"' in printed
    assert '"check_id": "ACR-ANON-PULL"' in printed
    assert ANONYMOUS_REGISTRY in printed

    with httpx.Client(base_url=demo.base_url, headers=headers, timeout=TIMEOUT) as client:
        linked = client.get("/tenant/me").json()["azure_subscription_ids"]
        assert sorted(linked) == sorted(sample_subscriptions())
        for subscription_id in linked:
            response = client.put(
                f"/tenant/subscriptions/{subscription_id}/snapshot",
                json=export(clean_records(sample_records(subscription_id))),
            )
            assert response.status_code == 200, response.text

        passed = run_gate(demo.base_url, key, "0f74f404188c1351bbbb", workdir)

        assert passed.returncode == 0, (passed.stdout, passed.stderr)
        assert passed.stdout == "✅ Compliance gate passed\n"
        # Both runs were real scans, saved with the commit as their label. (The demo's
        # governance scan at start-up is the other type.)
        items: list[dict[str, Any]] = client.get("/reports?type=manual").json()["items"]
    assert [(i["label"], i["critical_count"]) for i in items] == [
        ("0f74f404188c1351bbbb", 0),
        ("0f74f404188c1351aaaa", 1),
    ]
    assert all(i["type"] == "manual" for i in items)
