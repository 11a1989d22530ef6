"""AI scope: which general-purpose resources belong to an AI workload, and the reason given."""

from __future__ import annotations

from typing import Any

import pytest

from tutela.scanner.ai_scope import AiScope, ai_scope
from tutela.scanner.catalog import CatalogError, scoping
from tutela.scanner.catalog.scoping import AiScopeRules, load_ai_scope_rules
from tutela.scanner.estate import UNKNOWN, Estate, Resource, UnknownObject
from tutela.scanner.samples import load_sample_estate

SUB = "11111111-2222-4333-8444-555555555555"
OTHER_SUB = "99999999-8888-4777-8666-555555555555"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers"
STORAGE = "microsoft.storage/storageaccounts"
VAULT = "microsoft.keyvault/vaults"
REGISTRY = "microsoft.containerregistry/registries"
CLUSTER = "microsoft.containerservice/managedclusters"
WORKSPACE = "microsoft.machinelearningservices/workspaces"
ACCOUNT = "microsoft.cognitiveservices/accounts"
ARM_NAMES = {
    STORAGE: "Microsoft.Storage/storageAccounts",
    VAULT: "Microsoft.KeyVault/vaults",
    REGISTRY: "Microsoft.ContainerRegistry/registries",
    CLUSTER: "Microsoft.ContainerService/managedClusters",
    WORKSPACE: "Microsoft.MachineLearningServices/workspaces",
    ACCOUNT: "Microsoft.CognitiveServices/accounts",
    "microsoft.search/searchservices": "Microsoft.Search/searchServices",
}


def make(resource_type: str, name: str, subscription: str = SUB, **fields: Any) -> Resource:
    base = f"/subscriptions/{subscription}/resourceGroups/rg-ai/providers"
    return Resource(
        id=f"{base}/{ARM_NAMES[resource_type]}/{name}",
        type=resource_type,
        name=name,
        subscription_id=subscription,
        resource_group="rg-ai",
        **fields,
    )


def child(parent: Resource, segment: str, resource_type: str, name: str, **fields: Any) -> Resource:
    return Resource(
        id=f"{parent.id}/{segment}/{name}",
        type=resource_type,
        name=name,
        subscription_id=parent.subscription_id,
        **fields,
    )


def subscription(guid: str = SUB) -> Resource:
    return Resource(
        id=f"/subscriptions/{guid}",
        type="microsoft.resources/subscriptions",
        name=guid,
        subscription_id=guid,
    )


def reasons(*resources: Resource) -> dict[str, str | None]:
    scope = AiScope(Estate(resources), load_ai_scope_rules())
    return {r.name: scope.reason(r) for r in resources}


def workspace(name: str = "mlw-risk", kind: str = "Default", **properties: Any) -> Resource:
    return make(WORKSPACE, name, kind=kind, properties=properties)


# --- links --------------------------------------------------------------------------------------


def test_a_workspace_brings_its_storage_vault_and_registry_into_scope() -> None:
    storage, vault, registry = make(STORAGE, "stml"), make(VAULT, "kv-ml"), make(REGISTRY, "crml")
    unlinked = make(STORAGE, "stbackups")
    ml = workspace(
        storageAccount=storage.id.upper(),  # ids compare without case
        keyVault=vault.id,
        containerRegistry=registry.id + "/",
    )
    assert reasons(ml, storage, vault, registry, unlinked) == {
        "mlw-risk": None,  # an AI resource is not general-purpose
        "stml": "default storage account of Azure ML workspace 'mlw-risk'",
        "kv-ml": "key vault of Azure ML workspace 'mlw-risk'",
        "crml": "container registry of Azure ML workspace 'mlw-risk'",
        "stbackups": None,
    }


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("Hub", "AI Foundry hub"),
        ("project", "AI Foundry project"),
        ("FeatureStore", "Azure ML feature store"),
        (None, "Azure ML workspace"),
        (UNKNOWN, "Azure ML workspace"),  # a template's kind known only once deployed
    ],
)
def test_a_workspace_is_named_by_its_kind(kind: Any, label: str) -> None:
    storage = make(STORAGE, "st")
    ml = make(WORKSPACE, "w", kind=kind, properties={"storageAccount": storage.id})
    assert reasons(ml, storage)["st"] == f"default storage account of {label} 'w'"


def test_a_workspace_cmk_vault_is_linked_by_its_arm_id() -> None:
    vault = make(VAULT, "kv-cmk")
    encryption = {"status": "Enabled", "keyVaultProperties": {"keyVaultArmId": vault.id}}
    ml = workspace(encryption=encryption)
    assert reasons(ml, vault)["kv-cmk"] == (
        "key vault holding the customer-managed key of Azure ML workspace 'mlw-risk'"
    )


@pytest.mark.parametrize("compute_type", ["AKS", "Kubernetes", "kubernetes"])
def test_an_attached_cluster_is_in_scope_of_the_computes_workspace(compute_type: str) -> None:
    cluster = make(CLUSTER, "aks-serving")
    ml = workspace(kind="Hub", name="hub")
    compute = child(
        ml,
        "computes",
        f"{WORKSPACE}/computes",
        "inference",
        properties={"computeType": compute_type, "resourceId": cluster.id},
    )
    assert reasons(ml, compute, cluster)["aks-serving"] == (
        "cluster attached as compute 'inference' of AI Foundry hub 'hub'"
    )


def test_a_compute_of_another_type_links_nothing() -> None:
    cluster = make(CLUSTER, "aks-other")
    ml = workspace()
    compute = child(
        ml,
        "computes",
        f"{WORKSPACE}/computes",
        "cc",
        properties={"computeType": "AmlCompute", "resourceId": cluster.id},
    )
    assert reasons(ml, compute, cluster)["aks-other"] is None


def test_an_openai_account_links_its_user_owned_storage_and_cmk_vault() -> None:
    storage, other = make(STORAGE, "stuser"), make(STORAGE, "stsecond")
    vault = make(VAULT, "kv-keys", properties={"vaultUri": "https://kv-keys.vault.azure.net/"})
    account = make(
        ACCOUNT,
        "oai",
        kind="OpenAI",
        properties={
            "userOwnedStorage": [{"resourceId": storage.id}, {"resourceId": other.id}],
            "encryption": {
                "keySource": "Microsoft.KeyVault",
                "keyVaultProperties": {
                    "keyVaultUri": "HTTPS://KV-KEYS.vault.azure.net",
                    "keyName": "k",
                },
            },
        },
    )
    assert reasons(account, storage, other, vault) == {
        "oai": None,
        "stuser": "user-owned storage account of Azure OpenAI account 'oai'",
        "stsecond": "user-owned storage account of Azure OpenAI account 'oai'",
        "kv-keys": "key vault holding the customer-managed key of Azure OpenAI account 'oai'",
    }


@pytest.mark.parametrize(
    "uri",
    [
        "https://kv-named.vault.azure.net/",
        "https://kv-named.vault.azure.net",
        "kv-named.vault.azure.cn",
    ],
)
def test_a_vault_without_vault_uri_is_matched_by_its_name(uri: str) -> None:
    vault = make(VAULT, "kv-named")  # templates and plans do not know vaultUri
    cmk = {"keyVaultProperties": {"keyVaultUri": uri}}
    account = make(ACCOUNT, "ais", kind="AIServices", properties={"encryption": cmk})
    assert reasons(account, vault)["kv-named"] == (
        "key vault holding the customer-managed key of Azure AI Services account 'ais'"
    )


def test_a_link_to_another_type_or_to_a_resource_not_in_the_input_brings_nothing() -> None:
    storage = make(STORAGE, "st")
    ml = workspace(
        keyVault=storage.id, storageAccount=f"{RG}/Microsoft.Storage/storageAccounts/gone"
    )
    assert reasons(ml, storage)["st"] is None


def test_the_first_link_found_names_the_reason() -> None:
    storage = make(STORAGE, "shared")
    first, second = (
        workspace("w1", storageAccount=storage.id),
        workspace("w2", storageAccount=storage.id),
    )
    assert reasons(first, second, storage)["shared"] == (
        "default storage account of Azure ML workspace 'w1'"
    )


# --- tags ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tag", ["ai-workload", "AI-Workload", "model-id", "model_id", "modelId", "mrm-id", "model-ref"]
)
def test_an_inventory_tag_puts_a_resource_in_scope(tag: str) -> None:
    storage = make(STORAGE, "st", tags={tag: "fraud-scoring"})
    assert reasons(storage)["st"] == f"tagged {tag}=fraud-scoring"


def test_every_model_inventory_id_alias_puts_a_resource_in_scope() -> None:
    """The scope's tags are ai-workload and the names INV-MODEL-ID reads, kept together."""
    from tutela.scanner.catalog import load_catalog

    aliases = load_catalog().check("INV-MODEL-ID").params["keys"]
    assert set(load_ai_scope_rules().tags) == {"ai-workload", *aliases}


def test_a_link_wins_over_a_tag_and_other_tags_do_nothing() -> None:
    linked = make(STORAGE, "linked", tags={"ai-workload": "x"})
    other = make(STORAGE, "other", tags={"workload": "model-serving", "purpose": "ai"})
    ml = workspace(storageAccount=linked.id)
    found = reasons(ml, linked, other)
    assert found["linked"] == "default storage account of Azure ML workspace 'mlw-risk'"
    assert found["other"] is None


def test_a_quoted_tag_value_is_printable_and_short() -> None:
    storage = make(STORAGE, "st", tags={"ai-workload": "a\x1b[31mb\n" + "x" * 200})
    why = reasons(storage)["st"]
    assert why is not None
    assert why.startswith("tagged ai-workload=a[31mb" + "x")
    assert why.isprintable()
    assert len(why) < 100


def test_tags_the_source_could_not_resolve_count_as_none() -> None:
    storage = make(STORAGE, "st")
    storage.tags = UNKNOWN  # type: ignore[assignment]  # an ARM tags expression
    assert reasons(storage)["st"] is None


# --- children -----------------------------------------------------------------------------------


def test_a_child_is_in_scope_with_its_parent() -> None:
    storage, vault = make(STORAGE, "st"), make(VAULT, "kv")
    blobs = child(storage, "blobServices", f"{STORAGE}/blobservices", "default")
    key = child(vault, "keys", f"{VAULT}/keys", "cmk")
    unlinked = make(STORAGE, "st2")
    unlinked_blobs = child(unlinked, "blobServices", f"{STORAGE}/blobservices", "default")
    ml = workspace(storageAccount=storage.id, keyVault=vault.id)
    scope = AiScope(
        Estate([ml, storage, vault, blobs, key, unlinked, unlinked_blobs]), load_ai_scope_rules()
    )
    assert scope.reason(blobs) == (
        "its storage account 'st' is in scope: default storage account of Azure ML workspace "
        "'mlw-risk'"
    )
    assert scope.reason(key) == (
        "its key vault 'kv' is in scope: key vault of Azure ML workspace 'mlw-risk'"
    )
    assert scope.reason(unlinked_blobs) is None


def test_a_child_whose_parent_is_absent_is_in_scope_and_says_so() -> None:
    vault = make(VAULT, "kv-elsewhere")
    key = child(vault, "keys", f"{VAULT}/keys", "k")
    assert reasons(key)["k"] == "its key vault is not in the input, so it is considered in scope"


def test_a_tagged_child_is_in_scope_whatever_its_parent() -> None:
    vault = make(VAULT, "kv")
    key = child(vault, "keys", f"{VAULT}/keys", "k", tags={"model-id": "MRM-7"})
    assert reasons(vault, key) == {"kv": None, "k": "tagged model-id=MRM-7"}


# --- subscription-wide facts --------------------------------------------------------------------


def _assignment(resource_type: str, guid: str, name: str) -> Resource:
    segment = resource_type.split("/", 1)[1]
    return Resource(
        id=f"/subscriptions/{guid}/providers/Microsoft.Authorization/{segment}/{name}",
        type=resource_type,
        name=name,
        subscription_id=guid,
    )


def test_subscription_wide_facts_follow_the_ai_resources_in_their_subscription() -> None:
    oai = make(ACCOUNT, "aoai-x", kind="OpenAI")
    deployment = child(oai, "deployments", f"{ACCOUNT}/deployments", "gpt-4o")
    search = make("microsoft.search/searchservices", "srch")
    ml, hub = workspace("mlw"), workspace("hub", kind="Hub")
    ai_sub, plain_sub = subscription(), subscription(OTHER_SUB)
    role = _assignment("microsoft.authorization/roleassignments", SUB, "ra")
    policy = _assignment("microsoft.authorization/policyassignments", OTHER_SUB, "pa")
    definition = _assignment("microsoft.authorization/roledefinitions", SUB, "rd")
    found = reasons(oai, deployment, search, ml, hub, ai_sub, plain_sub, role, policy, definition)
    holds = (
        "holds Azure OpenAI account 'aoai-x' and 3 other AI resources"  # a deployment is no more
    )
    assert found[SUB] == f"the subscription {holds}"
    assert found["ra"] == found["rd"] == f"its subscription {holds}"
    assert found[OTHER_SUB] is None
    assert found["pa"] is None


def test_one_ai_resource_is_named_alone_even_if_only_its_child_is_in_the_input() -> None:
    oai = make(ACCOUNT, "aoai-y", kind="OpenAI")
    deployment = child(oai, "deployments", f"{ACCOUNT}/deployments", "gpt")
    assert reasons(deployment, subscription())[SUB] == (
        "the subscription holds Azure AI services account 'aoai-y'"
    )


def test_a_fact_above_any_subscription_is_in_scope_when_the_input_holds_ai() -> None:
    group = "/providers/Microsoft.Management/managementGroups/contoso"
    policy = Resource(
        id=f"{group}/providers/Microsoft.Authorization/policyAssignments/mcsb",
        type="microsoft.authorization/policyassignments",
        name="mcsb",
    )
    assert reasons(policy)["mcsb"] is None
    assert reasons(policy, workspace("w"))["mcsb"] == (
        "it spans subscriptions and the input holds Azure ML workspace 'w'"
    )


# --- what the source could not resolve ----------------------------------------------------------


def test_an_unresolved_link_puts_every_resource_of_its_type_in_scope() -> None:
    linked, other = make(STORAGE, "stlinked"), make(STORAGE, "stother")
    tagged = make(STORAGE, "sttagged", tags={"ai-workload": "x"})
    vault, registry = make(VAULT, "kv"), make(REGISTRY, "cr")
    ml = workspace(storageAccount=linked.id, keyVault=UNKNOWN)
    found = reasons(ml, linked, other, tagged, vault, registry)
    assert found["stlinked"] == "default storage account of Azure ML workspace 'mlw-risk'"
    assert found["stother"] is None
    assert found["sttagged"] == "tagged ai-workload=x"
    assert found["kv"] == (
        "the key vault of Azure ML workspace 'mlw-risk' cannot be resolved from the input, so "
        "every key vault is considered in scope"
    )
    assert found["cr"] is None


def test_properties_the_source_could_not_read_leave_every_link_unresolved() -> None:
    storage, vault = make(STORAGE, "st"), make(VAULT, "kv")
    account = make(ACCOUNT, "oai", kind="OpenAI", properties=UnknownObject())
    found = reasons(account, storage, vault)
    assert found["st"] == (
        "the user-owned storage account of Azure OpenAI account 'oai' cannot be resolved from "
        "the input, so every storage account is considered in scope"
    )
    assert found["kv"] is not None
    assert "every key vault" in found["kv"]


def test_an_unknown_compute_type_is_followed_and_an_unknown_cluster_id_widens_the_scope() -> None:
    cluster = make(CLUSTER, "aks")
    ml = workspace()
    compute = child(
        ml,
        "computes",
        f"{WORKSPACE}/computes",
        "attached",
        properties={"computeType": UNKNOWN, "resourceId": UNKNOWN},
    )
    assert reasons(ml, compute, cluster)["aks"] == (
        "the cluster attached as compute 'attached' of Azure ML workspace 'mlw-risk' cannot be "
        "resolved from the input, so every AKS cluster is considered in scope"
    )


# --- the interface ------------------------------------------------------------------------------


def test_general_purpose_types_are_those_of_the_rules() -> None:
    scope = ai_scope(Estate())
    for resource_type in (STORAGE, f"{STORAGE}/blobservices", VAULT, f"{VAULT}/keys", REGISTRY):
        assert scope.is_general_purpose(resource_type)
    assert scope.is_general_purpose("microsoft.authorization/roleassignments")
    for resource_type in (
        ACCOUNT,
        WORKSPACE,
        f"{WORKSPACE}/computes",
        "microsoft.network/privateendpoints",
    ):
        assert not scope.is_general_purpose(resource_type)
    assert scope.reason(make(ACCOUNT, "oai")) is None


def test_the_scope_is_computed_once_per_estate() -> None:
    estate = Estate([make(STORAGE, "st")])
    assert ai_scope(estate) is ai_scope(estate)
    assert ai_scope(Estate()) is not ai_scope(estate)


def test_the_sample_estate_shows_linked_tagged_and_unlinked_resources() -> None:
    estate = load_sample_estate()
    scope = ai_scope(estate)
    by_name = {r.name: scope.reason(r) for r in estate if r.type != f"{STORAGE}/blobservices"}
    assert by_name["stcbkmlprod"] == (
        "default storage account of Azure ML workspace 'mlw-cbk-creditrisk-prod'"
    )
    assert by_name["aks-cbk-inference-prod"] == (
        "cluster attached as compute 'aks-credit-scoring' of Azure ML workspace "
        "'mlw-cbk-creditrisk-prod'"
    )
    assert by_name["stcbkragdocs"] == "tagged ai-workload=advisor-copilot-rag"
    assert by_name["stcbktfstate"] is None  # Terraform state: no AI workload's
    assert by_name["crcbkmlops"] is None


# --- the rules as data --------------------------------------------------------------------------


def _rules_with(**changes: Any) -> dict[str, Any]:
    data = load_ai_scope_rules().model_dump(by_alias=True)
    data.update(changes)
    return data


def test_the_shipped_rules_load_and_name_every_checked_general_purpose_type() -> None:
    rules = load_ai_scope_rules()
    components = "microsoft.insights/components"
    cosmos = "microsoft.documentdb/databaseaccounts"
    assert {link.to for link in rules.links} == {
        STORAGE,
        VAULT,
        REGISTRY,
        CLUSTER,
        components,
        cosmos,
    }
    assert {"ai-workload", "model-id"} <= set(rules.tags)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"links": [{"from": STORAGE, "field": "properties.x", "to": VAULT, "role": "r"}]},
            "not an AI",
        ),
        (
            {"links": [{"from": WORKSPACE, "field": "properties.x", "to": ACCOUNT, "role": "r"}]},
            "top-level general",
        ),
        (
            {"links": [{"from": WORKSPACE, "field": "storageAccount", "to": STORAGE, "role": "r"}]},
            "properties",
        ),
        (
            {
                "links": [
                    {
                        "from": WORKSPACE,
                        "field": "properties.x",
                        "to": STORAGE,
                        "role": "r",
                        "owner": "parent",
                    }
                ]
            },
            "no parent",
        ),
        (
            {"general_purpose": [{"type": "Microsoft.Storage/storageAccounts", "label": "x"}]},
            "lower-cased",
        ),
        ({"general_purpose": [{"type": WORKSPACE, "label": "x"}]}, "both an AI"),
        ({"tags": "ai-workload", "extra": 1}, "extra"),
    ],
)
def test_inconsistent_rules_are_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        AiScopeRules.model_validate(_rules_with(**changes))


def test_a_broken_rules_file_is_a_catalogue_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scoping.shipped, "read_document", lambda _name: {"ai_resources": []})
    scoping.load_ai_scope_rules.cache_clear()
    with pytest.raises(CatalogError, match=r"ai_scope\.yaml is invalid"):
        scoping.load_ai_scope_rules()
    monkeypatch.undo()
    scoping.load_ai_scope_rules.cache_clear()
    assert scoping.load_ai_scope_rules().links  # the shipped file, loaded again
