"""GET and PATCH /admin/settings: defaults, changes, resets, validation, audit, scopes, secrets."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.platform import Platform, auth
from tests.server.platform_settings.helpers import (
    change,
    changed,
    operator_key,
    retire_operator_key,
    shown,
)
from tutela.server.auth.scopes import Scope
from tutela.server.config import Settings, load_settings

CATALOGUE_QUOTAS = {"free_trial": 3, "starter": 25, "professional": 100, "enterprise": None}


def audit_events(platform: Platform) -> list[dict[str, Any]]:
    response = platform.client.get(
        "/admin/audit-events",
        params={"action": "platform_settings.changed"},
        headers=auth(operator_key(platform)),
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_fresh_install_runs_on_the_environment_and_the_catalogue(operated: Platform) -> None:
    body = shown(operated)
    runtime = body["runtime"]
    assert set(runtime) == {
        "default_plan",
        "plan_quotas",
        "rate_limit",
        "tenant_rate_limit",
        "narratives_enabled",
        "email_from",
    }
    assert {state["source"] for state in runtime.values()} == {"default"}
    assert all(s["updated_at"] is None and s["updated_by"] is None for s in runtime.values())
    assert all(state["value"] == state["default"] for state in runtime.values())
    assert runtime["default_plan"]["value"] == "free_trial"
    assert runtime["plan_quotas"]["value"] == CATALOGUE_QUOTAS
    assert runtime["rate_limit"]["value"] == operated.settings.rate_limit
    assert runtime["tenant_rate_limit"]["value"] == operated.settings.tenant_rate_limit
    assert runtime["narratives_enabled"]["value"] is False  # no TUTELA_LLM_* model
    assert runtime["email_from"]["value"] == "Tutela <tutela@localhost>"
    # Every start-up setting is listed.
    assert set(body["startup"]) == set(Settings.model_fields)
    assert body["startup"]["data_dir"] == str(operated.settings.data_dir)
    assert audit_events(operated) == []


def test_a_change_is_stored_shown_and_audited_with_old_and_new_values(
    operated: Platform,
) -> None:
    key = operator_key(operated)
    body = changed(
        operated,
        key,
        default_plan="starter",
        plan_quotas={"starter": 5, "enterprise": 1000},
        email_from="Compliance Desk <desk@bank.example.com>",
    )
    runtime = body["runtime"]
    assert runtime["default_plan"]["value"] == "starter"
    assert runtime["default_plan"]["default"] == "free_trial"
    assert runtime["plan_quotas"]["value"] == {**CATALOGUE_QUOTAS, "starter": 5, "enterprise": 1000}
    assert runtime["plan_quotas"]["default"] == CATALOGUE_QUOTAS
    assert runtime["email_from"]["value"] == "Compliance Desk <desk@bank.example.com>"
    for name in ("default_plan", "plan_quotas", "email_from"):
        assert runtime[name]["source"] == "database"
        assert runtime[name]["updated_by"].endswith(f"(key {key[:12]}…)")
        assert runtime[name]["updated_at"].endswith("Z")
    assert runtime["rate_limit"]["source"] == "default"
    assert shown(operated)["runtime"] == runtime

    [event] = audit_events(operated)
    assert event["tenant_id"] is None
    assert event["target"] == "platform"
    assert event["details"] == {
        "default_plan": {"old": "free_trial", "new": "starter"},
        "plan_quotas": {
            "old": CATALOGUE_QUOTAS,
            "new": {**CATALOGUE_QUOTAS, "starter": 5, "enterprise": 1000},
        },
        "email_from": {
            "old": "Tutela <tutela@localhost>",
            "new": "Compliance Desk <desk@bank.example.com>",
        },
    }
    # The same values again change nothing, so nothing more is audited.
    changed(operated, key, default_plan="starter")
    assert len(audit_events(operated)) == 1


def test_null_puts_a_setting_back_to_its_default(operated: Platform) -> None:
    changed(operated, rate_limit="50/second", plan_quotas={"free_trial": 10})
    body = changed(operated, rate_limit=None, plan_quotas=None)
    for name in ("rate_limit", "plan_quotas"):
        state = body["runtime"][name]
        assert state["source"] == "default"
        assert state["value"] == state["default"]
        assert state["updated_by"] is None
    details = audit_events(operated)[0]["details"]
    assert details["rate_limit"] == {"old": "50/second", "new": operated.settings.rate_limit}
    # A reset of a setting never changed is no change.
    changed(operated, email_from=None)
    assert len(audit_events(operated)) == 2


# Each refused body, with the field its 422 names and a piece of its message.
INVALID: list[tuple[dict[str, Any], str | None, str]] = [
    ({"default_plan": "gold"}, "default_plan", "Unknown plan; one of: free_trial, starter"),
    ({"plan_quotas": {"gold": 5}}, "plan_quotas", "Unknown plan 'gold'"),
    ({"plan_quotas": {"starter": -1}}, "plan_quotas", "greater than or equal to 0"),
    ({"plan_quotas": {"starter": "5"}}, "plan_quotas", "valid integer"),
    ({"plan_quotas": {"starter": True}}, "plan_quotas", "valid integer"),
    ({"rate_limit": "lots"}, "rate_limit", "not a rate limit like '600/minute'"),
    ({"tenant_rate_limit": "10 per fortnight"}, "tenant_rate_limit", "not a rate limit"),
    ({"email_from": "not an address"}, "email_from", "not an email address"),
    ({"email_from": "a@example.com, b@example.com"}, "email_from", "not an email address"),
    ({"email_from": "Ops <ops@example.com>\r\nBcc: x@evil.example"}, "email_from", "one line"),
    ({"narratives_enabled": True}, "narratives_enabled", "No model is configured"),
    ({"narratives_enabled": "yes"}, "narratives_enabled", "valid boolean"),
    ({"colour": "blue"}, "colour", "Extra inputs are not permitted"),
    ({}, None, "Name at least one setting to change"),
]


def test_invalid_values_are_422s_naming_the_field_and_change_nothing(operated: Platform) -> None:
    # One platform for every case (a platform per case costs seconds each, on two backends).
    for body, field, message in INVALID:
        response = change(operated, **body)
        assert response.status_code == 422, (body, response.text)
        [error] = response.json()["detail"]
        assert error["loc"][0] == "body", body
        if field is not None:
            assert error["loc"][1] == field, body
        assert message in error["msg"], body
        assert not error["msg"].startswith("Value error"), body  # without pydantic's prefix
        runtime = shown(operated)["runtime"]
        assert {state["source"] for state in runtime.values()} == {"default"}, body
        assert audit_events(operated) == [], body


def test_keys_without_the_admin_scopes_are_refused(operated: Platform) -> None:
    tenant = operated.tenant("enterprise")
    for refused in (
        operated.client.get("/admin/settings", headers=tenant.headers),
        change(operated, tenant.owner_key, rate_limit="1/minute"),
    ):
        assert refused.status_code == 403
        assert "admin:" in refused.json()["detail"]
    reader = operated.key(None, [Scope.ADMIN_READ])
    assert shown(operated, reader)["runtime"]["rate_limit"]["source"] == "default"
    refused = change(operated, reader, rate_limit="1/minute")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "API key lacks the required scope: admin:write"
    assert operated.client.get("/admin/settings").status_code == 401
    assert shown(operated)["runtime"]["rate_limit"]["source"] == "default"
    operated.expire(reader)  # the operator's live keys are counted


def test_secrets_in_the_environment_are_never_shown(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    postgres_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secrets = ["smtp-Pa55word-x1", "sk-llm-key-7f6e5d", "db-Pa55word-z9"]
    # Trust authentication: PostgreSQL accepts the connection whatever the password.
    with_password = postgres_url.replace("postgres@", f"postgres:{secrets[2]}@")
    assert secrets[2] in with_password
    for name, value in {
        "TUTELA_DATA_DIR": str(tmp_path),
        "TUTELA_DATABASE_URL": with_password,
        "TUTELA_SMTP_HOST": "smtp.example.com",
        "TUTELA_SMTP_PASSWORD": secrets[0],
        "TUTELA_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "TUTELA_LLM_MODEL": "gpt-test",
        "TUTELA_LLM_API_KEY": secrets[1],
    }.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    with Platform(load_settings()) as platform:
        try:
            body = shown(platform)
            changed_body = changed(platform, narratives_enabled=False, rate_limit="90/second")
            events = audit_events(platform)
        finally:
            changed(platform, narratives_enabled=None, rate_limit=None)
            retire_operator_key(platform)
    startup = body["startup"]
    assert startup["smtp_password"] == "********"
    assert startup["llm_api_key"] == "********"
    assert startup["database_url"] == with_password.replace(secrets[2], "********")
    assert startup["platform_key"] is None  # not set: nothing to hide
    # With a model configured, narratives are on by default, and may be turned off.
    assert body["runtime"]["narratives_enabled"]["default"] is True
    assert changed_body["runtime"]["narratives_enabled"]["value"] is False
    for text in (str(body), str(changed_body), str(events), caplog.text):
        for secret in secrets:
            assert secret not in text


def test_urls_without_a_password_are_shown_as_given(tmp_path: Path) -> None:
    from tutela.server.platform_settings.startup import masked_url, startup_view

    view = startup_view(
        Settings(
            data_dir=tmp_path,
            redis_url="redis://:hunter2@cache.internal:6379/0",
            database_url="postgresql+psycopg://app@db.internal/tutela?password=hunter2&sslmode=require",
            platform_key="A" * 43 + "=",
        )
    )
    assert view["redis_url"] == "redis://:********@cache.internal:6379/0"
    assert view["database_url"] == (
        "postgresql+psycopg://app@db.internal/tutela?password=********&sslmode=require"
    )
    assert view["platform_key"] == "********"
    assert "hunter2" not in str(view)
    assert (
        masked_url("sqlite:////var/lib/tutela/tutela.db") == "sqlite:////var/lib/tutela/tutela.db"
    )


def test_a_stored_value_no_longer_valid_is_ignored(
    operated: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    from tutela.server.platform_settings.models import PlatformSetting

    with operated.db() as session:  # a plan since removed from the catalogue
        session.add(PlatformSetting(name="default_plan", value="gold", updated_by="ops"))
    operated.runtime.live.invalidate()
    state = shown(operated)["runtime"]["default_plan"]
    assert (state["value"], state["source"]) == ("free_trial", "default")
    assert operated.runtime.live.current().values.default_plan == "free_trial"
    assert "platform_setting_ignored name=default_plan reason=invalid" in caplog.text
