"""Behind a reverse proxy: `tutela serve` takes the caller's address from X-Forwarded-For only
when the request comes from an address of TUTELA_FORWARDED_ALLOW_IPS. Sign-in attempts are
limited per caller address, so the limit shows which address the server believed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.serving import served

SIGN_IN = {"email": "nobody@example.com", "password": "not the password"}


def statuses(url: str) -> list[int]:
    """One failed sign-in from each of two callers, both relayed by a proxy on 127.0.0.1."""
    return [
        httpx.post(
            f"{url}/auth/sign-in", json=SIGN_IN, headers={"X-Forwarded-For": caller}, timeout=30
        ).status_code
        for caller in ("203.0.113.7", "198.51.100.9")
    ]


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        ("127.0.0.0/8", [401, 401]),  # two callers: one attempt each
        ("10.0.0.0/8", [401, 429]),  # the proxy is not trusted: one caller, 127.0.0.1
        (None, [401, 401]),  # unset: uvicorn's default, the proxy on 127.0.0.1
    ],
)
def test_the_caller_address_comes_from_trusted_proxies_only(
    tmp_path: Path, trusted: str | None, expected: list[int]
) -> None:
    environment = {"TUTELA_DATA_DIR": str(tmp_path), "TUTELA_SIGN_IN_LIMIT": "1/minute"}
    if trusted is not None:
        environment["TUTELA_FORWARDED_ALLOW_IPS"] = trusted
    with served(environment, tmp_path / "serve.log") as url:
        assert statuses(url) == expected
