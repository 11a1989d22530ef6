"""LLM narratives on the server: TUTELA_LLM_* settings, narrated scans, fallback, secrets."""

from __future__ import annotations

import datetime as dt
import inspect
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.platform import Platform, TenantCtx
from tests.scanner.narrative.chat_server import ChatServer, chat_server
from tests.server.chat_board import board_server
from tests.server.scans.estates import link_sample_snapshot
from tutela.scanner.narrative.deterministic import DeterministicNarrator
from tutela.scanner.narrative.llm import LLMNarrator, make_client
from tutela.server.config import LLM_API_VERSION, Settings, SettingsError, load_settings
from tutela.server.narration import board_narrative, llm_client, llm_endpoint, scan_narrator

SECRET = "sk-tutela-test-9f8e7d6c5b4a"
IAC = Path(__file__).parents[1] / "scanner" / "sources" / "fixtures" / "arm_ai_landing_zone.json"

SettingsFactory = Callable[..., Settings]


@contextmanager
def narrated_platform(
    settings_factory: SettingsFactory, server: ChatServer, **overrides: object
) -> Iterator[Platform]:
    values: dict[str, object] = {
        "llm_base_url": f"{server.url}/v1",
        "llm_model": "gpt-test",
        "llm_api_key": SECRET,
        "llm_timeout_seconds": 0.5,
        **overrides,
    }
    with Platform(settings_factory(**values)) as platform:
        yield platform


def iac_scan(platform: Platform, tenant: TenantCtx) -> dict[str, Any]:
    response = platform.client.post(
        "/scan/iac",
        headers={**tenant.headers, "content-type": "application/json"},
        content=IAC.read_bytes(),
        params={"dry_run": "true"},
    )
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def narratives(report: dict[str, Any]) -> list[str]:
    texts = [f["narrative"] for f in report["findings"]]
    assert texts
    assert all(isinstance(t, str) and t for t in texts)
    return texts


# --- settings ----------------------------------------------------------------------------------


def test_no_model_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TUTELA_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert llm_endpoint(settings) is None
    assert isinstance(scan_narrator(settings, load_catalog_once()), DeterministicNarrator)
    # The default API version is the CLI's (make_client's).
    default = inspect.signature(make_client).parameters["api_version"].default
    assert settings.llm_api_version == LLM_API_VERSION == default


def load_catalog_once() -> Any:
    from tutela.scanner.catalog import load_catalog

    return load_catalog()


@pytest.mark.parametrize(
    ("variables", "names"),
    [
        ({"TUTELA_LLM_DEPLOYMENT": "d"}, "TUTELA_LLM_AZURE_ENDPOINT and TUTELA_LLM_DEPLOYMENT"),
        ({"TUTELA_LLM_AZURE_ENDPOINT": "https://x.openai.azure.com"}, "TUTELA_LLM_DEPLOYMENT"),
        ({"TUTELA_LLM_BASE_URL": "https://x/v1"}, "TUTELA_LLM_MODEL and TUTELA_LLM_API_KEY"),
        (
            {"TUTELA_LLM_BASE_URL": "https://x/v1", "TUTELA_LLM_MODEL": "m"},
            "TUTELA_LLM_API_KEY",
        ),
        ({"TUTELA_LLM_API_KEY": SECRET}, "without a model"),
        (
            {
                "TUTELA_LLM_AZURE_ENDPOINT": "https://x.openai.azure.com",
                "TUTELA_LLM_DEPLOYMENT": "d",
                "TUTELA_LLM_BASE_URL": "https://x/v1",
                "TUTELA_LLM_MODEL": "m",
                "TUTELA_LLM_API_KEY": SECRET,
            },
            "exclusive",
        ),
    ],
)
def test_incomplete_llm_settings_are_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], names: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith("TUTELA_LLM_")
    assert names in message
    assert "\n" not in message
    assert SECRET not in message


def test_llm_url_must_be_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTELA_LLM_BASE_URL", "file:///etc/passwd")
    monkeypatch.setenv("TUTELA_LLM_MODEL", "m")
    monkeypatch.setenv("TUTELA_LLM_API_KEY", SECRET)
    with pytest.raises(SettingsError, match=r"^TUTELA_LLM_BASE_URL: must start with https://"):
        load_settings()


def test_the_key_is_secret_in_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTELA_LLM_BASE_URL", "https://x/v1")
    monkeypatch.setenv("TUTELA_LLM_MODEL", "m")
    monkeypatch.setenv("TUTELA_LLM_API_KEY", SECRET)
    settings = load_settings()
    assert SECRET not in repr(settings)
    assert SECRET not in str(llm_endpoint(settings))


class FakeCredential:
    """Stands in for DefaultAzureCredential (no managed identity here): a fixed Entra token."""

    def get_token(self, *scopes: str, **_: Any) -> Any:
        from azure.core.credentials import AccessToken

        assert scopes == ("https://cognitiveservices.azure.com/.default",)
        return AccessToken("entra-token-123", 4_102_444_800)


def test_azure_without_a_key_signs_with_entra_id(monkeypatch: pytest.MonkeyPatch) -> None:
    import azure.identity

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", FakeCredential)
    with board_server() as server:
        settings = load_settings(llm_azure_endpoint=server.url, llm_deployment="narrator")
        endpoint = llm_endpoint(settings)
        assert endpoint is not None
        assert endpoint.api_key is None
        assert isinstance(llm_client(endpoint), openai.AzureOpenAI)
        text, by = board_narrative(settings, {"overall_score": 71, "overall_rag": "AMBER"}, "x")
        assert (text, by) == ("MODEL: overall 71/100, rated AMBER.", "llm")
        [sent] = server.headers
        headers = {name.lower(): value for name, value in sent.items()}
        assert headers["authorization"] == "Bearer entra-token-123"
        assert "api-key" not in headers


# --- scans narrated by the model ---------------------------------------------------------------


def test_unset_scans_narrate_as_today(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    texts = narratives(iac_scan(platform, tenant))
    assert all("LLM:" not in t for t in texts)


def test_scans_are_narrated_by_the_model(settings_factory: SettingsFactory) -> None:
    with chat_server() as server, narrated_platform(settings_factory, server) as platform:
        tenant = platform.tenant("enterprise")
        texts = narratives(iac_scan(platform, tenant))
        assert all("LLM: " in t for t in texts)
        assert server.paths
        assert all(p == "/v1/chat/completions" for p in server.paths)
        # Batched and cached per (check, evidence): fewer requests than findings.
        assert len(server.requests) < len(texts)
        assert {r["model"] for r in server.requests} == {"gpt-test"}

        link_sample_snapshot(platform, tenant)
        for path in ("/scan/dry-run", "/scan"):
            response = platform.client.post(
                path, headers=tenant.headers, json={"frameworks": ["iso42001", "dora"]}
            )
            assert response.status_code == 200, response.text
            assert all("LLM: " in t for t in narratives(response.json()))
        # Narratives off for the request: the model is not asked.
        asked = len(server.requests)
        response = platform.client.post(
            "/scan/dry-run",
            headers=tenant.headers,
            json={"frameworks": ["dora"], "generate_narrative": False},
        )
        assert {f["narrative"] for f in response.json()["findings"]} == {None}
        assert len(server.requests) == asked


def test_azure_openai_deployment_path(settings_factory: SettingsFactory) -> None:
    with (
        chat_server() as server,
        narrated_platform(
            settings_factory,
            server,
            llm_base_url=None,
            llm_model=None,
            llm_azure_endpoint=server.url,
            llm_deployment="narrator",
        ) as platform,
    ):
        texts = narratives(iac_scan(platform, platform.tenant("enterprise")))
        assert all("LLM: " in t for t in texts)
        assert server.paths[0] == (
            f"/openai/deployments/narrator/chat/completions?api-version={LLM_API_VERSION}"
        )


@pytest.mark.parametrize("mode", ["error", "slow", "garbage"])
def test_a_failing_model_gives_deterministic_narratives(
    settings_factory: SettingsFactory, platform: Platform, mode: str
) -> None:
    expected = narratives(iac_scan(platform, platform.tenant("enterprise")))
    with chat_server() as server, narrated_platform(settings_factory, server) as narrated:
        server.mode = mode
        texts = narratives(iac_scan(narrated, narrated.tenant("enterprise")))
        assert server.requests  # the model was asked, and failed
    # Report ids and timestamps differ; the narratives are exactly the deterministic ones.
    assert texts == expected


def test_the_key_is_never_logged_nor_returned(
    settings_factory: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []
    with chat_server() as server, narrated_platform(settings_factory, server) as platform:
        tenant = platform.tenant("enterprise")
        for mode in ("ok", "error"):
            server.mode = mode
            response = platform.client.post(
                "/scan/iac",
                headers={**tenant.headers, "content-type": "application/json"},
                content=IAC.read_bytes(),
            )
            bodies.append(response.text)
            report_id = response.json()["report_id"]
            bodies.append(
                platform.client.get(f"/report/{report_id}/scorecard", headers=tenant.headers).text
            )
        bodies.append(platform.client.get("/health").text)
        bodies.append(platform.client.post("/scan/iac", headers=tenant.headers).text)  # an error
    assert caplog.records  # the capture worked (requests, fallbacks)
    assert any("narrative_fallback" in r.getMessage() for r in caplog.records)
    assert SECRET not in caplog.text
    assert all(SECRET not in body for body in bodies)


def test_one_narrator_per_scan_over_one_client(settings_factory: SettingsFactory) -> None:
    with chat_server() as server:
        settings = settings_factory(
            llm_base_url=f"{server.url}/v1", llm_model="m", llm_api_key=SECRET
        )
        catalog = load_catalog_once()
        first, second = scan_narrator(settings, catalog), scan_narrator(settings, catalog)
        assert isinstance(first, LLMNarrator)
        assert isinstance(second, LLMNarrator)
        assert first is not second  # a failed endpoint or a cache lives for one scan
        assert first._client is second._client  # one connection pool per endpoint


def test_governance_scans_are_narrated_by_the_model(settings_factory: SettingsFactory) -> None:
    from tutela.server.governance.scans import run_due

    with chat_server() as server, narrated_platform(settings_factory, server) as platform:
        tenant = platform.tenant("professional")  # narratives on by default
        link_sample_snapshot(platform, tenant)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # the tenant is due
        [outcome] = [o for o in run_due(platform.runtime, later) if o.tenant_id == tenant.id]
        assert outcome.status == "scanned"
        response = platform.client.get(f"/report/{outcome.report_id}", headers=tenant.headers)
        assert response.status_code == 200, response.text
        assert all("LLM: " in t for t in narratives(response.json()))
        assert server.requests
