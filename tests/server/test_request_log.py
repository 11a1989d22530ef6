import logging
from typing import Any

import pytest

from tests.platform import Platform


def test_each_request_is_logged_with_key_prefix_never_the_key(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = platform.tenant()
    with caplog.at_level(logging.INFO, logger="tutela.http"):
        platform.client.get("/tenant/me?token=one-time-value", headers=tenant.headers)
    lines = [r.getMessage() for r in caplog.records if r.name == "tutela.http"]
    assert len(lines) == 1
    assert "path=/tenant/me " in lines[0]
    assert "status=200" in lines[0]
    assert f"key={tenant.owner_key[:12]}" in lines[0]
    assert tenant.owner_key not in caplog.text
    assert "one-time-value" not in caplog.text


@pytest.mark.parametrize(
    ("send", "status"),
    [
        (lambda c: c.get("/report/COMP-20261201-000000%00"), 422),  # refused before routing
        (lambda c: c.put("/tenant/subscriptions", content=b"[" * 2_000_000), 413),  # by size
    ],
    ids=["unstorable-path", "declared-too-large"],
)
def test_a_request_refused_before_routing_is_logged_too(
    platform: Platform, caplog: pytest.LogCaptureFixture, send: Any, status: int
) -> None:
    with caplog.at_level(logging.INFO, logger="tutela.http"):
        assert send(platform.client).status_code == status
    lines = [r.getMessage() for r in caplog.records if r.name == "tutela.http"]
    assert len(lines) == 1
    assert f"status={status}" in lines[0]
