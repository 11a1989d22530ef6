"""Real ``tutela serve`` processes for tests that need the whole product running."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def served(environment: dict[str, str], log: Path, timeout: float = 60) -> Iterator[str]:
    """``tutela serve`` on a free port with ``environment`` (beside no other TUTELA_* variable),
    its output in ``log``; its base URL once /health answers, stopped at the end."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTELA_")}
    env.update(environment)
    script = Path(sys.executable).parent / "tutela"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(script), "serve", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"tutela serve did not start: {log.read_text(errors='replace')}")
                time.sleep(0.1)
            yield base_url
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class DemoServer:
    """``tutela serve --demo`` in a child process; its stdout read line by line in a thread."""

    def __init__(self, data_dir: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port: int = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TUTELA_")}
        env.update(TUTELA_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", COLUMNS="200")
        script = Path(sys.executable).parent / "tutela"
        assert script.is_file(), f"console script not installed at {script}"
        self._stderr = (data_dir / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [str(script), "serve", "--demo", "--port", str(self.port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def wait_until_serving(self, timeout: float = 30.0) -> str:
        """What it printed up to "Serving on", once /health answers."""
        deadline = time.monotonic() + timeout
        output = ""
        while "Serving on" not in output:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no 'Serving on' line within {timeout}s; stdout: {output!r}")
            if line is None:
                pytest.fail(f"serve exited with {self.process.wait()}; stdout: {output!r}")
            output += line
        while True:
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return output
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"/health never answered 200; stdout: {output!r}")
            time.sleep(0.1)

    def stop(self) -> None:
        _stop(self.process)
        self._reader.join(timeout=5)
        self._stderr.close()
