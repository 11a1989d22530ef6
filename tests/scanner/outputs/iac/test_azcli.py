"""The azcli script, executed: run by bash against a recording ``az``, its commands applied to
the sample estate as ARM would apply them, the estate re-scanned: every scripted fix passes.

The recording ``az`` answers ``az resource show --query`` from the estate and applies ``az
resource update`` as azure-cli's generic update does (src/azure-cli-core/azure/cli/core/commands/
arm.py, set_properties / remove_properties / _find_property): ``--set`` values are JSON when they
parse, a missing key inside ``properties`` is an error, ``--remove`` of an absent property too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import stat
import subprocess
import sys
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
    "KEY_URI": "https://kv.vault.azure.net/keys/cmk",
    "ALLOWED_IP_RANGE": "203.0.113.0/24",
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
    "USER_ASSIGNED_IDENTITY_ID": "/subscriptions/0/resourceGroups/id/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/ws",
    "USER_ASSIGNED_IDENTITIES": '{"/subscriptions/0/resourceGroups/id/providers/'
    'Microsoft.ManagedIdentity/userAssignedIdentities/ws": {}}',
}
TOP = ("properties", "sku", "identity", "tags", "kind")
RECORDER = (
    f"""#!{sys.executable}
import json, os, sys
TOP = {TOP!r}
"""
    + r"""
def fail(message):
    print("az: " + message, file=sys.stderr)
    sys.exit(1)

def find(resource, path):
    # GenericResource's own attributes may be None; a missing key inside them is an error.
    node = resource
    for at, step in enumerate(path):
        if at == 0 and step in TOP:
            node = resource.get(step)
        elif isinstance(node, dict) and step in node:
            node = node[step]
        else:
            fail("Couldn't find '%s' in '%s'." % (step, ".".join(path[:at])))
    return node

def set_value(resource, key, text):
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    *path, name = key.split(".")
    instance = find(resource, path)
    if instance is None:
        parent = find(resource, path[:-1])
        parent[path[-1]] = instance = {}
    instance[name] = value

def remove(resource, key):
    *path, name = key.split(".")
    find(resource, path + [name])
    parent = find(resource, path)
    if path:
        del parent[name]
    else:
        parent[name] = None

argv = sys.argv[1:]
with open(os.environ["AZ_LOG"], "a") as log:
    log.write(json.dumps(argv) + "\n")
state_path = os.environ.get("AZ_STATE")
state = json.load(open(state_path)) if state_path else None
if argv[:2] == ["resource", "show"]:
    query = argv[argv.index("--query") + 1]
    if state is None:
        print("westeurope")
        sys.exit(0)
    resource = state[argv[argv.index("--ids") + 1].lower()]
    if query == "location":
        print(resource["location"] or "")
    else:
        path = query.removesuffix(" != null").split(".")
        node = resource
        for step in path:
            node = node.get(step) if isinstance(node, dict) else None
        print(node is not None)  # knack's tsv output: str(True) == "True"
elif argv[:2] == ["resource", "update"] and state is not None:
    resource = state[argv[3].lower()]
    for flag, arg in zip(argv[4::2], argv[5::2]):
        if flag == "--set":
            key, _, text = arg.partition("=")
            set_value(resource, key, text)
        else:
            remove(resource, arg)
    with open(state_path, "w") as out:
        json.dump(state, out)
"""
)


def sample_estate() -> Estate:
    export = orjson.loads(sample_estate_path().read_bytes())
    return Estate(resources_from_arg(export, "test"))


def failing(estate: Estate) -> list[SimpleNamespace]:
    report = run_scan(estate, FRAMEWORKS, scan_ts=dt.datetime(2026, 12, 7, tzinfo=dt.UTC))[1]
    return [SimpleNamespace(**finding) for finding in report.to_dict()["findings"]]


def run_script(
    script: str, tmp_path: Path, env: dict[str, str], estate: Estate | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the script against the recording az; with ``estate``, az reads and updates its state."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    az = bin_dir / "az"
    az.write_text(RECORDER)
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    path = tmp_path / "fix.sh"
    path.write_text(script)
    extra = {}
    if estate is not None:
        state = {
            r.id.lower(): {"location": r.location} | {top: getattr(r, top) for top in TOP}
            for r in estate
        }
        (tmp_path / "state.json").write_text(json.dumps(state))
        extra["AZ_STATE"] = str(tmp_path / "state.json")
    return subprocess.run(
        ["bash", str(path)],
        env={
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "AZ_LOG": str(tmp_path / "az.log"),
            **extra,
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )


def updated(estate: Estate, tmp_path: Path) -> None:
    """The estate as the recording az left it after its ``az resource update`` commands."""
    state = json.loads((tmp_path / "state.json").read_text())
    for resource in estate:
        for top in TOP:
            value = state[resource.id.lower()][top]
            setattr(resource, top, {} if top == "properties" and value is None else value)


def recorded(tmp_path: Path) -> list[list[str]]:
    log = tmp_path / "az.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def apply(estate: Estate, argv: list[str]) -> None:
    """What ARM does for one recorded ``az rest --method put`` (the shapes the script emits)."""
    if argv[:2] in (["resource", "show"], ["resource", "update"]):
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
        (link,) = body["properties"]["privateLinkServiceConnections"]
        target = estate.get(link["properties"]["privateLinkServiceId"])
        assert target is not None
        assert body["location"] == (target.location or "")  # read with az resource show
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

    fixed = sample_estate()  # fresh: a scanned estate keeps caches of what it read
    run = run_script(script, tmp_path, PARAMS, fixed)
    assert run.returncode == 0, run.stderr
    commands = recorded(tmp_path)
    assert commands
    updated(fixed, tmp_path)
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


SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
GROUP = f"{SUB}/resourceGroups/rg"


def finding_on(resource: Resource, check_id: str) -> SimpleNamespace:
    return SimpleNamespace(
        check_id=check_id,
        resource=resource.id,
        resource_name=resource.name,
        resource_type=resource.type,
        framework="dora",
        control_id="Art. 9",
    )


def fixed_by_script(
    estate: Estate, findings: list[SimpleNamespace], tmp_path: Path, params: dict[str, str]
) -> tuple[Estate, list[list[str]]]:
    """The estate after the script of ``findings`` ran against it, and the az commands run."""
    script = render_azcli(remediation_items(findings), load_catalog())
    run = run_script(script, tmp_path, params, estate)
    assert run.returncode == 0, run.stderr
    updated(estate, tmp_path)
    return estate, recorded(tmp_path)


def test_the_recording_az_refuses_a_nested_set_whose_parent_is_missing(tmp_path: Path) -> None:
    cluster = Resource(
        id=f"{GROUP}/providers/Microsoft.ContainerService/managedClusters/aks1",
        type="microsoft.containerservice/managedclusters",
        name="aks1",
        properties={"kubernetesVersion": "1.31"},
    )
    script = (
        "set -e\naz resource update --ids "
        + shlex.quote(cluster.id)
        + " --set properties.addonProfiles.azurepolicy.enabled=true\n"
    )
    run = run_script(script, tmp_path, {}, Estate([cluster]))
    assert run.returncode != 0
    assert "Couldn't find 'addonProfiles' in 'properties'" in run.stderr


def test_nested_changes_first_create_the_objects_the_resource_lacks(tmp_path: Path) -> None:
    bare = Resource(
        id=f"{GROUP}/providers/Microsoft.ContainerService/managedClusters/aks1",
        type="microsoft.containerservice/managedclusters",
        name="aks1",
        location="westeurope",
        properties={"kubernetesVersion": "1.31"},
    )
    # An add-on profile already there keeps its other add-ons.
    with_addons = Resource(
        id=f"{GROUP}/providers/Microsoft.ContainerService/managedClusters/aks2",
        type="microsoft.containerservice/managedclusters",
        name="aks2",
        location="westeurope",
        properties={"addonProfiles": {"omsagent": {"enabled": True}}},
    )
    estate, commands = fixed_by_script(
        Estate([bare, with_addons]),
        [finding_on(bare, "AKS-POLICY-ADDON"), finding_on(with_addons, "AKS-POLICY-ADDON")],
        tmp_path,
        {},
    )
    first, second = (argv for argv in commands if argv[:2] == ["resource", "update"])
    assert first[4:] == [
        "--set",
        "properties.addonProfiles={}",
        "--set",
        "properties.addonProfiles.azurepolicy={}",
        "--set",
        "properties.addonProfiles.azurepolicy.enabled=true",
    ]
    assert second[4:] == [
        "--set",
        "properties.addonProfiles.azurepolicy={}",
        "--set",
        "properties.addonProfiles.azurepolicy.enabled=true",
    ]
    for cluster in (bare, with_addons):
        assert status(estate, "AKS-POLICY-ADDON", cluster.id) == "pass"
    assert with_addons.properties["addonProfiles"]["omsagent"] == {"enabled": True}


@pytest.mark.parametrize(
    "auth_options",
    [{"apiKeyOnly": {}}, {"aadOrApiKey": {"aadAuthFailureMode": "http403"}}, None],
    ids=["api-keys", "both", "absent"],
)
def test_search_local_auth_leaves_no_auth_options(
    tmp_path: Path, auth_options: dict[str, Any] | None
) -> None:
    # Microsoft.Search stable/2025-05-01 search.json: disableLocalAuth "cannot be set to true if
    # 'dataPlaneAuthOptions' are defined"; examples/SearchCreateOrUpdateServiceDisableLocalAuth.json
    # sends disableLocalAuth true and no authOptions.
    properties: dict[str, Any] = {"replicaCount": 1}
    if auth_options is not None:
        properties["authOptions"] = auth_options
    service = Resource(
        id=f"{GROUP}/providers/Microsoft.Search/searchServices/srch1",
        type="microsoft.search/searchservices",
        name="srch1",
        location="westeurope",
        sku={"name": "basic"},
        properties=properties,
    )
    estate, _ = fixed_by_script(
        Estate([service]), [finding_on(service, "SRCH-LOCAL-AUTH")], tmp_path, {}
    )
    assert service.properties == {"replicaCount": 1, "disableLocalAuth": True}
    assert status(estate, "SRCH-LOCAL-AUTH", service.id) == "pass"


def test_a_tag_from_a_param_stays_a_string_even_when_it_reads_as_json(tmp_path: Path) -> None:
    account = Resource(
        id=f"{GROUP}/providers/Microsoft.CognitiveServices/accounts/aoai1",
        type="microsoft.cognitiveservices/accounts",
        name="aoai1",
        location="westeurope",
        kind="OpenAI",
        properties={},
    )
    deployment = Resource(
        id=f"{account.id}/deployments/gpt",
        type="microsoft.cognitiveservices/accounts/deployments",
        name="gpt",
        properties={},
    )
    estate, _ = fixed_by_script(
        Estate([account, deployment]),
        [finding_on(deployment, "INV-MODEL-ID")],
        tmp_path,
        {"MODEL_ID": "42"},
    )
    assert deployment.tags == {"model-id": "42"}
    assert status(estate, "INV-MODEL-ID", deployment.id) == "pass"


TEMPLATE = Path(__file__).parents[2] / "sources/fixtures/arm_ai_landing_zone.json"


@pytest.mark.parametrize("source", ["arm", None])
def test_a_templates_resources_are_never_changed_in_the_placeholder_subscription(
    source: str | None,
) -> None:
    from tutela.scanner.sources.arm import resources_from_arm

    estate = Estate(resources_from_arm(orjson.loads(TEMPLATE.read_bytes()), "template.json"))
    items = remediation_items(failing(estate))
    assert any(configuration_fix(load_catalog(), item.check_id) for item in items)
    script = render_azcli(items, load_catalog(), source=source)
    commands = [line for line in script.splitlines() if line.startswith(("az ", "location="))]
    assert commands == []
    assert "An ARM template's resource (template.json: resources[" in script
