"""docs/sdk.md: its Python blocks run, in order, against the real server; every call is shown."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.sdk.conftest import LiveServer, Tenant
from tutela import Session
from tutela.sdk import _exceptions, _resources

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_every_python_block_runs_against_a_real_server(
    server: LiveServer,
    new_tenant: Callable[[str], Tenant],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tenant = new_tenant("enterprise")  # a fresh tenant: the doc links, uploads and deletes
    monkeypatch.setenv("TUTELA_URL", server.url)
    monkeypatch.setenv("TUTELA_API_KEY", tenant.key)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "doc-test-client-secret-of-forty-characters")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "sdk_docs"}
    blocks = python_blocks()
    assert len(blocks) >= 15
    for number, block in enumerate(blocks, 1):
        code = compile(block, f"docs/sdk.md python block {number}", "exec")
        exec(code, namespace)  # noqa: S102 - the documentation's own examples
    printed = capsys.readouterr().out
    assert "status='ok'" in printed
    assert "doc-test-client-secret" not in printed
    assert tenant.key not in printed
    assert (tmp_path / "tutela.sarif").is_file()


def test_every_typed_call_is_documented() -> None:
    text = DOC.read_text()
    session = Session("http://127.0.0.1:1", "tut_x")
    groups = {
        name: type(value)
        for name, value in vars(session).items()
        if type(value).__module__ in (_resources.__name__, _exceptions.__name__)
    }
    assert set(groups) == {
        "frameworks",
        "plans",
        "tenant",
        "snapshots",
        "scans",
        "reports",
        "governance",
        "keys",
        "encryption",
        "users",
        "exceptions",
    }
    missing = [
        f"session.{group}.{method}("
        for group, cls in groups.items()
        for method, _ in inspect.getmembers(cls, inspect.isfunction)
        if not method.startswith("_") and f".{group}.{method}(" not in text
    ]
    missing += [f"session.{m}(" for m in ("health", "scopes") if f"session.{m}()" not in text]
    for verb in ("fetch", "create", "update", "remove"):
        if f"session.connection.{verb}(" not in text:
            missing.append(f"session.connection.{verb}(")
    session.close()
    assert not missing, missing
