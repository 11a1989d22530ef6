"""The Terraform output, applied: plan reports' override files merged into the plan as Terraform
merges them and their new resources added as planned creates, the plan re-read and re-scanned;
live reports' azapi bodies deep-merged as azapi_update_resource merges them. Each fix passes."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import os
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import hcl2
import orjson
import pytest

from tests.scanner.outputs.iac.params import fix_params
from tutela.scanner.catalog import load_catalog
from tutela.scanner.catalog.checks import Fix
from tutela.scanner.engine.evaluate import evaluate_estate
from tutela.scanner.engine.fixes import apply_fix
from tutela.scanner.estate import Estate, Resource
from tutela.scanner.outputs.iac import configuration_fix, remediation_items, render_terraform
from tutela.scanner.outputs.iac.api_versions import API_VERSIONS
from tutela.scanner.outputs.iac.items import RemediationItem
from tutela.scanner.outputs.iac.terraform import split_files
from tutela.scanner.outputs.iac.terraform_inverse import to_attributes
from tutela.scanner.samples import sample_estate_path
from tutela.scanner.scan import run_scan
from tutela.scanner.sources.arg import resources_from_arg
from tutela.scanner.sources.relate import connect_endpoint
from tutela.scanner.sources.terraform import resources_from_terraform
from tutela.scanner.sources.terraform_convert import Mapping
from tutela.scanner.sources.terraform_map import MAPPINGS
from tutela.scanner.sources.terraform_plan import read

AS_OF = dt.date(2026, 12, 7)
FRAMEWORKS = ["iso42001", "sr11_7", "dora", "eu_ai_act"]
FIXTURES = Path(__file__).parents[2] / "sources" / "fixtures"
TERRAFORM = "/usr/local/bin/terraform"
SUB = "6a1f3c2e-9b4d-4f8a-a2c7-3e5d8b0f1a94"
PARAMS = fix_params(SUB)  # as a tfvars file gives them
# Checks whose fix writes an ARM path no azurerm attribute of the resource's type writes (in
# terraform_map): the output lists them as changes by hand. A new gap shows here.
BY_HAND = {
    ("ACR-TRUST-POLICY", "azurerm_container_registry"),  # trustPolicy.type
    ("INV-MODEL-ID", "azurerm_cognitive_deployment"),  # a deployment has no tags
    ("INV-RISK-TIER", "azurerm_cognitive_deployment"),
    ("INV-VALIDATION-DATE", "azurerm_cognitive_deployment"),
    ("INV-MODEL-OWNER", "azurerm_cognitive_deployment"),
}
# Resources of types the mapping cannot change (azapi_resource's body) are by hand whole.
NO_MAPPING = {
    ("AML-ENDPOINT-AUTH", "its resource type has no azurerm mapping"),
    ("AML-ENDPOINT-PUBLIC", "its resource type has no azurerm mapping"),
    ("INV-MODEL-OWNER", "its resource type has no azurerm mapping"),
    ("INV-RISK-TIER", "its resource type has no azurerm mapping"),
    ("INV-VALIDATION-DATE", "its resource type has no azurerm mapping"),
    ("INV-MODEL-ID", "its resource type has no azurerm mapping"),
    # blob_properties of the account; the output does not write into it
    (
        "STG-BLOB-SOFT-DELETE",
        "it is a microsoft.storage/storageaccounts/blobservices within azurerm_storage_account",
    ),
}
# Checks that also read a value only the service computes: a plan leaves them unknown once fixed.
COMPUTED = {"SRCH-CMK-ENFORCE": "encryptionComplianceStatus"}
# Fixable checks a plan cannot fail: azurerm always sets what they ask for.
ALWAYS = {
    "KV-SOFT-DELETE": "azurerm creates every vault with soft delete on",
    "AIF-PROJECT-IDENTITY": "azurerm_cognitive_account_project requires an identity block",
}


# --- scanning -----------------------------------------------------------------------------------


def scan(document: dict[str, Any]) -> tuple[Estate, list[RemediationItem]]:
    """The plan's estate and an item per failing (check, resource) of every check."""
    estate = Estate(resources_from_terraform(copy.deepcopy(document), "plan.json"))
    findings = [
        SimpleNamespace(
            check_id=result.check.id,
            resource=result.resource.id,
            resource_name=result.resource.name,
            resource_type=result.resource.type,
            framework="test",
            control_id=result.check.id,
            origin=result.resource.origin,
        )
        for result in evaluate_estate(estate, load_catalog().checks, as_of=AS_OF)
        if result.status == "fail"
    ]
    return estate, remediation_items(findings)


def status(estate: Estate, check_id: str, resource_id: str) -> str:
    check = load_catalog().check(check_id)
    for result in evaluate_estate(estate, [check], as_of=AS_OF):
        if result.resource.id.lower() == resource_id.lower():
            return result.status
    raise AssertionError(f"{check_id} did not run on {resource_id}")


def fmt_check(path: str, text: str) -> None:
    """``terraform fmt -check -``: the text is valid HCL laid out as Terraform lays it."""
    if not os.path.exists(TERRAFORM):
        print(f"terraform fmt skipped for {path}: {TERRAFORM} is not installed")
        return
    run = subprocess.run(
        [TERRAFORM, "fmt", "-check", "-no-color", "-"],
        input=text,
        capture_output=True,
        text=True,
        env={"TF_CLI_CONFIG_FILE": os.devnull, "PATH": os.environ.get("PATH", "")},
        check=False,
    )
    assert run.returncode == 0, f"{path}: {run.stdout}{run.stderr}\n{text}"


def parsed_files(text: str) -> dict[str, dict[str, Any]]:
    files = split_files(text)
    assert files
    out = {}
    for path, body in files.items():
        fmt_check(path, body)
        out[path] = hcl2.loads(body)
    return out


# --- evaluating the few expression shapes the renderer writes ----------------------------------


class Scope:
    """What an expression in one module instance can refer to: params, the plan's resources."""

    def __init__(self, estate: Estate, module: str) -> None:
        self.module = module
        self.by_address: dict[str, Resource] = {}
        for resource in estate:  # the first of an origin: an account before its blob service
            if resource.origin and ": " in resource.origin:
                self.by_address.setdefault(resource.origin.partition(": ")[2], resource)
        self.subscription = next(
            r.id for r in estate if r.type == "microsoft.resources/subscriptions"
        )

    def evaluate(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {unquote(k): self.evaluate(v) for k, v in value.items() if k != "__is_block__"}
        if isinstance(value, list):
            return [self.evaluate(v) for v in value]
        if not isinstance(value, str):
            return value
        if value.startswith("${") and value.endswith("}"):
            return self.expression(value[2:-1])
        assert value.startswith('"'), value
        return self.template(value[1:-1])

    def template(self, text: str) -> str:
        out, at = [], 0
        literal = ""
        while at < len(text):
            if text.startswith("$${", at) or text.startswith("%%{", at):
                literal += text[at + 1 : at + 3]
                at += 3
            elif text.startswith("${", at):
                end = closing(text, at + 2)
                out.append(json.loads(f'"{literal}"'))
                literal = ""
                out.append(str(self.expression(text[at + 2 : end])))
                at = end + 1
            else:
                literal += text[at]
                at += 1
        out.append(json.loads(f'"{literal}"'))
        return "".join(out)

    def expression(self, text: str) -> Any:
        text = text.strip()
        if m := re.fullmatch(r"var\.(\w+)", text):
            return PARAMS[m[1].removeprefix("tutela_")]
        if text == "data.azurerm_subscription.tutela.id":
            return self.subscription
        if m := re.fullmatch(r"!\((.*)\)", text):
            return not self.expression(m[1])
        if m := re.fullmatch(r"keys\((.*)\)", text):
            return sorted(self.expression(m[1]))
        if m := re.fullmatch(r'trimsuffix\((.*), "(.*)"\)', text):
            return str(self.expression(m[1])).removesuffix(m[2])
        if m := re.fullmatch(r"\[for rule in (.*) : rule\.(\w+)\]", text):
            return [rule[m[2]] for rule in self.expression(m[1])]
        if m := re.fullmatch(r'lower\((.*)\) == "(.*)"', text):
            return str(self.expression(m[1])).lower() == m[2]
        if text.startswith('"'):
            return self.template(text[1:-1])
        m = re.fullmatch(r'(\w+\.[\w-]+(?:\[(?:\d+|"[^"]*")\])?)\.(\w+)', text)
        assert m, f"an expression the test cannot evaluate: {text}"
        prefix = f"{self.module}." if self.module else ""
        resource = self.by_address[prefix + m[1]]
        return {
            "id": resource.id,
            "name": resource.name,
            "location": resource.location or "westeurope",
            "resource_group_name": resource.resource_group,
        }[m[2]]


def closing(text: str, at: int) -> int:
    """The index of the ``}`` closing an interpolation that starts at ``at`` (quotes skipped)."""
    depth, quoted = 0, False
    while at < len(text):
        char = text[at]
        if quoted:
            if char == "\\":
                at += 2
                continue
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return at
            depth -= 1
        at += 1
    raise AssertionError(f"unclosed interpolation in {text}")


def unquote(key: str) -> str:
    return json.loads(key) if key.startswith('"') else key


def resources_in(parsed: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for block in parsed.get("resource", []):
        for tf_type, named in block.items():
            for name, body in named.items():
                out.append((unquote(tf_type), unquote(name), body))
    return out


def attributes(body: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """A block's attributes and nested blocks as a plan's ``after`` has them (blocks as lists)."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key.startswith("__"):
            continue
        if (
            isinstance(value, list)
            and value
            and all(isinstance(v, dict) and v.get("__is_block__") for v in value)
        ):
            out[key] = [attributes(v, scope) for v in value]
        else:
            out[key] = scope.evaluate(value)
    return out


def module_names(module_address: str) -> tuple[str, ...]:
    return tuple(re.findall(r"module\.([\w-]+)", module_address))


def apply_plan_output(document: dict[str, Any], estate: Estate, text: str) -> dict[str, Any]:
    """The plan as Terraform would plan it with the output's files in their directories."""
    plan = copy.deepcopy(document)
    changes = plan["resource_changes"]
    instances = sorted({c.get("module_address", "") for c in changes})
    for path, parsed in parsed_files(text).items():
        directory, _, file = path.rpartition("/")
        names = tuple(re.findall(r"module\.([\w-]+)", directory))
        for module in [m for m in instances if module_names(m) == names]:
            scope = Scope(estate, module)
            for tf_type, name, body in resources_in(parsed):
                values = attributes(body, scope)
                if file == "tutela_override.tf":
                    matched = [
                        c
                        for c in changes
                        if c.get("module_address", "") == module
                        and c["type"] == tf_type
                        and c["name"] == name
                    ]
                    assert matched, f"{path}: no {tf_type}.{name} to override in {module!r}"
                    for change in matched:
                        # attributes and nested block types replace the original's, whole
                        change["change"]["after"].update(values)
                        for key in values:
                            (change["change"].get("after_unknown") or {}).pop(key, None)
                    continue
                address = f"{module}.{tf_type}.{name}" if module else f"{tf_type}.{name}"
                changes.append(
                    {
                        "address": address,
                        "module_address": module,
                        "mode": "managed",
                        "type": tf_type,
                        "name": name,
                        "change": {"actions": ["create"], "after": values, "after_unknown": {}},
                    }
                )
    return plan


def weak_plan() -> dict[str, Any]:
    """A small plan of resources that fail the fixes the fixture plans do not exercise."""
    return plan_of(WEAK)


def premium_plan() -> dict[str, Any]:
    """A Premium registry (whose policies apply) and the AI plan on without its extension."""
    return plan_of(
        {
            "azurerm_container_registry.premium": {
                "name": "acrpremium",
                **GROUP,
                "sku": "Premium",
                "retention_policy_in_days": 0,
            },
            "azurerm_security_center_subscription_pricing.ai": {
                "tier": "Standard",
                "resource_type": "AI",
            },
        }
    )


def data_stores_plan() -> dict[str, Any]:
    """Databricks workspaces (a standard one, a premium one without keys) and an open Cosmos DB
    account."""
    return plan_of(
        {
            "azurerm_databricks_workspace.standard": {
                "name": "dbw-standard",
                **GROUP,
                "sku": "standard",
                "public_network_access_enabled": True,
                "custom_parameters": [{"no_public_ip": False}],
            },
            "azurerm_databricks_workspace.premium": {
                "name": "dbw-premium",
                **GROUP,
                "sku": "premium",
                "public_network_access_enabled": False,
                "custom_parameters": [{"no_public_ip": True}],
            },
            "azurerm_cosmosdb_account.open": {
                "name": "cosmos-open",
                **GROUP,
                "kind": "GlobalDocumentDB",
                "offer_type": "Standard",
                "public_network_access_enabled": True,
                "local_authentication_disabled": False,
                "access_key_metadata_writes_enabled": True,
                "ip_range_filter": [],
                "is_virtual_network_filter_enabled": False,
            },
        }
    )


GROUP = {"resource_group_name": "rg-weak", "location": "westeurope"}
WEAK: dict[str, dict[str, Any]] = {
    "azurerm_container_registry.weak": {
        "name": "acrweak",
        **GROUP,
        "sku": "Basic",
        "admin_enabled": True,
        "public_network_access_enabled": True,
        "anonymous_pull_enabled": True,
        "retention_policy_in_days": 0,
    },
    "azurerm_kubernetes_cluster.weak": {
        "name": "aks-weak",
        **GROUP,
        "sku_tier": "Free",
        "tags": {"env": "prod"},
        "http_application_routing_enabled": True,
        "key_vault_secrets_provider": [{"secret_rotation_enabled": False}],
        "local_account_disabled": False,
        "azure_policy_enabled": False,
        "network_profile": [{"network_plugin": "kubenet"}],
        "default_node_pool": [{"name": "system", "vm_size": "Standard_D4s_v5"}],
    },
    "azurerm_application_insights.weak": {
        "name": "appi-weak",
        **GROUP,
        "application_type": "web",
        "local_authentication_disabled": False,
        "internet_ingestion_enabled": True,
        "internet_query_enabled": True,
    },
    "azurerm_machine_learning_workspace.weak": {
        "name": "mlw-weak",
        **GROUP,
        "public_network_access_enabled": True,
        "v1_legacy_mode_enabled": True,
    },
    "azurerm_cognitive_account.weak": {
        "name": "oai-weak",
        **GROUP,
        "kind": "OpenAI",
        "sku_name": "S0",
        "local_auth_enabled": True,
        "public_network_access_enabled": True,
        "tags": {"model-id": "MRM-1"},
    },
    "azurerm_key_vault.weak": {
        "name": "kv-weak",
        **GROUP,
        "sku_name": "standard",
        "tenant_id": SUB,
        "rbac_authorization_enabled": False,
        "purge_protection_enabled": False,
    },
    "azurerm_search_service.weak": {
        "name": "srch-weak",
        **GROUP,
        "sku": "standard",
        "replica_count": 1,
        "local_authentication_enabled": True,
        "authentication_failure_mode": "http403",
    },
    "azurerm_storage_account.weak": {
        "name": "stweak",
        **GROUP,
        "account_tier": "Standard",
        "account_replication_type": "LRS",
        "https_traffic_only_enabled": False,
        "cross_tenant_replication_enabled": True,
        "network_rules": [{"default_action": "Allow", "bypass": ["AzureServices"]}],
    },
    # the subscription's plans and assignments are seen: the AI ones are missing
    "azurerm_security_center_subscription_pricing.vms": {
        "tier": "Free",
        "resource_type": "VirtualMachines",
    },
    "azurerm_subscription_policy_assignment.other": {
        "name": "other",
        "subscription_id": f"/subscriptions/{SUB}",
        "policy_definition_id": "/providers/Microsoft.Authorization/policyDefinitions/x",
        "enforce": False,
    },
}


def plan_of(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    changes = [
        {
            "address": address,
            "mode": "managed",
            "type": address.split(".")[0],
            "name": address.split(".")[1],
            "change": {"actions": ["create"], "after": after, "after_unknown": {}},
        }
        for address, after in resources.items()
    ]
    configuration = {
        "provider_config": {
            "azurerm": {
                "name": "azurerm",
                "expressions": {"subscription_id": {"constant_value": SUB}},
            }
        },
        "root_module": {
            "resources": [
                {
                    "address": a,
                    "mode": "managed",
                    "type": a.split(".")[0],
                    "name": a.split(".")[1],
                    "provider_config_key": "azurerm",
                    "expressions": {},
                }
                for a in resources
            ]
        },
    }
    return {"format_version": "1.2", "resource_changes": changes, "configuration": configuration}


PLANS = {
    "landing_zone": lambda: orjson.loads((FIXTURES / "tf_plan_ai_landing_zone.json").read_bytes()),
    "modules": lambda: orjson.loads((FIXTURES / "tf_plan_modules.json").read_bytes()),
    "weak": weak_plan,
    "premium": premium_plan,
    "data_stores": data_stores_plan,
}


GAP = r"# By hand: set \S+ = .* \(no (\w+) attribute writes it\)"


def by_hand(text: str) -> set[tuple[str, str]]:
    """(check, azurerm type or reason) of every change the output leaves to do by hand."""
    found, check = set(), ""
    for line in text.splitlines():
        if m := re.match(r"\s*# ([A-Z]+-[A-Z0-9-]+): ", line):
            check = m[1]
        elif m := re.search(GAP, line) or re.search(r"# By hand \((.*)\):$", line):
            found.add((check, m[1]))
    return found


def fixable_items(items: list[RemediationItem]) -> list[RemediationItem]:
    catalog = load_catalog()
    return [i for i in items if configuration_fix(catalog, i.check_id) is not None]


def excused(item: RemediationItem, hand: set[tuple[str, str]]) -> bool:
    """Whether the output leaves this item's change by hand (its type has no attribute for it)."""
    tf_type = re.sub(r"^(module\.[^.]+\.)*", "", item.address).split(".")[0]
    if tf_type not in MAPPINGS or MAPPINGS[tf_type].placement == "azapi":
        return (item.check_id, "its resource type has no azurerm mapping") in hand
    # a child the resource implies (its blob service) is left by hand "within" the resource
    within = any(
        check == item.check_id and why.endswith(f" within {tf_type}") for check, why in hand
    )
    return within or (item.check_id, tf_type) in hand


def assert_variables_declared_where_used(text: str) -> None:
    """Each module directory declares exactly the variables its files use or pass on."""
    by_directory: dict[str, str] = {}
    for path, body in split_files(text).items():
        directory = path.rpartition("/")[0]
        code = "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("#"))
        by_directory[directory] = by_directory.get(directory, "") + code + "\n"
    for directory, code in by_directory.items():
        declared = set(re.findall(r'^variable "(\w+)"', code, re.M))
        used = set(re.findall(r"\bvar\.(\w+)", code))
        assert declared == used, directory


@functools.cache
def plan_fixed(name: str) -> tuple[frozenset[str], tuple[tuple[str, str], ...], frozenset[str]]:
    """Per plan: the checks fixed, those still failing but not by hand, the checks by hand."""
    document = PLANS[name]()
    estate, items = scan(document)
    text = render_terraform(items, load_catalog(), report_id="COMP-1", source="terraform")
    hand = by_hand(text)
    assert hand <= BY_HAND | NO_MAPPING, hand - BY_HAND - NO_MAPPING
    assert_variables_declared_where_used(text)
    fixed = Estate(resources_from_terraform(apply_plan_output(document, estate, text), "p"))
    still, passed = [], set()
    for item in fixable_items(items):
        result = status(fixed, item.check_id, item.resource)
        if result == "pass" or (item.check_id in COMPUTED and result != "fail"):
            passed.add(item.check_id)
        elif not excused(item, hand):
            still.append((item.check_id, item.address or item.resource))
    return frozenset(passed), tuple(still), frozenset(check for check, _ in hand)


@pytest.mark.parametrize("name", list(PLANS))
def test_the_override_and_remediation_files_make_each_plan_fix_pass(name: str) -> None:
    passed, still, _ = plan_fixed(name)
    assert still == ()
    assert passed


def test_every_configuration_fix_is_proven_on_a_plan_or_listed_by_hand() -> None:
    fixable = {c.id for c in load_catalog().checks if c.fix is not None and not c.fix.manual}
    proven = set().union(*(plan_fixed(name)[0] for name in PLANS))
    hand = set().union(*(plan_fixed(name)[2] for name in PLANS))
    assert hand <= {check for check, _ in BY_HAND | NO_MAPPING}
    assert fixable - proven - hand - set(ALWAYS) == set()


# --- live estates: azapi ------------------------------------------------------------------------


def sample_estate() -> Estate:
    export = orjson.loads(sample_estate_path().read_bytes())
    return Estate(resources_from_arg(export, "test"))


def merge_object(old: Any, new: Any) -> Any:
    """azapi's utils.MergeObject: what azapi_update_resource PUTs is ``new`` merged into the GET."""
    if new is None:
        return None
    if isinstance(old, dict) and isinstance(new, dict):
        merged = {
            key: merge_object(value, new[key]) if key in new else value
            for key, value in old.items()
        }
        for key, value in new.items():
            if merged.get(key) is None:
                merged[key] = value
        return merged
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [merge_object(a, b) for a, b in zip(old, new, strict=True)]
    return new


def apply_live_output(estate: Estate, text: str) -> None:
    (parsed,) = parsed_files(text).values()
    scope = Scope(estate, "")
    for tf_type, _label, body in resources_in(parsed):
        kind, _, version = scope.evaluate(body["type"]).partition("@")
        assert version == API_VERSIONS[kind.lower()]
        payload = scope.evaluate(body["body"])
        if tf_type == "azapi_update_resource":
            resource_id = scope.evaluate(body["resource_id"])
            if kind.lower() == "microsoft.security/pricings":
                subscription, _, name = resource_id.partition(f"/providers/{kind}/")
                owner = estate.get(subscription)
                assert owner is not None
                add = {"type": kind, "name": name, "scope": "subscription", **payload}
                apply_fix(estate, owner, Fix.model_validate({"add": [add]}))
                continue
            resource = estate.get(resource_id)
            assert resource is not None, resource_id
            for part, value in payload.items():
                if part == "kind":
                    resource.kind = value
                else:
                    setattr(resource, part, merge_object(getattr(resource, part), value))
            continue
        assert tf_type == "azapi_resource"
        parent, name = scope.evaluate(body["parent_id"]), scope.evaluate(body["name"])
        if kind.lower() == "microsoft.network/privateendpoints":
            endpoint = Resource(
                id=f"{parent}/providers/{kind}/{name}",
                type=kind.lower(),
                name=name,
                properties=payload["properties"],
            )
            connect_endpoint(endpoint, {r.key: r for r in estate})
            continue
        owner = estate.get(parent)
        assert owner is not None, parent
        scope_kind = (
            "subscription" if owner.type == "microsoft.resources/subscriptions" else "resource"
        )
        add = {"type": kind, "name": name, "scope": scope_kind, **payload}
        apply_fix(estate, owner, Fix.model_validate({"add": [add]}))


def live_items(estate: Estate) -> list[RemediationItem]:
    report = run_scan(estate, FRAMEWORKS, scan_ts=dt.datetime(2026, 12, 7, tzinfo=dt.UTC))[1]
    return remediation_items(SimpleNamespace(**f) for f in report.to_dict()["findings"])


def test_the_azapi_bodies_merged_as_azapi_merges_them_make_every_fix_pass() -> None:
    catalog = load_catalog()
    items = live_items(sample_estate())
    scripted = fixable_items(items)
    assert len(scripted) >= 10
    text = render_terraform(items, catalog, report_id="COMP-20261207-000000")
    assert 'source  = "Azure/azapi"' in text
    for name in {p for i in scripted for p in catalog.check(i.check_id).fix.params}:  # type: ignore[union-attr]
        assert re.search(rf'variable "{name}" {{\n  description = ".+"\n}}', text), name
    assert not re.search(r"^\s*default\s*=", text, re.M)
    fixed = sample_estate()
    apply_live_output(fixed, text)
    still = [
        (i.check_id, i.resource)
        for i in scripted
        if status(fixed, i.check_id, i.resource) != "pass"
    ]
    assert still == []
    for item in items:
        check = catalog.check(item.check_id)
        if check.fix is not None and check.fix.manual:
            assert f"# {check.id}: " in text
            assert "# Portal: " + " ".join(check.portal_steps.split()) in text


def test_a_null_in_a_fix_is_a_null_in_the_body() -> None:
    """SRCH-LOCAL-AUTH removes authOptions: azapi keeps a null through its merge and PUTs it."""
    finding = SimpleNamespace(
        check_id="SRCH-LOCAL-AUTH",
        resource=f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Search/searchServices/s",
        resource_name="s",
        resource_type="microsoft.search/searchservices",
        framework="dora",
        control_id="X",
    )
    text = render_terraform(remediation_items([finding]), load_catalog())
    (parsed,) = parsed_files(text).values()
    ((_, _, body),) = resources_in(parsed)
    assert body["body"] == {"properties": {"disableLocalAuth": True, "authOptions": None}}
    merged = merge_object({"properties": {"authOptions": {"apiKeyOnly": {}}}}, body["body"])
    assert merged["properties"]["authOptions"] is None


# --- untrusted text -------------------------------------------------------------------------------

HOSTILE = 'st"\\ ${file("/etc/passwd")} %{ if true }x%{ endif }\n}\nresource "evil" "x" {\n<<EOF'


def hostile_finding(check_id: str, **extra: Any) -> SimpleNamespace:
    group = f"/subscriptions/{SUB}/resourceGroups/rg"
    resource = f"{group}/providers/Microsoft.Storage/storageAccounts/{HOSTILE}"
    return SimpleNamespace(
        check_id=check_id,
        resource=resource,
        resource_name=HOSTILE,
        resource_type="microsoft.storage/storageaccounts",
        framework="dora",
        control_id='Art. 9\nresource "evil" "y" {}',
        **extra,
    )


def test_hostile_names_and_ids_stay_strings_and_comments() -> None:
    findings = [hostile_finding("STG-MIN-TLS"), hostile_finding("STG-BLOB-DIAG-LOGS")]
    findings[1].resource += "/blobServices/default"
    findings[1].resource_type += "/blobservices"
    text = render_terraform(remediation_items(findings), load_catalog(), report_id=HOSTILE)
    assert not re.search(r"=\s*<<", text)  # no heredoc is ever written
    (parsed,) = parsed_files(text).values()
    resources = resources_in(parsed)
    assert {t for t, _, _ in resources} == {"azapi_update_resource", "azapi_resource"}
    scope = Scope(sample_estate(), "")
    update = next(body for t, _, body in resources if t == "azapi_update_resource")
    assert scope.evaluate(update["resource_id"]) == findings[0].resource  # exactly the id
    created = next(body for t, _, body in resources if t == "azapi_resource")
    assert scope.evaluate(created["parent_id"]) == findings[1].resource
    for line in text.splitlines():  # every line report text reaches is a comment or a string
        if "evil" in line or "passwd" in line:
            assert (
                line.lstrip().startswith("#")
                or re.match(r'\s*\w+\s*= \[?"', line)
                or re.fullmatch(r'(resource|data) "\w+" "[a-z_][a-z0-9_]*" \{', line)  # a label
            ), line


def test_hostile_plan_addresses_are_escaped_or_left_by_hand() -> None:
    keyed = 'azurerm_storage_account.data["a\\"] ${x} %{y}"]'
    bad = 'azurerm_storage_account.x" {}\nresource "evil'
    findings = [
        hostile_finding("STG-BLOB-DIAG-LOGS", origin=f"plan.json: {keyed}"),
        hostile_finding("STG-MIN-TLS", origin=f"plan.json: {bad}"),
    ]
    findings[0].resource += "/blobServices/default"
    findings[0].resource_type += "/blobservices"
    text = render_terraform(remediation_items(findings), load_catalog(), source="terraform")
    files = parsed_files(text)
    assert "tutela_override.tf" not in files  # the unparseable address: nothing to override
    assert "# By hand: no plan address for it" in text
    ((tf_type, _, body),) = resources_in(files["tutela_remediation.tf"])
    assert tf_type == "azurerm_monitor_diagnostic_setting"
    assert body["target_resource_id"] == (
        '"${azurerm_storage_account.data["a\\"] $${x} %%{y}"].id}/blobServices/default"'
    )


def test_an_arm_template_report_lists_template_paths_and_targets_nothing() -> None:
    placeholder = "00000000-0000-0000-0000-000000000000"
    finding = SimpleNamespace(
        check_id="STG-MIN-TLS",
        resource=f"/subscriptions/{placeholder}/resourceGroups/rg/providers/"
        "Microsoft.Storage/storageAccounts/st",
        resource_name="st",
        resource_type="microsoft.storage/storageaccounts",
        framework="dora",
        control_id="DORA-ART-9",
        origin="main.json: resources[2]",
    )
    text = render_terraform(remediation_items([finding]), load_catalog(), source="arm")
    (parsed,) = parsed_files(text).values()
    assert not parsed.get("resource")
    assert not parsed.get("data")
    assert "# Template path: resources[2]" in text
    assert '# set properties.minimumTlsVersion = "TLS1_2"' in text
    assert "# Remediates: dora DORA-ART-9" in text


def test_split_files_gives_back_each_marked_file() -> None:
    text = '## file: a.tf\n# one\n\n## file: m.x/b.tf\nvariable "v" {}\n'
    assert split_files(text) == {"a.tf": "# one\n", "m.x/b.tf": 'variable "v" {}\n'}


# --- the mapping, backwards -----------------------------------------------------------------------

ARM_SAMPLES: dict[str, list[Any]] = {  # ARM values per conversion, by its name in the table
    "negated": [True, False],
    "enabled": ["Enabled", "Disabled"],
    "enabled_lower": ["enabled", "disabled"],
    "enforcement": ["Default", "DoNotEnforce"],
    "ip_values": [[{"value": "203.0.113.0/24"}]],
    "subnet_ids": [[{"id": "/subscriptions/s/providers/x/subnets/a"}]],
    "joined": ["AzureServices, Logging"],
    "key_url": [{"keyVaultUri": "https://v.vault.azure.net/", "keyName": "k", "keyVersion": "1"}],
    "storage_key_url": [{"keyvaulturi": "https://v.vault.azure.net/", "keyname": "k"}],
    "identity": [{"type": "SystemAssigned"}],
    "acr_retention_days": [{"status": "enabled", "days": 7}],
    "log_entries": [
        [{"category": "Audit", "enabled": True}, {"categoryGroup": "allLogs", "enabled": True}]
    ],
    "metric_entries": [[{"category": "AllMetrics", "enabled": True}]],
    "pricing_extensions": [[{"name": "AIPromptEvidence", "isEnabled": "True"}]],
}


def pruned(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: pruned(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [pruned(v) for v in value]
    return value


def test_each_inverse_read_back_by_the_reader_gives_the_arm_value() -> None:
    tried = set()
    for mapping in MAPPINGS.values():
        for attr in mapping.attrs:
            name = getattr(attr.convert, "__name__", "")
            for sample in ARM_SAMPLES.get(name, []) if attr.source != "*" else []:
                found = to_attributes(Mapping(mapping.arm_type, (attr,)), [(attr.target, sample)])
                assert found.gaps == [], (attr, sample)
                steps = tuple(attr.source.split("."))
                tf_value = read(json.loads(json.dumps(found.values)), steps)  # Blocks as lists
                assert attr.convert is not None
                assert pruned(attr.convert(tf_value, None)) == sample, (attr, tf_value)  # type: ignore[arg-type]
                tried.add(name)
    assert tried == set(ARM_SAMPLES)
