"""``tutela admin settings show|set|reset`` and create-tenant's default plan."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from tests.cli.test_cli import api, assert_one_line_error, data_dir, ok, one_secret, tutela

__all__ = ["api", "data_dir"]  # fixtures


def test_set_show_and_reset_a_setting(data_dir: Path, api: TestClient) -> None:
    shown = ok("admin", "settings", "show").stdout
    assert "default_plan" in shown
    assert '"free_trial"' in shown
    assert "database" not in shown

    changed = ok("admin", "settings", "set", "plan_quotas", '{"starter": 2}').stdout
    assert '"starter": 2' in changed
    assert "database" in changed
    ok("admin", "settings", "set", "default_plan", "starter")
    ok("admin", "settings", "set", "rate_limit", "50/second")

    created = ok("admin", "create-tenant", "--email", "a@bank.example")
    assert "(plan: starter)" in created.stdout
    # The running app applies what the command stored within TUTELA_SETTINGS_REFRESH_SECONDS.
    headers = {"X-API-Key": one_secret(created.stdout)}
    deadline = time.monotonic() + 5
    while (me := api.get("/tenant/me", headers=headers).json())["scan_limit"] != 2:
        assert time.monotonic() < deadline, me
        time.sleep(0.1)
    assert me["plan_id"] == "starter"

    reset = ok("admin", "settings", "reset", "plan_quotas").stdout
    assert '"starter": 25' in reset


def test_bad_settings_are_one_line_errors(data_dir: Path) -> None:
    ok("db", "upgrade")
    for args, expected in [
        (["set", "colour", "blue"], ["no setting 'colour'", "default_plan"]),
        (["set", "rate_limit", "lots"], ["rate_limit", "not a rate limit"]),
        (["set", "default_plan", "gold"], ["default_plan", "Unknown plan"]),
        (["set", "plan_quotas", '{"starter": -1}'], ["plan_quotas", "greater than or equal"]),
        (["set", "narratives_enabled", "true"], ["No model is configured"]),
        (["reset", "colour"], ["no setting 'colour'"]),
    ]:
        assert_one_line_error(tutela("admin", "settings", *args), *expected)
    assert "database" not in ok("admin", "settings", "show").stdout
