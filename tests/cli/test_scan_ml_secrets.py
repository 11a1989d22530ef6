"""A secret written into an ML connection or datastore reaches no report, whatever the format.

The credential checks judge the credential type alone; the template and the plan below carry
literal secrets beside it (issue 20: keys copied into a workspace connection), and every output
of ``tutela scan`` must be free of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.scanner.sources.test_ml_data_sources import PLAN_SECRETS, TEMPLATE_KEY, plan, template
from tutela.cli.main import app

CONNECTION_KEY = "PLANTEDliteral0connection0api0key0FFFFFFFF"
CUSTOM_KEY = "PLANTEDcustom0keys0value0GGGGGGGGGGGG"
SECRETS = (TEMPLATE_KEY, CONNECTION_KEY, CUSTOM_KEY, *PLAN_SECRETS)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("ml-secrets")
    document = template()
    nested = document["resources"][0]["resources"][0]["properties"]
    nested["credentials"] = {"key": CONNECTION_KEY}  # a literal instead of listKeys()
    document["resources"].append(
        {
            "type": "Microsoft.MachineLearningServices/workspaces/connections",
            "apiVersion": "2024-10-01",
            "name": "hub-genai/partner-api",
            "properties": {
                "category": "CustomKeys",
                "authType": "CustomKeys",
                "target": "https://api.partner.example",
                "credentials": {"keys": {"x-api-key": CUSTOM_KEY}},
            },
        }
    )
    # the plan's secrets as `terraform show -json` prints them: in `after`, marked sensitive
    terraform = plan()
    for change in terraform["resource_changes"]:
        after = change["change"]["after"]
        change["change"]["after_sensitive"] = {
            key: True
            for key in ("account_key", "shared_access_signature", "client_secret")
            if key in after
        }
    paths = [folder / "template.json", folder / "plan.json"]
    paths[0].write_text(json.dumps(document))
    paths[1].write_text(json.dumps(terraform))
    return paths


@pytest.mark.parametrize("output_format", ["json", "sarif", "table", "junit", "csv", "html"])
def test_no_output_holds_a_secret_the_input_carried(inputs: list[Path], output_format: str) -> None:
    result = CliRunner().invoke(
        app,
        ["scan", *map(str, inputs), "--format", output_format, "--fail-on", "none"],
    )
    assert result.exit_code == 0, result.output
    assert "AML-CONN-SECRET-AUTH" in result.stdout or output_format == "html"
    for secret in SECRETS:
        assert secret not in result.stdout
        assert secret not in result.stderr


def test_the_findings_show_the_credential_type_only(inputs: list[Path]) -> None:
    result = CliRunner().invoke(
        app, ["scan", *map(str, inputs), "--format", "json", "--fail-on", "none"]
    )
    report = json.loads(result.stdout)
    evidence = {
        (f["check_id"], f["resource"].rsplit("/", 1)[-1]): f["evidence"]
        for f in report["findings"]
        if f["check_id"] in {"AML-CONN-SECRET-AUTH", "AML-DATASTORE-SECRET-AUTH"}
    }
    assert set(evidence) >= {
        ("AML-CONN-SECRET-AUTH", "aoai"),
        ("AML-CONN-SECRET-AUTH", "partner-api"),
        ("AML-DATASTORE-SECRET-AUTH", "raw"),
        ("AML-DATASTORE-SECRET-AUTH", "keyed"),
    }
    assert "ApiKey" in json.dumps(evidence[("AML-CONN-SECRET-AUTH", "aoai")])
