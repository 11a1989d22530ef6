"""``tutela scan --house-policy``: the file's review periods decide, a bad file is exit 2."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tutela.cli.main import app

SUB = "8d2bf1a4-4c1e-4f0e-9d6c-1f2e3a4b5c6d"


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    """One classic-ML workspace, fully inventoried, validated 200 days before today."""
    validated = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=200)
    workspace = {
        "id": f"/subscriptions/{SUB}/resourceGroups/rg-ml/providers"
        "/Microsoft.MachineLearningServices/workspaces/mlw-credit",
        "name": "mlw-credit",
        "type": "microsoft.machinelearningservices/workspaces",
        "kind": "Default",
        "location": "westeurope",
        "resourceGroup": "rg-ml",
        "subscriptionId": SUB,
        "tags": {
            "model-id": "MRM-0042",
            "model-owner": "credit-risk",
            "model-risk-tier": "tier-2",
            "model-validation-date": validated.isoformat(),
        },
        "properties": {},
    }
    path = tmp_path / "estate.json"
    path.write_text(json.dumps({"data": [workspace]}))
    return path


def validation_findings(result: Any) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    return [f for f in report["findings"] if f["check_id"] == "INV-VALIDATION-DATE"]


def scan(estate: Path, *args: str) -> Any:
    command = ["scan", str(estate), "--frameworks", "sr11_7", "--format", "json"]
    return CliRunner().invoke(app, [*command, "--fail-on", "none", *args])


def test_the_file_s_review_period_is_applied_and_shown(estate: Path, tmp_path: Path) -> None:
    assert validation_findings(scan(estate)) == []  # 200 days: within the default 365

    policy = tmp_path / "house-policy.yaml"
    policy.write_text("review_period_days: 180\n")
    [finding] = validation_findings(scan(estate, "--house-policy", str(policy)))
    assert finding["control_id"] == "SR117-MRM-VALIDATION"
    evidence = {e["path"]: e["value"] for e in finding["evidence"]}
    assert evidence["house review period (days)"] == 180
    assert evidence["days since validation"] == 200

    as_json = tmp_path / "house-policy.json"
    as_json.write_text(json.dumps({"review_period_days": 365}))
    assert validation_findings(scan(estate, "--house-policy", str(as_json))) == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("review_period_days: 0\n", "review_period_days: Input should be greater than or equal"),
        ("review_period_days: '180'\n", "review_period_days: Input should be a valid integer"),
        ("{not json", "is not valid YAML or JSON"),
        ("reviewPeriod: 180\n", "reviewPeriod: Extra inputs are not permitted"),
    ],
)
def test_a_bad_policy_file_is_one_line_and_exit_2(
    estate: Path, tmp_path: Path, content: str, problem: str
) -> None:
    policy = tmp_path / "house-policy.yaml"
    policy.write_text(content)
    result = scan(estate, "--house-policy", str(policy))
    assert result.exit_code == 2
    assert f"--house-policy {policy}: " in result.output
    assert problem in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_missing_policy_file_is_exit_2(estate: Path, tmp_path: Path) -> None:
    result = scan(estate, "--house-policy", str(tmp_path / "absent.yaml"))
    assert result.exit_code == 2
    assert "cannot be read (No such file or directory)" in result.output


def test_the_file_names_the_organisation_s_own_tag_keys(tmp_path: Path) -> None:
    workspace = {
        "id": f"/subscriptions/{SUB}/resourceGroups/rg-ml/providers"
        "/Microsoft.MachineLearningServices/workspaces/mlw-fraud",
        "type": "microsoft.machinelearningservices/workspaces",
        "kind": "Default",
        "tags": {
            "x-mrm-ref": "MRM-0077",
            "model-owner": "fraud-models",
            "model-risk-tier": "tier-2",
            "model-validation-date": dt.datetime.now(dt.UTC).date().isoformat(),
        },
        "properties": {},
    }
    estate = tmp_path / "estate.json"
    estate.write_text(json.dumps({"data": [workspace]}))

    def model_id_findings(*args: str) -> list[dict[str, Any]]:
        result = scan(estate, *args)
        assert result.exit_code == 0, result.output
        return [f for f in json.loads(result.stdout)["findings"] if f["check_id"] == "INV-MODEL-ID"]

    [finding] = model_id_findings()
    assert finding["evidence"][0]["value"].startswith("none of model-id, model_id, modelId, ")

    policy = tmp_path / "house-policy.yaml"
    policy.write_text("inventory_tag_keys:\n  model_id: [x-mrm-ref]\n")
    assert model_id_findings("--house-policy", str(policy)) == []

    policy.write_text("inventory_tag_keys:\n  model_id: ['x-mrm/ref']\n")
    refused = scan(estate, "--house-policy", str(policy))
    assert refused.exit_code == 2
    [line] = refused.output.strip().splitlines()
    assert line.endswith(
        "inventory_tag_keys.model_id: a tag name cannot hold any of < > % & \\ ? / "
        "(Azure refuses them)"
    )
