"""The ARM template, scanned back by our ARM reader and deployed over the estate it was rendered
for (each redeclared resource as ``union(current, fix)``, each added resource PUT): every check
with a configuration fix passes on the resource it failed on."""

from __future__ import annotations

import copy
import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import jsonschema
import orjson
import pytest

from tests.scanner.fixes.test_ai_foundry import project
from tests.scanner.fixes.test_data_stores import cosmos, workspace
from tests.scanner.fixes.test_storage_vault import VAULT, vault
from tests.scanner.outputs.iac.params import fix_params
from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.evaluate import evaluate_estate
from tutela.scanner.estate import UNKNOWN, Estate, Resource, UnknownObject
from tutela.scanner.outputs.iac import configuration_fix, remediation_items, render_arm
from tutela.scanner.outputs.iac.api_versions import API_VERSIONS
from tutela.scanner.outputs.iac.items import RemediationItem
from tutela.scanner.outputs.iac.plan import DEPLOYMENTS_API_VERSION
from tutela.scanner.samples import sample_estate_path
from tutela.scanner.scan import run_scan
from tutela.scanner.sources.arg import resources_from_arg
from tutela.scanner.sources.arm import _Reader, resources_from_template
from tutela.scanner.sources.arm_expressions import Deployment, Evaluator
from tutela.scanner.sources.relate import connect_endpoint

AS_OF = dt.date(2026, 12, 7)
FRAMEWORKS = ["iso42001", "sr11_7", "dora", "eu_ai_act"]
PARAMS = fix_params("0")  # as a deployment would be given them
_SETTING = "/providers/microsoft.insights/diagnosticsettings/"
_SETTING_TYPE = "microsoft.insights/diagnosticsettings"
DEPLOYING = "the-subscription-az-deployment-sub-create-runs-in"
# Resources a fix adds to a subscription: its facts (a redeclared policy assignment is not one)
FACT_TYPES = ("microsoft.security/pricings",)


def sample_estate() -> Estate:
    export = orjson.loads(sample_estate_path().read_bytes())
    return Estate(resources_from_arg(export, "test"))


def soft_delete_estate() -> Estate:
    """The one fixable failure the sample lacks (tests/scanner/fixes builds it the same way)."""
    return Estate([vault(enableSoftDelete=False, enablePurgeProtection=True)])


def failing_items(estate: Estate) -> list[RemediationItem]:
    report = run_scan(estate, FRAMEWORKS, scan_ts=dt.datetime(2026, 12, 7, tzinfo=dt.UTC))[1]
    return remediation_items(SimpleNamespace(**f) for f in report.to_dict()["findings"])


def status(estate: Estate, check_id: str, resource_id: str) -> str:
    check = load_catalog().check(check_id)
    for result in evaluate_estate(estate, [check], as_of=AS_OF):
        if result.resource.id.lower() == resource_id.lower():
            return result.status
    raise AssertionError(f"{check_id} did not run on {resource_id}")


def read_back(template: dict[str, Any], params: dict[str, Any]) -> list[Resource]:
    """Every resource the template declares, as our ARM reader reads it (before it relates
    facts to resources: the resources they go on are the estate's, not the template's)."""
    reader = _Reader("remediation.json")
    place = Deployment(DEPLOYING, None)
    reader.template(template, "", Evaluator(template, place, params), place)
    return reader.resources


def overlay(current: Any, declared: Any) -> Any:
    """What ARM stores for ``union(current, changes)``: the reader's result with what it could
    not know (the current state, read by ``reference()``) taken from the estate. A null is a
    property not present (ARM's Null values)."""
    if declared is UNKNOWN:
        return current
    if isinstance(declared, UnknownObject):
        merged = dict(current) if isinstance(current, dict) else {}
        for key, value in declared.items():
            merged[key] = overlay(merged.get(key, UNKNOWN), value)
            if merged[key] is None or merged[key] is UNKNOWN:
                del merged[key]
        return merged
    return declared


def deploy(estate: Estate, declared: list[Resource]) -> None:
    """Apply the template's resources to the estate as ARM would (the shapes it emits only)."""
    index = {resource.key: resource for resource in estate}
    for resource in declared:
        owner = estate.get(resource.id)
        if owner is not None and resource.type not in FACT_TYPES:  # union(current, fix)
            for field in ("location", "kind", "sku", "identity", "tags", "properties"):
                setattr(owner, field, overlay(getattr(owner, field), getattr(resource, field)))
            continue
        fact = {
            "id": resource.id,
            "name": resource.name,
            "type": resource.type,
            "properties": resource.properties,
        }
        if resource.type == _SETTING_TYPE:
            target = estate.get(resource.id[: resource.id.lower().rfind(_SETTING)])
            assert target is not None, resource.id
            kept = [s for s in target.diagnostic_settings or [] if s.get("name") != resource.name]
            target.diagnostic_settings = [*kept, fact]
        elif resource.type in (*FACT_TYPES, "microsoft.authorization/policyassignments"):
            subscription = estate.get(f"/subscriptions/{resource.subscription_id}")
            assert subscription is not None, resource.id
            field = "security_pricings" if "pricings" in resource.type else "policy_assignments"
            kept = [f for f in getattr(subscription, field) or [] if f.get("name") != resource.name]
            setattr(subscription, field, [*kept, fact])
        else:
            assert resource.type == "microsoft.network/privateendpoints", resource.type
            assert resource.location is UNKNOWN  # the resource's current location, read then
            connect_endpoint(resource, index)


def foundry_estate() -> Estate:
    """A Foundry project without a managed identity (tests/scanner/fixes builds it the same way)."""
    return Estate([project()])


def data_stores_estate() -> Estate:
    """Databricks workspaces and a Cosmos DB account failing every fixable check of theirs
    (tests/scanner/fixes builds them the same way)."""
    return Estate(
        [
            workspace(
                "standard",
                "dbw-standard",
                publicNetworkAccess="Enabled",
                parameters={"enableNoPublicIp": {"type": "Bool", "value": False}},
            ),
            workspace("premium", "dbw-premium", publicNetworkAccess="Disabled"),
            cosmos(
                publicNetworkAccess="Enabled", ipRules=[], disableKeyBasedMetadataWriteAccess=False
            ),
        ]
    )


CASES = [
    ("sample", sample_estate),
    ("soft delete", soft_delete_estate),
    ("data stores", data_stores_estate),
    ("foundry project", foundry_estate),
]


@pytest.mark.parametrize(("_name", "build"), CASES)
def test_the_template_read_back_and_deployed_makes_every_fixable_failure_pass(
    _name: str, build: Any
) -> None:
    catalog = load_catalog()
    items = failing_items(build())
    fixable = [i for i in items if configuration_fix(catalog, i.check_id) is not None]
    assert fixable
    template = json.loads(render_arm(items, catalog, report_id="COMP-20261207-000000"))
    declared = read_back(template, PARAMS)
    assert all(DEPLOYING not in r.id for r in declared)  # each placed by its nested deployment
    public = resources_from_template(template, "remediation.json", parameters=PARAMS)
    assert {r.key for r in declared if r.type != _SETTING_TYPE} <= {r.key for r in public}
    fixed = build()
    targets = {i.resource.lower() for i in fixable}
    redeclared = [r for r in declared if r.key in targets and r.type not in FACT_TYPES]
    assert redeclared
    for resource in redeclared:
        if resource.type == "microsoft.authorization/policyassignments":
            # the reader adds an assignment's scope to a copy of its properties: a plain dict
            assert resource.properties.keys() == {"enforcementMode", "scope"}
            resource.properties = UnknownObject(
                enforcementMode="Default"
            )  # never a bare PUT: the rest comes from the resource
        assert isinstance(resource.properties, UnknownObject), resource.id
    deploy(fixed, declared)
    still = [
        (i.check_id, i.resource) for i in fixable if status(fixed, i.check_id, i.resource) != "pass"
    ]
    assert still == []


def test_every_configuration_fix_is_proved_by_the_scan_back() -> None:
    catalog = load_catalog()
    fixable = {c.id for c in catalog.checks if c.fix is not None and not c.fix.manual}
    proved = {i.check_id for _, build in CASES for i in failing_items(build())}
    assert fixable <= proved, sorted(fixable - proved)


# The deployment-template structure (learn.microsoft.com/azure/azure-resource-manager/templates/
# syntax), as far as this renderer writes it: Microsoft's JSON schema is not available offline.
_PARAMETER = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {
            "enum": ["string", "securestring", "int", "bool", "object", "secureObject", "array"]
        },
        "metadata": {"type": "object"},
    },
    "additionalProperties": False,  # no defaultValue: values are never written in the template
}
_RESOURCE = {
    "type": "object",
    "required": ["type", "apiVersion", "name"],
    "properties": {
        "type": {"type": "string", "pattern": "^[A-Za-z.]+(/[A-Za-z]+)+$"},
        "apiVersion": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}(-preview)?$"},
        "name": {"type": "string", "minLength": 1},
        **{key: {} for key in ("location", "sku", "kind", "identity", "tags", "scope")},
        "properties": {"type": ["object", "string"]},
        "metadata": {"type": "object"},
    },
    "additionalProperties": False,
}
_TEMPLATE: dict[str, Any] = {
    "type": "object",
    "required": ["$schema", "contentVersion", "resources"],
    "properties": {
        "$schema": {"type": "string", "pattern": r"^https://schema\.management\.azure\.com/"},
        "contentVersion": {"type": "string", "pattern": r"^\d+\.\d+\.\d+\.\d+$"},
        "metadata": {"type": "object"},
        "parameters": {"type": "object", "additionalProperties": _PARAMETER},
        "variables": {"type": "object"},
        "resources": {"type": "array", "items": {"$ref": "#/$defs/resource"}},
    },
    "additionalProperties": False,
    "$defs": {
        "resource": {
            "if": {"properties": {"type": {"const": "Microsoft.Resources/deployments"}}},
            "then": {
                "type": "object",
                "required": ["type", "apiVersion", "name", "subscriptionId", "properties"],
                "properties": {
                    **_RESOURCE["properties"],
                    "subscriptionId": {"type": "string", "minLength": 1},
                    "resourceGroup": {"type": "string", "minLength": 1},
                    "properties": {
                        "type": "object",
                        "required": ["mode", "template", "parameters"],
                        "properties": {
                            "mode": {"const": "Incremental"},
                            "expressionEvaluationOptions": {
                                "properties": {"scope": {"enum": ["inner", "outer"]}}
                            },
                            "parameters": {
                                "type": "object",
                                "additionalProperties": {
                                    "type": "object",
                                    "required": ["value"],
                                    "properties": {"value": {}},
                                    "additionalProperties": False,
                                },
                            },
                            "template": {"$ref": "#"},
                        },
                        "additionalProperties": False,
                    },
                },
                "additionalProperties": False,
            },
            "else": _RESOURCE,
        }
    },
}


def test_the_template_has_the_deployment_template_structure() -> None:
    template = json.loads(render_arm(failing_items(sample_estate()), load_catalog()))
    jsonschema.Draft202012Validator(_TEMPLATE).validate(template)
    assert template["$schema"].endswith("/subscriptionDeploymentTemplate.json#")
    names = [d["name"] for d in template["resources"]]
    assert len(names) == len(set(names))
    for deployment in template["resources"]:
        assert deployment["apiVersion"] == DEPLOYMENTS_API_VERSION
        # a resource group's deployment is placed by it; a subscription's needs a location
        assert ("resourceGroup" in deployment) != ("location" in deployment)
        assert deployment["metadata"]["remediates"]
        properties = deployment["properties"]
        assert properties["expressionEvaluationOptions"] == {"scope": "inner"}
        inner = properties["template"]
        assert inner["$schema"].endswith(
            "/deploymentTemplate.json#"
            if "resourceGroup" in deployment
            else "/subscriptionDeploymentTemplate.json#"
        )
        assert set(properties["parameters"]) == set(inner["parameters"])
        for resource in inner["resources"]:
            assert resource["apiVersion"] == API_VERSIONS[resource["type"].lower()]
    for parameter in template["parameters"].values():
        assert parameter["metadata"]["description"]


def test_the_structure_check_rejects_what_arm_would() -> None:
    template = json.loads(render_arm(failing_items(sample_estate()), load_catalog()))
    validator = jsonschema.Draft202012Validator(_TEMPLATE)
    broken = copy.deepcopy(template)
    broken["parameters"]["log_analytics_workspace_id"]["defaultValue"] = "x"
    assert not validator.is_valid(broken)
    broken = copy.deepcopy(template)
    del broken["resources"][0]["properties"]["template"]["resources"][0]["apiVersion"]
    assert not validator.is_valid(broken)


def test_only_the_current_state_and_the_fix_are_written_into_a_redeclared_resource() -> None:
    template = json.loads(render_arm(failing_items(sample_estate()), load_catalog()))
    redeclared = [
        (d, r)
        for d in template["resources"]
        for r in d["properties"]["template"]["resources"]
        if d["metadata"]["resource"].lower().endswith("/" + r["name"].split("/")[-1].lower())
        and r["type"].lower() != "microsoft.network/privateendpoints"
    ]
    assert redeclared
    for deployment, resource in redeclared:
        current = deployment["properties"]["parameters"]["current"]["value"]
        assert current.startswith(f"[reference('{deployment['metadata']['resource']}', '")
        assert current.endswith("', 'Full')]")
        assert resource["properties"] in (
            "[union(parameters('current').properties, variables('changes').properties)]",
            "[parameters('current').properties]",  # a fix that changes tags only
        )
        for key in ("location", "sku", "kind", "identity", "tags"):
            assert f"contains(parameters('current'), '{key}')" in resource[key]


def test_a_null_in_a_fix_is_written_as_null_and_the_template_says_why() -> None:
    items = [i for i in failing_items(sample_estate()) if i.check_id == "SRCH-LOCAL-AUTH"][:1]
    assert items
    template = json.loads(render_arm(items, load_catalog()))
    (deployment,) = template["resources"]
    changes = deployment["properties"]["template"]["variables"]["changes"]
    assert changes["properties"] == {"disableLocalAuth": True, "authOptions": None}
    assert "null-values" in template["metadata"]["nullValues"]


def iac_item(check_id: str, resource: str, origin: str) -> RemediationItem:
    item = RemediationItem(check_id, resource, resource.rsplit("/", 1)[-1], "", origin=origin)
    item.controls["dora Art. 9"] = None
    return item


@pytest.mark.parametrize(
    ("source", "resource", "origin"),
    [
        (
            "arm",
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-template/"
            "providers/Microsoft.Storage/storageAccounts/st1",
            "main.json: resources[0]",
        ),
        (
            None,
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/"
            "providers/Microsoft.Storage/storageAccounts/st1",
            "main.json: resources[0]",
        ),
        ("terraform", "azurerm_storage_account.st1", "plan.json: azurerm_storage_account.st1"),
    ],
)
def test_iac_report_items_are_listed_for_their_source_never_deployed(
    source: str | None, resource: str, origin: str
) -> None:
    items = [iac_item("STG-MIN-TLS", resource, origin), iac_item("KV-DIAG-LOGS", resource, origin)]
    template = json.loads(render_arm(items, load_catalog(), source=source))
    assert template["resources"] == []
    assert template["parameters"] == {}
    listed = template["metadata"]["fixInSource"]
    assert [entry["check"] for entry in listed] == ["STG-MIN-TLS", "KV-DIAG-LOGS"]
    assert listed[0]["origin"] == origin
    assert listed[0]["set"] == ['properties.minimumTlsVersion = "TLS1_2"']
    assert "<log_analytics_workspace_id>" in listed[1]["set"][0]
    assert "00000000-0000-0000-0000-000000000000" not in json.dumps(template["resources"])


def test_manual_fixes_are_listed_with_their_portal_steps() -> None:
    catalog = load_catalog()
    items = failing_items(sample_estate())
    template = json.loads(render_arm(items, catalog))
    manual = {entry["check"]: entry for entry in template["metadata"]["manual"]}
    expected = {i.check_id for i in items if (c := catalog.check(i.check_id)).fix and c.fix.manual}
    assert expected
    assert expected <= set(manual)
    for check_id in expected:
        assert manual[check_id]["portalSteps"] == " ".join(
            catalog.check(check_id).portal_steps.split()
        )
        assert manual[check_id]["reason"].startswith("Manual: ")


HOSTILE = "st'x]\n${evil}*/[deployment()]"


def test_hostile_report_text_stays_data() -> None:
    """Names, ids and controls with quotes, brackets, ``${``, newlines and ``*/`` read back as
    exactly what they were: nothing became an expression or ended a string."""
    group = "[rg']\"x]"
    resource = f"/subscriptions/s1/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/[kv]"
    item = RemediationItem("KV-PURGE-PROTECTION", resource, "[kv]", "microsoft.keyvault/vaults")
    item.controls[f"dora {HOSTILE}"] = None
    diag = copy.deepcopy(item)
    diag.check_id = "KV-DIAG-LOGS"
    text = render_arm([item, diag], load_catalog(), report_id=HOSTILE)
    template = json.loads(text)
    assert template["metadata"]["report"] == HOSTILE  # not "[…]": no escape needed
    (deployment,) = template["resources"]
    assert deployment["resourceGroup"] == "[" + group  # a literal "[…]" escaped as "[[…]"
    declared = read_back(template, PARAMS)
    by_type = {r.type: r for r in declared}
    vault_read = by_type["microsoft.keyvault/vaults"]
    assert vault_read.id == resource
    assert vault_read.name == "[kv]"
    setting = by_type["microsoft.insights/diagnosticsettings"]
    assert setting.id.startswith(resource + "/providers/Microsoft.Insights/diagnosticSettings/")
    assert deployment["metadata"]["remediates"][0]["controls"] == [f"dora {HOSTILE}"]
    for literal in ("[kv]", f"[{HOSTILE}]"):  # a whole "[…]" string is escaped wherever it is
        item.resource_name = literal
        assert literal not in json.loads(render_arm([diag], load_catalog())).values()


def test_the_soft_delete_fixture_is_the_fix_tests_own() -> None:
    estate = soft_delete_estate()
    assert status(estate, "KV-SOFT-DELETE", VAULT) == "fail"


def test_an_assignment_of_a_management_group_is_listed_with_its_portal_steps() -> None:
    resource = (
        "/providers/Microsoft.Management/managementGroups/mg/providers/"
        "Microsoft.Authorization/policyAssignments/ai"
    )
    item = iac_item("POL-ENFORCEMENT-MODE", resource, "")
    template = json.loads(render_arm([item], load_catalog()))
    assert template["resources"] == []
    (entry,) = template["metadata"]["manual"]
    assert entry["resource"] == resource
    assert entry["set"] == ['properties.enforcementMode = "Default"']
    assert entry["portalSteps"]
