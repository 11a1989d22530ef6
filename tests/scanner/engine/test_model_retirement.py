"""AOAI-DEPLOY-MODEL-RETIREMENT against the dated table, on both sides of each boundary."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tutela.scanner.catalog import CatalogError, load_catalog
from tutela.scanner.catalog.model_retirements import RetirementTable, load_model_retirements
from tutela.scanner.engine.evaluate import CheckResult, evaluate_estate
from tutela.scanner.estate import Estate, Resource

CHECK = load_catalog().check("AOAI-DEPLOY-MODEL-RETIREMENT")
ACCOUNT = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg"
    "/providers/Microsoft.CognitiveServices/accounts/oai"
)
TABLE = load_model_retirements()


def judge(name: str, version: Any, as_of: dt.date) -> CheckResult:
    deployment = Resource(
        id=f"{ACCOUNT}/deployments/d",
        type="microsoft.cognitiveservices/accounts/deployments",
        name="d",
        properties={"model": {"format": "OpenAI", "name": name, "version": version}},
    )
    (result,) = evaluate_estate(Estate([deployment]), [CHECK], as_of=as_of)
    return result


def said(result: CheckResult) -> dict[str, Any]:
    return dict(result.evidence)


@pytest.mark.parametrize(
    ("as_of", "status", "stage"),
    [
        # dall-e-3 3: no deprecation date, retires 2026-02-18; 60 days' notice.
        (dt.date(2025, 12, 19), "pass", "retires"),
        (dt.date(2025, 12, 20), "fail", "retiring"),
        (dt.date(2026, 2, 17), "fail", "retiring"),
        (dt.date(2026, 2, 18), "fail", "retired"),
    ],
)
def test_retirement_and_its_notice_period(as_of: dt.date, status: str, stage: str) -> None:
    result = judge("dall-e-3", "3", as_of)
    assert result.status == status
    assert stage in said(result), result.evidence
    assert "2026-02-18" in str(said(result)[stage])


@pytest.mark.parametrize(
    ("as_of", "status"), [(dt.date(2026, 11, 12), "pass"), (dt.date(2026, 11, 13), "fail")]
)
def test_deprecation_date(as_of: dt.date, status: str) -> None:
    result = judge("gpt-5.1", "2025-11-13", as_of)
    assert result.status == status
    if status == "fail":
        assert said(result)["deprecated"] == "since 2026-11-13, retires 2027-05-15"


def test_the_evidence_names_the_table_date_and_source_and_the_replacement() -> None:
    result = judge("GPT-4o", "2024-05-13", dt.date(2026, 12, 1))
    assert result.status == "fail"
    evidence = said(result)
    assert evidence["properties.model"] == "GPT-4o 2024-05-13"
    assert evidence["retirement table"] == (
        f"as of {TABLE.as_of}, "
        "https://learn.microsoft.com/azure/ai-foundry/openai/concepts/model-retirements"
    )
    assert evidence["retired"] == "on 2026-03-31"
    assert evidence["replacement"] == "gpt-5.1"


def test_a_passed_no_earlier_than_date_is_retiring_not_retired() -> None:
    before = judge("text-embedding-ada-002", "2", dt.date(2026, 8, 30))
    after = judge("text-embedding-ada-002", "2", dt.date(2026, 11, 23))
    assert before.status == "pass"
    assert said(before)["retires"] == "no earlier than 2026-10-30"
    assert after.status == "fail"
    assert said(after)["retiring"] == "at any time: no earlier than 2026-10-30 has passed"


def test_retired_models_come_from_the_retired_models_page() -> None:
    result = judge("gpt-35-turbo", "0613", dt.date(2026, 1, 1))
    assert result.status == "fail"
    assert said(result)["retirement table"].endswith("/legacy-models")


@pytest.mark.parametrize("version", ["2099-01-01", None])
def test_a_version_the_table_does_not_list_is_unknown(version: Any) -> None:
    result = judge("gpt-4o", version, dt.date(2026, 1, 1))
    assert result.status == "unknown"


def test_the_shipped_table_is_consistent() -> None:
    assert TABLE.as_of >= dt.date(2025, 12, 16)
    assert {"current", "retired"} <= set(TABLE.sources)
    assert all(s.url.startswith("https://learn.microsoft.com/") for s in TABLE.sources.values())
    assert TABLE.find("GPT-4O", "2024-11-20") is TABLE.find("gpt-4o", "2024-11-20") is not None


@pytest.mark.parametrize(
    ("models", "refusal"),
    [
        (
            [
                {"name": "m", "version": "1", "retirement": "2026-01-01", "source": "s"},
                {"name": "M", "version": "1", "retirement": "2026-02-01", "source": "s"},
            ],
            "listed twice",
        ),
        (
            [{"name": "m", "version": "1", "retirement": "2026-01-01", "source": "elsewhere"}],
            "unknown source",
        ),
        (
            [
                {
                    "name": "m",
                    "version": "1",
                    "deprecation": "2026-03-01",
                    "retirement": "2026-01-01",
                    "source": "s",
                }
            ],
            "deprecated after it retires",
        ),
    ],
)
def test_a_broken_table_is_refused(models: list[dict[str, Any]], refusal: str) -> None:
    document = {
        "as_of": "2025-12-16",
        "sources": {"s": {"title": "t", "url": "https://learn.microsoft.com/x"}},
        "models": models,
    }
    with pytest.raises(ValueError, match=refusal):
        RetirementTable.model_validate(document)
    assert issubclass(CatalogError, ValueError)
