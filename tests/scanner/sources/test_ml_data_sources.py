"""Azure ML workspace connections and datastores from each source, judged by credential type.

AML-CONN-SECRET-AUTH reads a connection's ``authType`` and AML-DATASTORE-SECRET-AUTH a
datastore's ``credentials.credentialsType``: every source must give them those, and no source
may keep a secret value a live list, a template or a plan carries.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tests.scanner.sources.replay import ReplayTransport
from tests.scanner.sources.test_azure import SUBSCRIPTION, WORKSPACE, Principal, scan
from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.evaluate import evaluate_estate
from tutela.scanner.estate import Estate, Resource
from tutela.scanner.sources import parse_document
from tutela.scanner.sources.azure_arm import plan_listings
from tutela.scanner.sources.azure_export import export_live_estate

AS_OF = dt.date(2026, 12, 7)
CATALOG = load_catalog()
CHECKS = ["AML-CONN-SECRET-AUTH", "AML-DATASTORE-SECRET-AUTH"]
CONNECTION = "microsoft.machinelearningservices/workspaces/connections"
DATASTORE = "microsoft.machinelearningservices/workspaces/datastores"
# The planted values of the secret overlay (recordings/ml_data_secrets.json).
LISTED_SECRETS = (
    "planted0connection0api0key0AAAAAAAAAAAA",
    "planted0datastore0account0key0BBBBBBBB==",
)


def _statuses(resources: list[Resource] | Estate) -> dict[tuple[str, str], str]:
    """(check id, resource name) → status, for the two credential checks."""
    estate = resources if isinstance(resources, Estate) else Estate(resources)
    results = evaluate_estate(estate, [CATALOG.check(c) for c in CHECKS], as_of=AS_OF)
    return {(r.check.id, r.resource.name): r.status for r in results}


# --- live read and export -----------------------------------------------------------------------


def test_a_workspace_s_connections_and_datastores_are_listed_from_arm() -> None:
    workspace = {"id": WORKSPACE, "type": "microsoft.machinelearningservices/workspaces"}
    listed = {(item.path, item.api_version) for item in plan_listings([workspace], lambda _: False)}
    assert {("connections", "2024-10-01"), ("datastores", "2024-10-01")} <= listed


def test_a_live_read_judges_connections_and_datastores() -> None:
    live, transport = scan()
    estate = live.estate
    connections = {c.name: c for c in estate.of_type(CONNECTION)}
    stores = {d.name: d for d in estate.of_type(DATASTORE)}
    assert set(connections) == {"aoai-keyed", "search-entra"}
    assert set(stores) == {"workspaceblobstore", "curated_identity"}
    assert estate.parent(connections["aoai-keyed"]) is estate.get(WORKSPACE)
    assert connections["aoai-keyed"].subscription_id == SUBSCRIPTION
    status = _statuses(estate)
    assert status[("AML-CONN-SECRET-AUTH", "aoai-keyed")] == "fail"
    assert status[("AML-CONN-SECRET-AUTH", "search-entra")] == "pass"
    # the workspace's own blob datastore, created by Azure with the storage account key
    assert status[("AML-DATASTORE-SECRET-AUTH", "workspaceblobstore")] == "fail"
    assert status[("AML-DATASTORE-SECRET-AUTH", "curated_identity")] == "pass"
    # read with GETs only: never the listSecrets POST that returns the values
    assert not any("listSecrets" in request.url for request in transport.requests)


def test_secret_values_in_a_list_answer_are_dropped_before_the_record_is_kept() -> None:
    live, _ = scan("ml_data_secrets.json")
    [connection] = live.estate.of_type(CONNECTION)
    [store] = live.estate.of_type(DATASTORE)
    assert "credentials" not in connection.properties
    assert connection.properties["authType"] == "ApiKey"
    assert store.properties["credentials"] == {"credentialsType": "AccountKey"}
    status = _statuses(live.estate)
    assert status[("AML-CONN-SECRET-AUTH", "aoai-keyed")] == "fail"
    assert status[("AML-DATASTORE-SECRET-AUTH", "workspaceblobstore")] == "fail"


def test_an_export_never_writes_a_secret_a_list_answer_carried() -> None:
    transport = ReplayTransport.of("sign_in.json", "estate.json", "ml_data_secrets.json")
    exported = export_live_estate(Principal(), [SUBSCRIPTION], transport=transport)
    text = json.dumps(exported.document())
    assert "workspaceblobstore" in text
    for secret in LISTED_SECRETS:
        assert secret not in text


# --- ARM templates ------------------------------------------------------------------------------

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
TEMPLATE_KEY = "PLANTEDtemplate0storage0account0key0CCCCCCCCCC=="


def template() -> dict[str, Any]:
    """A hub whose ApiKey connection holds listKeys() output (issue 20), and its neighbours."""
    keys = "[listKeys(resourceId('Microsoft.CognitiveServices/accounts', 'oai'), '2024-10-01')]"
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "type": "Microsoft.MachineLearningServices/workspaces",
                "apiVersion": "2024-10-01",
                "name": "hub-genai",
                "location": "westeurope",
                "kind": "Hub",
                "properties": {},
                "resources": [
                    {
                        "type": "connections",
                        "apiVersion": "2024-10-01",
                        "name": "aoai",
                        "dependsOn": ["hub-genai"],
                        "properties": {
                            "category": "AzureOpenAI",
                            "authType": "ApiKey",
                            "isSharedToAll": True,
                            "target": "https://oai.openai.azure.com/",
                            "credentials": {"key": f"[{keys[1:-1]}.key1]"},
                        },
                    }
                ],
            },
            {
                "type": "Microsoft.MachineLearningServices/workspaces/connections",
                "apiVersion": "2024-10-01",
                "name": "hub-genai/search",
                "properties": {
                    "category": "CognitiveSearch",
                    "authType": "AAD",
                    "target": "https://srch.search.windows.net",
                },
            },
            {
                "type": "Microsoft.MachineLearningServices/workspaces/datastores",
                "apiVersion": "2024-10-01",
                "name": "hub-genai/raw",
                "properties": {
                    "datastoreType": "AzureBlob",
                    "accountName": "stgenai",
                    "containerName": "raw",
                    "credentials": {
                        "credentialsType": "AccountKey",
                        "secrets": {"secretsType": "AccountKey", "key": TEMPLATE_KEY},
                    },
                },
            },
            {
                "type": "Microsoft.MachineLearningServices/workspaces/datastores",
                "apiVersion": "2024-10-01",
                "name": "hub-genai/curated",
                "properties": {
                    "datastoreType": "AzureDataLakeGen2",
                    "accountName": "stgenai",
                    "filesystem": "curated",
                    "credentials": {"credentialsType": "None"},
                },
            },
        ],
    }


def test_a_template_s_connections_and_datastores_nested_or_not_are_judged() -> None:
    resources = parse_document(template(), "template.json")
    by_type = {(r.type, r.name) for r in resources}
    assert {(CONNECTION, "aoai"), (CONNECTION, "search")} <= by_type
    assert {(DATASTORE, "raw"), (DATASTORE, "curated")} <= by_type
    status = _statuses(resources)
    assert status[("AML-CONN-SECRET-AUTH", "aoai")] == "fail"  # whatever listKeys() returns
    assert status[("AML-CONN-SECRET-AUTH", "search")] == "pass"
    assert status[("AML-DATASTORE-SECRET-AUTH", "raw")] == "fail"
    assert status[("AML-DATASTORE-SECRET-AUTH", "curated")] == "pass"


def test_a_connection_with_no_auth_type_is_unknown_not_a_pass() -> None:
    document = template()
    del document["resources"][1]["properties"]["authType"]
    status = _statuses(parse_document(document, "template.json"))
    assert status[("AML-CONN-SECRET-AUTH", "search")] == "unknown"


# --- Terraform plans ----------------------------------------------------------------------------

PLAN_SECRETS = ("sv=2024-05-04&sig=PLANTEDplan0sas0DDDDDDDDDDDD", "PLANTED~plan.client.secret0EEE")


def _change(address: str, after: dict[str, Any], unknown: dict[str, Any]) -> dict[str, Any]:
    change = {"actions": ["create"], "after": after, "after_unknown": unknown}
    return {"address": address, "mode": "managed", "type": address.split(".")[0], "change": change}


def plan() -> dict[str, Any]:
    """Datastores of each azurerm type; the account key is a new account's, known after apply."""
    blob = "azurerm_machine_learning_datastore_blobstorage"
    stores = [
        # account_key = azurerm_storage_account.x.primary_access_key: azurerm's own example
        (f"{blob}.keyed", {"name": "keyed"}, {"account_key": True}),
        (f"{blob}.sas", {"name": "sas", "shared_access_signature": PLAN_SECRETS[0]}, {}),
        (
            f"{blob}.identity",
            {"name": "identity", "service_data_auth_identity": "WorkspaceSystemAssignedIdentity"},
            {},
        ),
        (
            "azurerm_machine_learning_datastore_datalake_gen2.sp",
            {"name": "sp", "tenant_id": "t", "client_id": "c", "client_secret": PLAN_SECRETS[1]},
            {},
        ),
        ("azurerm_machine_learning_datastore_datalake_gen2.lake", {"name": "lake"}, {}),
        (
            "azurerm_machine_learning_datastore_fileshare.share",
            {"name": "share"},
            {"account_key": True},
        ),
    ]
    placed = {"resource_group_name": "rg-ml", "location": "westeurope"}
    changes = [
        _change("azurerm_machine_learning_workspace.ml", {"name": "mlw", **placed}, {"id": True})
    ]
    changes += [
        _change(address, after, {"id": True, "workspace_id": True, **unknown})
        for address, after, unknown in stores
    ]
    workspace = {"references": ["azurerm_machine_learning_workspace.ml.id"]}
    config = [{"address": a, "expressions": {"workspace_id": workspace}} for a, _, _ in stores]
    return {
        "format_version": "1.2",
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": config}},
    }


def test_the_terraform_reader_maps_datastores_to_their_credential_type() -> None:
    resources = {r.name: r for r in parse_document(plan(), "plan.json") if r.type == DATASTORE}
    assert resources["keyed"].properties == {
        "datastoreType": "AzureBlob",
        "credentials": {"credentialsType": "AccountKey"},
    }
    assert resources["keyed"].id.endswith("/workspaces/mlw/datastores/keyed")
    assert resources["sas"].properties["credentials"] == {"credentialsType": "Sas"}
    assert resources["identity"].properties["credentials"] == {"credentialsType": "None"}
    assert resources["identity"].properties["serviceDataAccessAuthIdentity"] == (
        "WorkspaceSystemAssignedIdentity"
    )
    assert resources["sp"].properties["credentials"] == {"credentialsType": "ServicePrincipal"}
    assert resources["share"].properties["datastoreType"] == "AzureFile"
    text = repr([r.properties for r in resources.values()])
    for secret in PLAN_SECRETS:
        assert secret not in text


def test_a_plan_s_datastores_are_judged() -> None:
    status = _statuses(parse_document(plan(), "plan.json"))
    assert status[("AML-DATASTORE-SECRET-AUTH", "keyed")] == "fail"
    assert status[("AML-DATASTORE-SECRET-AUTH", "sas")] == "fail"
    assert status[("AML-DATASTORE-SECRET-AUTH", "sp")] == "fail"
    assert status[("AML-DATASTORE-SECRET-AUTH", "share")] == "fail"
    assert status[("AML-DATASTORE-SECRET-AUTH", "identity")] == "pass"
    assert status[("AML-DATASTORE-SECRET-AUTH", "lake")] == "pass"
