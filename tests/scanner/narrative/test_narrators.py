"""Narratives: deterministic by default; the LLM narrator batches, caches and always degrades."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.scanner.engine.cases import make_resource
from tests.scanner.narrative.chat_server import chat_server
from tutela.scanner.catalog import load_catalog
from tutela.scanner.catalog.checks import Strength
from tutela.scanner.engine.assess import Assessment, Finding, MappedControl, assess
from tutela.scanner.engine.evaluate import CheckResult
from tutela.scanner.estate import Estate
from tutela.scanner.narrative import Narrator, narrative
from tutela.scanner.narrative.deterministic import DeterministicNarrator, resource_noun
from tutela.scanner.narrative.llm import LLMNarrator, make_client

CATALOG = load_catalog()
AS_OF = dt.date(2026, 11, 23)
ACCOUNT = "microsoft.cognitiveservices/accounts"
CONTROL = MappedControl(
    "iso42001", "ISO42001-A.9.2", "Processes for responsible use of AI systems", "direct"
)
SR = MappedControl("sr11_7", "SR117-MRM-ACCESS", "Access", "direct")


def finding(
    check_id: str = "AOAI-LOCAL-AUTH",
    resource: str = "oai-prod",
    control: MappedControl = CONTROL,
    mapping: Strength = "direct",
) -> Finding:
    account = make_resource({"type": ACCOUNT, "name": resource, "properties": {}})
    evidence = (("properties.disableLocalAuth", "<absent; service default False>"),)
    result = CheckResult(CATALOG.check(check_id), account, "fail", evidence)
    return Finding(result, control, mapping, None)


def text(narrator: Narrator, item: Finding) -> str:
    return narrative(narrator, item.result, item.control, item.mapping)


class Findings:
    """Stands in for an assessment: what a narrator's ``prepare`` reads of one."""

    def __init__(self, items: list[Finding]) -> None:
        self.items = items

    def findings(self) -> list[Finding]:
        return self.items

    def failed_in_order(self) -> list[CheckResult]:
        return list({id(f.result): f.result for f in self.items}.values())

    def controls_for(self, result: CheckResult) -> list[tuple[MappedControl, str]]:
        return [(f.control, f.mapping) for f in self.items if f.result is result]


def prepared(narrator: Narrator, items: list[Finding]) -> list[str]:
    narrator.prepare(Findings(items))  # type: ignore[arg-type]
    return [text(narrator, item) for item in items]


def test_deterministic_narrative_names_resource_evidence_control_and_severity() -> None:
    narrated = text(DeterministicNarrator(), finding())
    assert "'oai-prod'" in narrated
    assert "properties.disableLocalAuth is <absent; service default False>" in narrated
    assert "ISO42001-A.9.2" in narrated
    assert "ISO/IEC 42001" in narrated
    assert "high-severity" in narrated


def not_repeated(narrated: str, check_id: str = "AOAI-LOCAL-AUTH") -> None:
    """The finding's own fields are not restated: its check's texts and its control's title."""
    check = CATALOG.check(check_id)
    assert check.description.strip() not in narrated
    assert check.remediation.strip() not in narrated
    assert check.title not in narrated
    assert CONTROL.title not in narrated
    assert "To fix it" not in narrated


def test_deterministic_narrative_does_not_restate_what_the_finding_carries() -> None:
    narrator = DeterministicNarrator()
    not_repeated(text(narrator, finding()))
    not_repeated(text(narrator, finding(control=SR, mapping="by analogy")))
    not_repeated(text(narrator, finding(mapping="supporting")))


def test_a_resource_is_named_by_its_kind_or_else_by_its_type_name() -> None:
    assert resource_noun(ACCOUNT) == "Azure AI Services account"
    assert resource_noun("microsoft.web/sites/slots") == "slots"
    assert resource_noun("sites") == "sites"


def test_deterministic_narrative_says_when_a_mapping_is_by_analogy() -> None:
    narrator = DeterministicNarrator()
    assert "by analogy" in text(narrator, finding(control=SR, mapping="by analogy"))
    assert "by analogy" not in text(narrator, finding())


def test_a_supporting_mapping_is_worded_as_contributing_evidence_not_as_a_gap() -> None:
    narrator = DeterministicNarrator()
    supporting = text(narrator, finding(mapping="supporting"))
    assert "supporting evidence for ISO42001-A.9.2" in supporting
    assert "does not by itself" in supporting
    assert "severity gap against" not in supporting
    direct = text(narrator, finding())
    assert "high-severity gap against ISO42001-A.9.2" in direct
    assert "supporting" not in direct


def test_deterministic_parts_repeat_as_the_same_strings() -> None:
    narrator = DeterministicNarrator()
    first, second = finding(resource="oai-1"), finding(resource="oai-2")
    closing = narrator.closing(first.result, CONTROL, "direct")
    assert narrator.closing(second.result, CONTROL, "direct") is closing
    assert narrator.closing(second.result, CONTROL, "supporting") != closing
    assert narrator.opening(first.result) != narrator.opening(second.result)


def test_a_whole_assessment_is_narrated_per_finding() -> None:
    estate = Estate([make_resource({"type": ACCOUNT, "name": "oai-x", "properties": {}})])
    result: Assessment = assess(estate, CATALOG, ["iso42001", "sr11_7"], as_of=AS_OF)
    narrated = [text(DeterministicNarrator(), f) for f in result.findings()]
    assert narrated
    assert all("'oai-x'" in n for n in narrated)
    assert len(set(narrated)) == len(narrated), "each control has its own closing"


def test_llm_narrator_batches_and_caches_per_check_and_evidence() -> None:
    with chat_server() as server:
        client = make_client(api_key="test-key", base_url=f"{server.url}/v1")
        narrator = LLMNarrator(client, "gpt-4o-mini", batch_size=2)
        same_evidence = [finding(resource=f"oai-{i}") for i in range(5)]
        # The same check and evidence under another framework's control: the same model text.
        other_control = finding(resource="oai-sr", control=SR, mapping="by analogy")
        others = [finding(check_id=c) for c in ("AML-WS-CMK", "AOAI-DIAG-LOGS", "AOAI-CMK")]
        narrated = prepared(narrator, [*same_evidence, other_control, *others])
        # 4 distinct (check, evidence) keys in batches of 2 → 2 requests.
        assert len(server.requests) == 2
        assert all(" LLM: " in n for n in narrated)
        model_texts = {n.split(" LLM: ")[1].split(" Under ")[0] for n in narrated[:6]}
        assert len(model_texts) == 1
        assert "'oai-0' fails AOAI-LOCAL-AUTH: LLM: " in narrated[0]
        assert "'oai-sr' fails AOAI-LOCAL-AUTH" in narrated[5]
        assert "by analogy" in narrated[5]
        # The closing (control, severity) is the deterministic one, answered or not; the fix
        # is the finding's remediation, not repeated in the narrative.
        first = finding()
        assert narrated[0].endswith(
            DeterministicNarrator().closing(first.result, first.control, first.mapping)
        )
        # (The stand-in model echoes the check's title: only the model's text may hold it.)
        ours = narrated[0].replace(model_texts.pop(), "")
        not_repeated(ours)
        assert prepared(narrator, [finding(resource="oai-again")]) == [
            narrated[0].replace("oai-0", "oai-again")
        ]
        assert len(server.requests) == 2, "a cached narrative costs no request"
        sent = server.requests[0]
        assert sent["model"] == "gpt-4o-mini"
        assert sent["response_format"] == {"type": "json_object"}
        items = json.loads(sent["messages"][-1]["content"])["items"]
        assert "oai-" not in sent["messages"][-1]["content"], "resource names are not sent"
        assert items[0]["controls"] == [
            "iso42001 ISO42001-A.9.2 Processes for responsible use of AI systems"
        ]

        assert items[0]["what_was_seen"] == (
            "properties.disableLocalAuth is <absent; service default False>"
        )


def test_the_model_is_told_how_strongly_the_check_evidences_each_control() -> None:
    direct = finding()
    items = [
        direct,
        Finding(direct.result, SR, "by analogy", None),
        Finding(direct.result, CONTROL._replace(control_id="ISO42001-A.7.2"), "supporting", None),
    ]
    with chat_server() as server:
        client = make_client(api_key="test-key", base_url=f"{server.url}/v1")
        prepared(LLMNarrator(client, "m"), items)
        [sent] = json.loads(server.requests[0]["messages"][-1]["content"])["items"]
    title = "Processes for responsible use of AI systems"
    assert sent["controls"] == [
        f"iso42001 ISO42001-A.9.2 {title}",
        "sr11_7 SR117-MRM-ACCESS Access (by analogy evidence)",
        f"iso42001 ISO42001-A.7.2 {title} (supporting evidence)",
    ]


def test_azure_openai_paths_are_used_for_an_azure_endpoint() -> None:
    with chat_server() as server:
        client = make_client(api_key="k", azure_endpoint=server.url, api_version="2024-10-21")
        [narrated] = prepared(LLMNarrator(client, "narrator-deployment"), [finding()])
        assert server.paths[0].startswith(
            "/openai/deployments/narrator-deployment/chat/completions"
        )
        assert "api-version=2024-10-21" in server.paths[0]
        assert " LLM: " in narrated


@pytest.mark.parametrize("mode", ["error", "garbage", "slow"])
def test_llm_failure_falls_back_to_the_deterministic_narrative(mode: str) -> None:
    with chat_server() as server:
        server.mode = mode
        client = make_client(api_key="k", base_url=f"{server.url}/v1", timeout=0.3)
        narrator = LLMNarrator(client, "m", timeout=0.3)
        items = [finding(), finding(check_id="AML-WS-CMK")]
        narrated = prepared(narrator, items)
        expected = DeterministicNarrator()
        assert narrated == [text(expected, f) for f in items]
        assert narrator.failures == 1


def test_a_failing_endpoint_is_asked_once_not_once_per_batch() -> None:
    """A scan waits for a dead or erring endpoint once; the rest is narrated without it."""
    items = [finding(check_id=c) for c in ("AOAI-LOCAL-AUTH", "AML-WS-CMK", "AOAI-DIAG-LOGS")]
    with chat_server() as server:
        server.mode = "error"
        client = make_client(api_key="k", base_url=f"{server.url}/v1")
        narrator = LLMNarrator(client, "m", batch_size=1)
        narrated = prepared(narrator, items)
        assert narrator.requests == 1
        assert len(server.requests) == 2, "the client's one retry, then no other batch"
        assert narrated == [text(DeterministicNarrator(), f) for f in items]
    # A malformed answer is that batch's problem only: the next batches are still asked.
    with chat_server() as server:
        server.mode = "garbage-once"
        client = make_client(api_key="k", base_url=f"{server.url}/v1")
        narrator = LLMNarrator(client, "m", batch_size=1)
        narrated = prepared(narrator, items)
        assert narrator.requests == 3
        assert narrated[0] == text(DeterministicNarrator(), items[0])
        assert all(" LLM: " in n for n in narrated[1:])


def test_items_missing_from_the_answer_fall_back_one_by_one() -> None:
    with chat_server() as server:
        server.mode = "partial"
        client = make_client(api_key="k", base_url=f"{server.url}/v1")
        first, second = finding(), finding(check_id="AML-WS-CMK")
        narrated = prepared(LLMNarrator(client, "m"), [first, second])
        assert " LLM: " in narrated[0]
        assert narrated[1] == text(DeterministicNarrator(), second)


def test_unreachable_endpoint_falls_back() -> None:
    client = make_client(api_key="k", base_url="http://127.0.0.1:9/v1", timeout=0.5)
    item = finding()
    assert prepared(LLMNarrator(client, "m"), [item]) == [text(DeterministicNarrator(), item)]
