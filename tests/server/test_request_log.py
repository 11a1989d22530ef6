import logging

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
