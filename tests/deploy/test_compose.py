"""deploy/compose.yaml is consistent with the product: its settings are real settings, its
commands real commands, its layout the one docs/production.md describes (one beat, read-only
API processes behind the proxy, migrations first, secrets from files)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy import layout
from tests.platform import Platform
from tutela.server.config import Settings, load_settings


def test_every_variable_the_tutela_services_set_is_a_setting_with_a_valid_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = layout.tutela_services()
    assert set(services) == {"migrate", "api", "worker", "beat"}
    for name in services:
        environment = layout.container_environment(name)
        for variable in environment:
            if variable.startswith("TUTELA_"):
                field = variable.removeprefix("TUTELA_").lower()
                assert field in Settings.model_fields, f"{name}: {variable} is no setting"
            else:
                assert variable.startswith(("OTEL_", "PYTHON")), f"{name}: {variable}"
        for variable, value in environment.items():
            monkeypatch.setenv(variable, value)
        settings = load_settings()  # raises SettingsError naming a variable with a bad value
        assert settings.job_backend == "celery"
        assert settings.resolved_platform_key_file == Path("/run/secrets/platform_key")
        assert settings.platform_key is None  # the key is a file (a secret), never a variable
        for variable in environment:
            monkeypatch.delenv(variable)


@pytest.mark.parametrize("name", ["migrate", "api", "worker", "beat"])
def test_each_command_is_a_tutela_command_with_its_options(name: str) -> None:
    command = layout.container_command(name)
    # --help is answered only once the command and every option given are known.
    done = subprocess.run(
        [*command, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_layout_one_beat_read_only_api_processes_migrations_first() -> None:
    services = layout.compose()["services"]
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["beat"]["command"] == ["beat"]
    assert not any("--beat" in s.get("command", []) for s in services.values())
    assert services["api"]["deploy"]["replicas"] >= 2
    assert services["worker"]["deploy"]["replicas"] >= 1
    for name in ("migrate", "api", "worker", "beat"):
        assert services[name]["read_only"] is True, name
        assert "/tmp" in services[name]["tmpfs"], name
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for name in ("api", "worker", "beat"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"
    # Only the proxy is published; the API, metrics, database and broker stay private.
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == {"proxy"}


def test_the_api_healthcheck_asks_a_route_the_app_serves(platform: Platform) -> None:
    path = layout.health_path(layout.service("api")["healthcheck"]["test"])
    assert "get" in platform.client.get("/openapi.json").json()["paths"][path]
    assert platform.client.get(path).status_code == 200
    for name in ("migrate", "worker", "beat"):  # no HTTP there: the image's check is off
        assert layout.service(name)["healthcheck"] == {"disable": True}, name


def test_the_proxy_reaches_every_api_process_and_is_the_only_one_trusted() -> None:
    caddyfile = layout.CADDYFILE.read_text(encoding="utf-8")
    match = re.search(r"dynamic a (\S+) (\d+)", caddyfile)
    assert match, "the Caddyfile names no upstream"
    environment = layout.container_environment("api")
    assert match[1] == "api"
    assert match[2] == environment["TUTELA_PORT"]
    assert environment["TUTELA_HOST"] == "0.0.0.0"  # noqa: S104 (the proxy is another container)
    compose = layout.compose()
    [subnet] = [c["subnet"] for c in compose["networks"]["edge"]["ipam"]["config"]]
    assert environment["TUTELA_FORWARDED_ALLOW_IPS"] == subnet
    assert compose["services"]["proxy"]["networks"] == ["edge"]
    assert "edge" not in compose["services"]["worker"]["networks"]
    volumes = compose["services"]["proxy"]["volumes"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in volumes


def test_secrets_come_from_files_and_the_operators_env_file_never_committed() -> None:
    text = layout.COMPOSE_FILE.read_text(encoding="utf-8")
    compose = layout.compose()
    key_file = layout.COMPOSE_FILE.parent / compose["secrets"]["platform_key"]["file"]
    for name in ("migrate", "api", "worker", "beat"):
        assert compose["services"][name]["secrets"] == ["platform_key"], name
    ignored = (layout.ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert f"{key_file.parent.relative_to(layout.ROOT)}/" in ignored
    assert "deploy/.env" in ignored
    # The database password is only ever a variable of the operator's .env.
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in text
    assert layout.OPERATOR_ENV["POSTGRES_PASSWORD"] in str(compose)
    # Every variable compose needs is in .env.example, and only empty there if it is secret.
    example = dict(
        line.split("=", 1)
        for line in layout.ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert layout.variables(text) - {"TUTELA_LOG_LEVEL"} <= set(example)
    assert example["POSTGRES_PASSWORD"] == ""
    with pytest.raises(layout.MissingVariable, match="POSTGRES_PASSWORD"):
        layout.compose({k: v for k, v in layout.OPERATOR_ENV.items() if k != "POSTGRES_PASSWORD"})
