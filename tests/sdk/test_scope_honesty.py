"""The SDK's typed view of what a template scan could not decide or never looked at: findings on
resources under an undecidable condition (``conditional``), the reading ``notes`` and the
``not_evaluated`` section, on a report the scanner makes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tutela.cli.main import app
from tutela.sdk.models import NotEvaluated, Report

TEMPLATE = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {"deployOpenAI": {"type": "bool"}},
    "resources": [
        {
            "type": "Microsoft.CognitiveServices/accounts",
            "apiVersion": "2024-10-01",
            "name": "oai-sdk",
            "condition": "[parameters('deployOpenAI')]",
            "location": "westeurope",
            "kind": "OpenAI",
            "sku": {"name": "S0"},
            "properties": {"disableLocalAuth": False},
        },
        {
            "type": "Microsoft.Network/virtualNetworks",
            "apiVersion": "2024-05-01",
            "name": "vnet-sdk",
            "location": "westeurope",
            "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}},
        },
        {
            "type": "Microsoft.Resources/deployments",
            "apiVersion": "2022-09-01",
            "name": "linked",
            "properties": {
                "mode": "Incremental",
                "templateLink": {"uri": "https://example.com/t.json"},
            },
        },
    ],
}


def _report(tmp_path: Path) -> dict:
    path = tmp_path / "main.json"
    path.write_text(json.dumps(TEMPLATE))
    result = CliRunner().invoke(app, ["scan", str(path), "--format", "json", "--fail-on", "none"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_conditional_findings_notes_and_not_evaluated_are_typed(tmp_path: Path) -> None:
    document = _report(tmp_path)

    report = Report.model_validate(document)

    local_auth = [f for f in report.findings if f.check_id == "AOAI-LOCAL-AUTH"]
    assert local_auth
    assert all(f.conditional is True for f in local_auth)
    assert all(u.conditional for u in report.unknown if u.resource.endswith("/oai-sdk"))
    reasons = {entry.reason: entry for entry in report.not_evaluated}
    assert set(reasons) == {"linked_template", "no_check"}
    assert all(isinstance(entry, NotEvaluated) for entry in report.not_evaluated)
    vnet = reasons["no_check"]
    assert (vnet.type, vnet.count) == ("microsoft.network/virtualnetworks", 1)
    assert vnet.resources[0].endswith("/virtualNetworks/vnet-sdk")
    assert "example.com/t.json" in reasons["linked_template"].detail
    assert any("linked template" in note for note in report.notes)
    assert report.raw["not_evaluated"] == document["not_evaluated"]


def test_a_decided_template_has_no_conditional_findings_and_no_sections(tmp_path: Path) -> None:
    decided = {**TEMPLATE, "resources": TEMPLATE["resources"][:1]}
    decided["parameters"] = {"deployOpenAI": {"type": "bool", "defaultValue": True}}
    path = tmp_path / "decided.json"
    path.write_text(json.dumps(decided))
    result = CliRunner().invoke(app, ["scan", str(path), "--format", "json", "--fail-on", "none"])
    document = json.loads(result.stdout)

    report = Report.model_validate(document)

    assert report.findings
    assert all(f.conditional is None for f in report.findings)
    assert (report.notes, report.not_evaluated) == ([], [])
    assert "not_evaluated" not in report.raw
    assert "notes" not in report.raw
