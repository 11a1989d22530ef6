"""Azure Resource Graph exports into resources, related facts attached; malformed ones refused."""

from __future__ import annotations

import copy
import gc
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import orjson
import pytest

from tutela.scanner.estate import SUBSCRIPTION_TYPE, Resource
from tutela.scanner.sources import SourceError, parse_document, read_estate
from tutela.scanner.sources.arg import resources_from_arg

FIXTURE = Path(__file__).parent / "fixtures" / "arg_export.json"
SUB = "3f2a6b1e-8c4d-4e7a-9b15-2d6c0f9e4a71"
DATA_SUB = "b7d9e0c2-41f3-4a8e-8d26-5c1f7a3e9b04"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod"
ACCOUNT = f"{RG}/providers/Microsoft.CognitiveServices/accounts/oai-contoso-prod-weu"


def _export() -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(FIXTURE.read_bytes())
    return document


def _by_name(resources: list[Resource]) -> dict[str, Resource]:
    return {resource.name: resource for resource in resources}


@pytest.fixture(scope="module")
def parsed() -> dict[str, Resource]:
    return _by_name(resources_from_arg(_export(), "arg_export.json"))


def test_the_export_parses_into_its_resources_and_two_subscriptions(
    parsed: dict[str, Resource],
) -> None:
    types = sorted(resource.type for resource in parsed.values())
    assert types == sorted(
        [
            "microsoft.cognitiveservices/accounts",
            "microsoft.cognitiveservices/accounts/deployments",
            "microsoft.cognitiveservices/accounts/raipolicies",
            "microsoft.machinelearningservices/workspaces",
            "microsoft.machinelearningservices/workspaces/computes",
            "microsoft.search/searchservices",
            "microsoft.containerregistry/registries",
            "microsoft.containerservice/managedclusters",
            "microsoft.keyvault/vaults",
            "microsoft.storage/storageaccounts",
            "microsoft.network/privateendpoints",
            "microsoft.authorization/roleassignments",
            "microsoft.authorization/roleassignments",
            "microsoft.security/pricings",
            "microsoft.authorization/policyassignments",
            SUBSCRIPTION_TYPE,
            SUBSCRIPTION_TYPE,
        ]
    )


def test_a_resource_keeps_its_arm_names_and_values(parsed: dict[str, Resource]) -> None:
    account = parsed["oai-contoso-prod-weu"]
    assert account.id == ACCOUNT
    assert (account.subscription_id, account.resource_group) == (SUB, "rg-ai-prod")
    assert (account.kind, account.location, account.sku) == ("OpenAI", "westeurope", {"name": "S0"})
    assert account.identity is not None
    assert account.identity["type"] == "SystemAssigned"
    assert account.tags["costCenter"] == "CC-4711"
    assert account.properties["publicNetworkAccess"] == "Disabled"
    assert account.properties["disableLocalAuth"] is True
    assert account.origin == "arg_export.json: data[0]"


def test_child_resources_sit_under_their_parent(parsed: dict[str, Resource]) -> None:
    deployment = parsed["gpt-4o"]
    assert deployment.parent_id == ACCOUNT
    assert deployment.sku == {"name": "GlobalStandard", "capacity": 50}
    assert deployment.properties["raiPolicyName"] == "strict-filter"
    assert parsed["gpu-cluster"].properties["properties"]["enableNodePublicIp"] is True


def test_absent_values_stay_absent(parsed: dict[str, Resource]) -> None:
    search = parsed["srch-contoso-prod"]
    assert "disableLocalAuth" not in search.properties  # the checks apply the service default
    assert search.tags == {}  # null in the export
    assert search.kind is None  # "" in the export
    assert parsed["gpt-4o"].location is None


def test_facts_join_the_resources_they_are_about(parsed: dict[str, Resource]) -> None:
    account = parsed["oai-contoso-prod-weu"]
    assert [s["name"] for s in account.diagnostic_settings or []] == ["send-to-law"]
    assert [a["properties"]["principalType"] for a in account.role_assignments or []] == [
        "ServicePrincipal"
    ]
    assert parsed["kv-contoso-ai-prod"].diagnostic_settings == []
    assert parsed["kv-contoso-ai-prod"].role_assignments == []
    assert "send-to-law" not in parsed  # a fact, not a resource

    subscription = parsed[SUB]
    assert subscription.id == f"/subscriptions/{SUB}"
    assert [p["name"] for p in subscription.security_pricings or []] == ["AI"]
    assert [p["name"] for p in subscription.policy_assignments or []] == ["SecurityCenterBuiltIn"]
    assert [a["properties"]["principalType"] for a in subscription.role_assignments or []] == [
        "User"
    ]
    # Seen in the export, none there: the checks decide (no Defender plan), not "unknown".
    assert parsed[DATA_SUB].security_pricings == []
    assert parsed[DATA_SUB].policy_assignments == []


def test_the_private_endpoint_shows_on_its_target(parsed: dict[str, Resource]) -> None:
    (connection,) = parsed["oai-contoso-prod-weu"].properties["privateEndpointConnections"]
    assert connection["properties"]["privateEndpoint"]["id"] == parsed["pe-oai-contoso-prod"].id
    assert connection["properties"]["privateLinkServiceConnectionState"] == {"status": "Approved"}


def test_facts_the_export_does_not_hold_are_unknown() -> None:
    records = [r for r in _export()["data"] if not r["type"].startswith("microsoft.authorization")]
    records = [r for r in records if "diagnosticsettings" not in r["type"].lower()]
    resources = _by_name(resources_from_arg(records, "resources.json"))

    assert resources["oai-contoso-prod-weu"].diagnostic_settings is None
    assert resources["oai-contoso-prod-weu"].role_assignments is None
    assert resources[SUB].policy_assignments is None
    assert resources[SUB].security_pricings is not None  # the pricing row is still there


def test_an_arm_list_and_a_bare_list_are_read_too() -> None:
    arm_record = {
        "id": f"{RG}/providers/Microsoft.KeyVault/vaults/kv-two",
        "type": "Microsoft.KeyVault/vaults",
        "location": "westeurope",
        "properties": {"enableRbacAuthorization": False},
    }
    (vault, subscription) = resources_from_arg({"value": [arm_record], "nextLink": None}, "kv.json")
    assert (vault.type, vault.name) == ("microsoft.keyvault/vaults", "kv-two")
    assert (vault.subscription_id, vault.resource_group) == (SUB, "rg-ai-prod")
    assert vault.origin == "kv.json: value[0]"
    assert subscription.id == f"/subscriptions/{SUB}"

    (same, _) = resources_from_arg([arm_record], "kv.json")
    assert (same.name, same.origin) == ("kv-two", "kv.json: [0]")


def test_records_parsed_into_dict_subclasses_are_read() -> None:
    record = OrderedDict(_record(properties=OrderedDict(enableRbacAuthorization=True)))
    (vault, _) = resources_from_arg(OrderedDict(value=[record]), "kv.json")
    assert vault.properties == {"enableRbacAuthorization": True}


def test_an_empty_export_holds_nothing() -> None:
    assert resources_from_arg({"count": 0, "data": [], "skip_token": None}, "e.json") == []


def test_the_dispatcher_recognises_the_export() -> None:
    assert len(parse_document(_export(), "arg_export.json")) == 17
    assert len(read_estate([FIXTURE])) == 17


def test_parsing_leaves_the_document_unchanged() -> None:
    document = _export()
    before = copy.deepcopy(document)
    resources_from_arg(document, "arg_export.json")
    assert document == before


def _with_record(record: Any) -> dict[str, Any]:
    document = _export()
    document["data"].insert(2, record)
    return document


def _record(**fields: Any) -> dict[str, Any]:
    return {
        "id": f"{RG}/providers/Microsoft.KeyVault/vaults/kv",
        "type": "microsoft.keyvault/vaults",
    } | fields


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        pytest.param("resources", "the top level is a string", id="top-level-string"),
        pytest.param(42, "the top level is a number", id="top-level-number"),
        pytest.param({"rows": []}, "none of the keys data, value", id="unknown-object"),
        pytest.param({"data": {"a": 1}}, '"data" is an object, not a list', id="data-not-list"),
        pytest.param({"value": "x"}, '"value" is a string, not a list', id="value-not-list"),
        pytest.param(
            _with_record("oops"), "record data[2] is a string, not an object", id="record-string"
        ),
        pytest.param(_with_record(None), "record data[2] is null, not an object", id="record-null"),
        pytest.param(_with_record({"type": "a/b"}), 'record data[2] has no "id"', id="no-id"),
        pytest.param(
            _with_record({"id": "", "type": "a/b"}), 'record data[2] has no "id"', id="empty-id"
        ),
        pytest.param(
            _with_record({"id": 7, "type": "a/b"}), 'record data[2] has no "id"', id="id-number"
        ),
        pytest.param(_with_record({"id": "/x"}), 'record data[2] has no "type"', id="no-type"),
        pytest.param(
            _with_record(_record(properties=[])),
            'data[2]: "properties" is a list',
            id="properties-list",
        ),
        pytest.param(
            _with_record(_record(properties="{}")),
            'data[2]: "properties" is a string',
            id="properties-str",
        ),
        pytest.param(
            _with_record(_record(tags=["env:prod"])), 'data[2]: "tags" is a list', id="tags-list"
        ),
        pytest.param(
            _with_record(_record(sku="S0")), 'data[2]: "sku" is a string', id="sku-string"
        ),
        pytest.param(
            _with_record(_record(identity=True)),
            'data[2]: "identity" is a boolean',
            id="identity-bool",
        ),
        pytest.param(
            _with_record(_record(name=5)), 'data[2]: "name" is a number', id="name-number"
        ),
        pytest.param(
            _with_record(_record(location={})),
            'data[2]: "location" is an object',
            id="location-object",
        ),
        pytest.param(
            [{"id": "/x", "type": "a/b"}, 3], "record [1] is a number", id="bare-list-record"
        ),
    ],
)
def test_malformed_exports_are_refused_with_the_problem_named(document: Any, problem: str) -> None:
    with pytest.raises(SourceError) as raised:
        resources_from_arg(document, "bad.json")
    assert str(raised.value).startswith("bad.json: ")
    assert problem in raised.value.problem


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        pytest.param(
            {
                "count": 1000,
                "data": [],
                "skip_token": "ew0KICAiJGlkIjogIjEiLA0K",
                "total_records": 4213,
            },
            "one page (0 of 4213 records; skip_token is set)",
            id="graph-page",
        ),
        pytest.param(
            {"value": [], "nextLink": "https://management.azure.com/…&$skiptoken=x"},
            "nextLink is set",
            id="arm-page",
        ),
    ],
)
def test_one_page_of_a_longer_result_is_refused(document: Any, problem: str) -> None:
    with pytest.raises(SourceError, match="fetch every page") as raised:
        resources_from_arg(document, "page.json")
    assert problem in raised.value.problem


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param(b"", "the file is empty", id="empty"),
        pytest.param(b"  \n", "the file is empty", id="blank"),
        pytest.param(FIXTURE.read_bytes()[:5000], "not valid JSON", id="truncated"),
    ],
)
def test_unreadable_files_are_refused(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=problem):
        read_estate([path])


def test_a_file_that_cannot_be_mapped_is_read(tmp_path: Path) -> None:
    """Regular files are memory-mapped; a pipe (``<(az graph query …)``) is read instead."""
    fifo = tmp_path / "export.json"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_bytes, args=(FIXTURE.read_bytes(),))
    writer.start()
    try:
        from_pipe = read_estate([fifo])
    finally:
        writer.join(timeout=10)
    from_file = read_estate([FIXTURE])
    assert [r.id for r in from_pipe] == [r.id for r in from_file]
    assert len(from_file) > 10


def test_a_refused_export_leaves_garbage_collection_on() -> None:
    assert gc.isenabled()
    with pytest.raises(SourceError):
        resources_from_arg([{"id": "/x"}], "bad.json")
    assert gc.isenabled()
