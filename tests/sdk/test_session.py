"""Session configuration: URL and key from arguments or the environment, headers, lifecycle."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys

import pytest

from tests.sdk.conftest import LiveServer
from tests.sdk.scripted import Reply, ScriptedServer
from tutela import AsyncSession, Session

HEALTH = {"status": "ok", "version": "1"}


def test_url_and_key_fall_back_to_the_environment(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUTELA_URL", server.url + "/")
    monkeypatch.setenv("TUTELA_API_KEY", server.demo_key)
    with Session() as session:
        assert session.url == server.url
        assert session.tenant.me().plan_id == "enterprise"


@pytest.mark.parametrize(
    ("url", "key", "message"),
    [
        (None, "tut_x", "No Tutela URL: pass url=... or set TUTELA_URL"),
        ("http://127.0.0.1:1", None, "No API key: pass api_key=... or set TUTELA_API_KEY"),
        ("127.0.0.1:8000", "tut_x", "Invalid Tutela URL '127.0.0.1:8000'"),
    ],
    ids=["no-url", "no-key", "no-scheme"],
)
def test_missing_or_invalid_configuration_is_a_clear_value_error(
    url: str | None, key: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Session(url, key)
    with pytest.raises(ValueError, match=re.escape(message)):
        AsyncSession(url, key)


def test_bad_options_are_value_errors() -> None:
    with pytest.raises(ValueError, match="retries must be 0 or more"):
        Session("http://127.0.0.1:1", "tut_x", retries=-1)
    with pytest.raises(ValueError, match="timeout must be more than 0"):
        Session("http://127.0.0.1:1", "tut_x", timeout=0)


def test_repr_never_shows_the_key() -> None:
    session = Session("http://127.0.0.1:1", "tut_SecretKeyValue123")
    assert repr(session) == "Session(url='http://127.0.0.1:1')"
    assert "tut_SecretKeyValue123" not in repr(session.__dict__)
    session.close()


def test_base_url_with_a_path_prefix_and_closing() -> None:
    with ScriptedServer(Reply(200, HEALTH), Reply(200, HEALTH)) as fake:
        with Session(fake.url + "/tutela/", "tut_x") as session:
            session.health()
        assert session._client.is_closed

        async def scenario() -> AsyncSession:
            async with AsyncSession(fake.url + "/tutela", "tut_x") as session:
                await session.health()
            return session

        closed = asyncio.run(scenario())
    assert closed._client.is_closed
    assert [r.path for r in fake.received] == ["/tutela/health", "/tutela/health"]


def test_import_tutela_is_cheap_and_the_sdk_never_imports_the_server() -> None:
    code = (
        "import sys, tutela\n"
        "assert 'httpx' not in sys.modules and 'tutela.sdk' not in sys.modules\n"
        "from tutela import Session, AsyncSession\n"
        "import tutela.sdk\n"
        "assert Session is tutela.sdk.Session and AsyncSession is tutela.sdk.AsyncSession\n"
        "heavy = ('tutela.server', 'fastapi', 'sqlalchemy')\n"
        "loaded = [m for m in sys.modules if m.startswith(heavy)]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
