"""The azcli script, executed: run by bash against a recording ``az``, its commands applied to
the sample estate as ARM would apply them, the estate re-scanned: every scripted fix passes."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import stat
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
import pytest

from tutela.scanner.catalog import load_catalog
from tutela.scanner.catalog.checks import Fix
from tutela.scanner.engine.evaluate import evaluate_estate
from tutela.scanner.engine.fixes import apply_fix
from tutela.scanner.estate import Estate, Resource
from tutela.scanner.outputs.iac import configuration_fix, remediation_items, render_azcli
from tutela.scanner.outputs.iac.api_versions import API_VERSIONS
from tutela.scanner.samples import sample_estate_path
from tutela.scanner.scan import run_scan
from tutela.scanner.sources.arg import resources_from_arg
from tutela.scanner.sources.relate import connect_endpoint

AS_OF = dt.date(2026, 12, 7)
FRAMEWORKS = ["iso42001", "sr11_7", "dora", "eu_ai_act"]
PARAMS = {  # every param a sample's fix asks for, as an operator would export it
    "LOG_ANALYTICS_WORKSPACE_ID": "/subscriptions/0/resourceGroups/ops/providers/"
    "Microsoft.OperationalInsights/workspaces/law",
    "PRIVATE_ENDPOINT_SUBNET_ID": "/subscriptions/0/resourceGroups/net/providers/"
    'Microsoft.Network/virtualNetworks/vnet/subnets/pe"quoted',
    "ALLOWED_IP_RULES": '[{"value": "203.0.113.0/24"}]',
    "ALLOWED_FQDNS": '["contoso.openai.azure.com"]',
    "KEY_VAULT_URI": "https://kv.vault.azure.net/",
    "KEY_NAME": "cmk",
    "KEY_VERSION": "1",
    "IDENTITY_CLIENT_ID": "00000000-0000-0000-0000-000000000009",
    "CUSTOM_SUBDOMAIN_NAME": "contoso-aoai",
    "RETENTION_DAYS": "30",
    "ADMIN_GROUP_OBJECT_IDS": '["00000000-0000-0000-0000-00000000000a"]',
    "NETWORK_POLICY_ENGINE": "azure",
    "AUTHORIZED_IP_RANGES": '["203.0.113.0/24"]',
    "MODEL_OWNER": "risk@contoso.example",
    "MODEL_RISK_TIER": "tier-2",
    "MODEL_VALIDATION_DATE": "2026-11-30",
    "MODEL_ID": "MRM-0042",
}
RECORDER = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["AZ_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:3] == ["resource", "show"]:
    print("westeurope")
"""


def sample_estate() -> Estate:
    export = orjson.loads(sample_estate_path().read_bytes())
    return Estate(resources_from_arg(export, "test"))


def failing(estate: Estate) -> list[SimpleNamespace]:
    report = run_scan(estate, FRAMEWORKS, scan_ts=dt.datetime(2026, 12, 7, tzinfo=dt.UTC))[1]
    return [SimpleNamespace(**finding) for finding in report.to_dict()["findings"]]


def run_script(
    script: str, tmp_path: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    az = bin_dir / "az"
    az.write_text(RECORDER)
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    path = tmp_path / "fix.sh"
    path.write_text(script)
    return subprocess.run(
        ["bash", str(path)],
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "AZ_LOG": str(tmp_path / "az.log"), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def recorded(tmp_path: Path) -> list[list[str]]:
    log = tmp_path / "az.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def az_value(text: str) -> Any:
    """As ``az resource update --set`` reads a value: JSON if it parses, else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def apply(estate: Estate, argv: list[str]) -> None:
    """What ARM does for one recorded command (the shapes the script emits, nothing else)."""
    if argv[:2] == ["resource", "show"]:
        return
    if argv[:2] == ["resource", "update"]:
        assert argv[2] == "--ids"
        resource = estate.get(argv[3])
        assert resource is not None, argv[3]
        changes: list[dict[str, Any]] = []
        for flag, arg in zip(argv[4::2], argv[5::2], strict=True):
            if flag == "--set":
                path, _, value = arg.partition("=")
                changes.append({"path": path, "value": az_value(value)})
            else:
                assert flag == "--remove"
                changes.append({"path": arg, "value": None})
        apply_fix(estate, resource, Fix.model_validate({"set": changes}))
        return
    assert argv[:4] == ["rest", "--method", "put", "--url"], argv
    assert argv[5] == "--body", argv
    url = urlsplit(argv[4])
    assert url.netloc == "management.azure.com"
    scope, _, child = unquote(url.path).rpartition("/providers/")
    kind, _, name = child.rpartition("/")
    assert url.query == f"api-version={API_VERSIONS[kind.lower()]}"
    body = json.loads(argv[6])
    if kind.lower() == "microsoft.network/privateendpoints":
        assert body["location"] == "westeurope"
        endpoint = Resource(
            id=f"{scope}/providers/{kind}/{name}",
            type=kind.lower(),
            name=name,
            properties=body["properties"],
        )
        targets = {r.key: r for r in estate}
        connect_endpoint(endpoint, targets)
        return
    owner = estate.get(scope)
    assert owner is not None, scope
    fix = {
        "add": [
            {
                "type": kind,
                "name": name,
                "scope": "resource" if "/resourceGroups/" in scope else "subscription",
                "properties": body["properties"],
            }
        ]
    }
    apply_fix(estate, owner, Fix.model_validate(fix))


def status(estate: Estate, check_id: str, resource_id: str) -> str:
    check = load_catalog().check(check_id)
    for result in evaluate_estate(estate, [check], as_of=AS_OF):
        if result.resource.id.lower() == resource_id.lower():
            return result.status
    raise AssertionError(f"{check_id} did not run on {resource_id}")


def test_the_executed_script_makes_every_scripted_failure_pass(tmp_path: Path) -> None:
    catalog = load_catalog()
    estate = sample_estate()
    items = remediation_items(failing(estate))
    scripted = [i for i in items if configuration_fix(catalog, i.check_id) is not None]
    assert len(scripted) >= 10  # the sample fails many fixable checks
    script = render_azcli(items, catalog, report_id="COMP-20261207-000000")

    run = run_script(script, tmp_path, PARAMS)
    assert run.returncode == 0, run.stderr
    commands = recorded(tmp_path)
    assert commands
    fixed = sample_estate()  # fresh: a scanned estate keeps caches of what it read
    for argv in commands:
        apply(fixed, argv)
    still = [
        (i.check_id, i.resource)
        for i in scripted
        if status(fixed, i.check_id, i.resource) != "pass"
    ]
    assert still == []
    # manual fixes are there as their portal steps, never as commands
    manual = {i.check_id for i in items if configuration_fix(catalog, i.check_id) is None}
    assert manual
    for check_id in manual:
        spec = catalog.check(check_id)
        if spec.fix is not None:
            assert f"# {check_id}: " in script
            assert "# Portal: " + " ".join(spec.portal_steps.split()) in script


def test_the_script_requires_its_params_before_changing_anything(tmp_path: Path) -> None:
    catalog = load_catalog()
    script = render_azcli(remediation_items(failing(sample_estate())), catalog)
    params = dict(PARAMS)
    del params["LOG_ANALYTICS_WORKSPACE_ID"]
    run = run_script(script, tmp_path, params)
    assert run.returncode != 0
    assert "LOG_ANALYTICS_WORKSPACE_ID" in run.stderr
    assert recorded(tmp_path) == []
    assert PARAMS["KEY_VAULT_URI"] not in script  # values live in the environment only


HOSTILE = "st'; rm -rf / #\n$(touch pwned)`touch pwned2`"


def test_hostile_names_and_ids_stay_data(tmp_path: Path) -> None:
    catalog = load_catalog()
    resource = (
        f"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/{HOSTILE}"
    )
    finding = SimpleNamespace(
        check_id="STG-MIN-TLS",
        resource=resource,
        resource_name=HOSTILE,
        resource_type="microsoft.storage/storageaccounts",
        framework="dora",
        control_id="Art. 9\nrm -rf ~",
    )
    diag = SimpleNamespace(**{**vars(finding), "check_id": "KV-DIAG-LOGS"})
    script = render_azcli(remediation_items([finding, diag]), catalog)
    for line in script.splitlines():
        if line.startswith("#"):
            continue
        assert "rm -rf" not in line or line.lstrip().startswith(("az ", "--", "#")), line
    run = run_script(script, tmp_path, {"LOG_ANALYTICS_WORKSPACE_ID": "/subscriptions/0/w"})
    assert run.returncode == 0, run.stderr
    assert not (tmp_path / "pwned").exists()
    assert not Path("pwned").exists()
    update, put = recorded(tmp_path)
    assert update[:4] == ["resource", "update", "--ids", resource]  # one word, exactly the id
    assert update[4:] == ["--set", 'properties.minimumTlsVersion="TLS1_2"']
    assert unquote(urlsplit(put[4]).path).startswith(resource + "/providers/")
    # every shell word the script holds splits back to what was meant
    words = shlex.split(script, comments=True)
    assert resource in words


def test_every_type_a_fix_touches_has_an_api_version_and_no_other() -> None:
    touched = set()
    for check in load_catalog().checks:
        if check.fix is not None and not check.fix.manual:
            touched |= {a.type.lower() for a in check.fix.add}
            if check.fix.set:
                touched |= set(check.resource_types)
    assert touched == set(API_VERSIONS)
