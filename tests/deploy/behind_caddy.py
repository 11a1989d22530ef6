"""The proxy of deploy/compose.yaml, run for real: deploy/Caddyfile in a Caddy process before two
`tutela serve` processes with the `api` service's command and environment.

Run by tests/deploy/test_caddy.py inside network and mount namespaces of its own, where
/etc/hosts gives the name `api` two addresses (as Docker's DNS gives one per replica) and port
8000 on each is free. Prints what the clients saw as one JSON object; the test reads the rest
(which process answered, what the audit log recorded) from the logs and the database.

    python -m tests.deploy.behind_caddy FOLDER CADDY
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx

from tests.deploy import layout
from tests.deploy.processes import Processes, answers

API_ADDRESSES = ("127.0.0.2", "127.0.0.3")  # what the hosts file gives `api`
CLIENT_ADDRESSES = ("127.0.0.5", "127.0.0.6")  # two callers, as the proxy sees them
PROXY_PORT = 18080
REQUESTS = 30


def api_environment(folder: Path, address: str) -> dict[str, str]:
    """The `api` service's, with this machine's stand-ins: SQLite for PostgreSQL (no broker),
    and loopback as the edge network the proxy's requests come from."""
    env = layout.container_environment("api")
    env.pop("TUTELA_REDIS_URL")
    env.update(
        TUTELA_HOST=address,
        TUTELA_METRICS_HOST=address,
        TUTELA_DATA_DIR=str(folder / "data"),
        TUTELA_DATABASE_URL=f"sqlite:///{folder / 'data' / 'tutela.db'}",
        TUTELA_PLATFORM_KEY_FILE=str(folder / "platform.key"),
        TUTELA_JOB_BACKEND="inprocess",
        TUTELA_SCHEDULER_INTERVAL_SECONDS="0",
        TUTELA_RETENTION_INTERVAL_HOURS="0",
        TUTELA_FORWARDED_ALLOW_IPS="127.0.0.1/32",
    )
    return env


def main(folder: Path, caddy: str) -> dict[str, object]:
    processes = Processes(folder / "logs")
    try:
        for n, address in enumerate(API_ADDRESSES):
            env = api_environment(folder, address)
            processes.start(f"api-{n}", layout.container_command("api"), env)
            url = f"http://{address}:{env['TUTELA_PORT']}/health"
            processes.wait_for(lambda url=url: answers(url), url)
        caddy_home = folder / "caddy"
        processes.start(
            "caddy",
            [caddy, "run", "--config", str(layout.CADDYFILE), "--adapter", "caddyfile"],
            {
                "TUTELA_DOMAIN": f"http://localhost:{PROXY_PORT}",  # plain HTTP: no CA to trust
                "ACME_EMAIL": "ops@example.com",
                "HOME": str(caddy_home),
                "XDG_DATA_HOME": str(caddy_home / "data"),
                "XDG_CONFIG_HOME": str(caddy_home / "config"),
            },
        )
        proxy = f"http://localhost:{PROXY_PORT}"
        processes.wait_for(lambda: answers(f"{proxy}/health"), "the proxy")
        ready = [
            httpx.get(f"{proxy}/health/ready", timeout=10).status_code for _ in range(REQUESTS)
        ]
        refused = []
        for address in CLIENT_ADDRESSES:
            transport = httpx.HTTPTransport(local_address=address)
            with httpx.Client(transport=transport, timeout=10) as client:
                response = client.get(f"{proxy}/tenant/me", headers={"X-API-Key": "tut_wrong"})
                refused.append(response.status_code)
        return {"ready": ready, "refused": refused}
    finally:
        processes.stop_all()


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2])))
