"""Settings: TUTELA_* variables, defaults, and one readable line per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutela.server.config import SettingsError, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TUTELA_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'tutela.db'}"
    assert settings.resolved_platform_key_file == tmp_path / "platform.key"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert (settings.key_expiry_default_days, settings.key_expiry_max_days) == (30, 365)
    assert settings.redis_url is None
    assert settings.is_sqlite


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTELA_DATABASE_URL", "postgresql+psycopg://u@db:5432/tutela")
    monkeypatch.setenv("TUTELA_REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("TUTELA_RATE_LIMIT", "10/second")
    monkeypatch.setenv("TUTELA_LOG_LEVEL", "debug")
    settings = load_settings()
    assert settings.resolved_database_url.startswith("postgresql+psycopg://")
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.rate_limit == "10/second"
    assert settings.log_level == "DEBUG"
    assert not settings.is_sqlite


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TUTELA_PORT", "eighty"),
        ("TUTELA_PORT", "70000"),
        ("TUTELA_DATABASE_URL", "mysql://root@localhost/tutela"),
        ("TUTELA_REDIS_URL", "http://cache"),
        ("TUTELA_RATE_LIMIT", "lots"),
        ("TUTELA_LOG_LEVEL", "chatty"),
        ("TUTELA_KEY_EXPIRY_MAX_DAYS", "7"),
        ("TUTELA_MAX_BODY_BYTES", "-1"),
    ],
)
def test_bad_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message
