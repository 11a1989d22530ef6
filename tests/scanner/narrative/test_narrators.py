"""Narratives: deterministic by default; the LLM narrator batches, caches and always degrades."""

from __future__ import annotations

import pytest

from tests.scanner.narrative.chat_server import chat_server
from tutela.scanner.engine.assess import Finding
from tutela.scanner.narrative.deterministic import DeterministicNarrator
from tutela.scanner.narrative.llm import LLMNarrator, make_client


def finding(
    check_id: str = "AOAI-LOCAL-AUTH", resource: str = "oai-prod", **overrides: object
) -> Finding:
    values: dict[str, object] = {
        "control_id": "ISO42001-A.9.2",
        "control_title": "Processes for responsible use of AI systems",
        "framework": "iso42001",
        "by_analogy": False,
        "check_id": check_id,
        "resource": f"/subscriptions/s/providers/Microsoft.CognitiveServices/accounts/{resource}",
        "resource_name": resource,
        "resource_type": "microsoft.cognitiveservices/accounts",
        "severity": "high",
        "status": "fail",
        "title": "Azure AI Services account accepts API keys",
        "description": "Keys are shared secrets.",
        "remediation": "Set disableLocalAuth to true.",
        "evidence": (("properties.disableLocalAuth", "<absent; service default False>"),),
    }
    values.update(overrides)
    return Finding(**values)  # type: ignore[arg-type]


def test_deterministic_narrative_names_resource_evidence_control_and_fix() -> None:
    text = DeterministicNarrator().narrative(finding())
    assert "'oai-prod'" in text
    assert "properties.disableLocalAuth is <absent; service default False>" in text
    assert "ISO42001-A.9.2" in text
    assert "ISO/IEC 42001" in text
    assert "Set disableLocalAuth to true." in text


def test_deterministic_narrative_says_when_a_mapping_is_by_analogy() -> None:
    narrator = DeterministicNarrator()
    assert "by analogy" in narrator.narrative(finding(framework="sr11_7", by_analogy=True))
    assert "by analogy" not in narrator.narrative(finding())


def test_llm_narrator_batches_and_caches_per_check_and_evidence() -> None:
    with chat_server() as server:
        client = make_client(api_key="test-key", base_url=f"{server.url}/v1")
        narrator = LLMNarrator(client, "gpt-4o-mini", batch_size=2)
        same_evidence = [finding(resource=f"oai-{i}") for i in range(5)]
        others = [finding(check_id=f"AOAI-CHECK-{i}", title=f"Check {i}") for i in range(3)]
        narrator.narrate(same_evidence + others)
        # 4 distinct (check, evidence) keys in batches of 2 → 2 requests.
        assert len(server.requests) == 2
        assert all(f.narrative and f.narrative.startswith("LLM: ") for f in same_evidence + others)
        assert len({f.narrative for f in same_evidence}) == 1
        narrator.narrate([finding(resource="oai-again")])
        assert len(server.requests) == 2, "a cached narrative costs no request"
        sent = server.requests[0]
        assert sent["model"] == "gpt-4o-mini"
        assert sent["response_format"] == {"type": "json_object"}
        assert "oai-" not in sent["messages"][-1]["content"], "resource names are not sent"


def test_azure_openai_paths_are_used_for_an_azure_endpoint() -> None:
    with chat_server() as server:
        client = make_client(api_key="k", azure_endpoint=server.url, api_version="2024-10-21")
        item = finding()
        LLMNarrator(client, "narrator-deployment").narrate([item])
        assert server.paths[0].startswith(
            "/openai/deployments/narrator-deployment/chat/completions"
        )
        assert "api-version=2024-10-21" in server.paths[0]
        assert item.narrative is not None
        assert item.narrative.startswith("LLM: ")


@pytest.mark.parametrize("mode", ["error", "garbage", "slow"])
def test_llm_failure_falls_back_to_the_deterministic_narrative(mode: str) -> None:
    with chat_server() as server:
        server.mode = mode
        client = make_client(api_key="k", base_url=f"{server.url}/v1", timeout=0.3)
        narrator = LLMNarrator(client, "m", timeout=0.3)
        items = [finding(), finding(check_id="AML-WS-CMK")]
        narrator.narrate(items)
        expected = DeterministicNarrator()
        assert [f.narrative for f in items] == [expected.narrative(f) for f in items]
        assert narrator.failures == 1


def test_items_missing_from_the_answer_fall_back_one_by_one() -> None:
    with chat_server() as server:
        server.mode = "partial"
        client = make_client(api_key="k", base_url=f"{server.url}/v1")
        first, second = finding(), finding(check_id="AML-WS-CMK", title="Workspace without CMK")
        LLMNarrator(client, "m").narrate([first, second])
        assert first.narrative is not None
        assert first.narrative.startswith("LLM: ")
        assert second.narrative == DeterministicNarrator().narrative(second)


def test_unreachable_endpoint_falls_back() -> None:
    client = make_client(api_key="k", base_url="http://127.0.0.1:9/v1", timeout=0.5)
    item = finding()
    LLMNarrator(client, "m").narrate([item])
    assert item.narrative == DeterministicNarrator().narrative(item)
