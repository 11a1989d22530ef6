"""Containers as plain processes: a service's command with its environment, each in its own
process group (a worker and its pool), its output in a log, all stopped at the end."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.workers import stop_groups


class Processes:
    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, command: list[str], environment: dict[str, str]) -> None:
        """The command with ``environment`` beside no other TUTELA_* variable, as in a container."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TUTELA_")}
        env.update(environment)
        with (self.logs / f"{name}.log").open("wb") as log:
            self.started.append(
                subprocess.Popen(
                    command,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def run(self, name: str, command: list[str], environment: dict[str, str]) -> str:
        """A one-shot command to completion (exit 0); its output."""
        self.start(name, command, environment)
        process = self.started.pop()
        code = process.wait(timeout=120)
        output = self.output(name)
        assert code == 0, f"{name} exited {code}:\n{output}"
        return output

    def output(self, name: str | None = None) -> str:
        logs = [self.logs / f"{name}.log"] if name else sorted(self.logs.glob("*.log"))
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')}" for p in logs)

    def wait_for(self, condition: Callable[[], Any], what: str, timeout: float = 90) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            for process in self.started:
                if process.poll() is not None:
                    pytest.fail(f"a process exited {process.returncode}:\n{self.output()[-6000:]}")
            time.sleep(0.2)
        pytest.fail(f"timed out waiting for {what}:\n{self.output()[-6000:]}")

    def stop_all(self) -> None:
        stop_groups(self.started, grace=20)


def answers(url: str, status: int = 200) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == status
    except httpx.TransportError:
        return False
