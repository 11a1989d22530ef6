"""One real ``tutela serve --demo`` for the SDK tests, its demo key, an operator, new tenants."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serving import DemoServer
from tutela import Session

KEY = re.compile(r"\btut_[A-Za-z0-9]+")

# A one-resource ARM template with failing checks: IaC scans need no linked subscription.
ARM_TEMPLATE: dict[str, Any] = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "resources": [
        {
            "type": "Microsoft.CognitiveServices/accounts",
            "apiVersion": "2024-10-01",
            "name": "aoai-sdk-test",
            "location": "westeurope",
            "kind": "OpenAI",
            "sku": {"name": "S0"},
            "properties": {"publicNetworkAccess": "Enabled", "disableLocalAuth": False},
        }
    ],
}


@dataclass(frozen=True)
class Tenant:
    id: str
    key: str
    plan: str


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path
    demo_key: str
    operator_key: str

    def session(self, key: str | None = None, **options: Any) -> Session:
        return Session(self.url, key or self.demo_key, **options)


def _operator_key(data_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTELA_")}
    env["TUTELA_DATA_DIR"] = str(data_dir)
    script = Path(sys.executable).parent / "tutela"
    done = subprocess.run(
        [str(script), "keys", "create", "--operator", "ops@example.com"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    match = KEY.search(done.stdout)
    assert match, done.stdout
    return match.group(0)


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("sdk-server")
    demo = DemoServer(data_dir)
    try:
        output = demo.wait_until_serving()
        match = KEY.search(output)
        assert match, output
        yield LiveServer(demo.base_url, data_dir, match.group(0), _operator_key(data_dir))
    finally:
        demo.stop()


@pytest.fixture(scope="package")
def new_tenant(server: LiveServer) -> Callable[[str], Tenant]:
    """Creates a tenant on ``plan`` through the admin API (plain httpx, not the SDK)."""
    numbers = itertools.count()

    def create(plan: str = "enterprise") -> Tenant:
        response = httpx.post(
            f"{server.url}/admin/tenants",
            json={
                "owner_email": f"owner{next(numbers)}@{plan.replace('_', '-')}.example.com",
                "plan": plan,
            },
            headers={"X-API-Key": server.operator_key},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return Tenant(body["tenant"]["id"], body["owner_key"]["key"], plan)

    return create


@pytest.fixture
def session(server: LiveServer) -> Iterator[Session]:
    """The demo tenant's owner: enterprise, two linked subscriptions with snapshots."""
    with server.session() as session:
        yield session
