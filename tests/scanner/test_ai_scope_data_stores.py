"""AI scope of Cosmos DB accounts and Databricks workspaces: a Foundry connection's account, vector
search, tags; and the rule that a setting of its own puts a general-purpose resource in scope."""

from __future__ import annotations

from typing import Any

import pytest

from tutela.scanner.ai_scope import AiScope
from tutela.scanner.catalog import scoping
from tutela.scanner.catalog.scoping import AiScopeRules, load_ai_scope_rules
from tutela.scanner.estate import UNKNOWN, Estate, Resource

SUB = "11111111-2222-4333-8444-555555555555"
GROUP = f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers"
COSMOS = "microsoft.documentdb/databaseaccounts"
DATABRICKS = "microsoft.databricks/workspaces"
FOUNDRY = "microsoft.cognitiveservices/accounts"


def cosmos(name: str, tags: dict[str, str] | None = None, **properties: Any) -> Resource:
    return Resource(
        id=f"{GROUP}/Microsoft.DocumentDB/databaseAccounts/{name}",
        type=COSMOS,
        name=name,
        subscription_id=SUB,
        tags=tags or {},
        properties=properties,
    )


def databricks(name: str, **fields: Any) -> Resource:
    return Resource(
        id=f"{GROUP}/Microsoft.Databricks/workspaces/{name}",
        type=DATABRICKS,
        name=name,
        subscription_id=SUB,
        **fields,
    )


def foundry() -> Resource:
    return Resource(
        id=f"{GROUP}/Microsoft.CognitiveServices/accounts/aif-agents",
        type=FOUNDRY,
        name="aif-agents",
        subscription_id=SUB,
        kind="AIServices",
    )


def connection(parent: Resource, segment: str, name: str, **properties: Any) -> Resource:
    return Resource(
        id=f"{parent.id}/{segment}/{name}",
        type=f"{parent.type}/{segment}",
        name=name,
        subscription_id=SUB,
        properties=properties,
    )


def reasons(*resources: Resource) -> dict[str, str | None]:
    scope = AiScope(Estate(resources), load_ai_scope_rules())
    return {r.name: scope.reason(r) for r in resources}


def test_cosmos_and_databricks_are_general_purpose() -> None:
    scope = AiScope(Estate(), load_ai_scope_rules())
    assert scope.is_general_purpose(COSMOS)
    assert scope.is_general_purpose(DATABRICKS)


def test_an_untagged_account_and_workspace_are_outside_any_ai_workload() -> None:
    found = reasons(cosmos("cosmos-orders"), databricks("dbw-etl"))
    assert found == {"cosmos-orders": None, "dbw-etl": None}


def test_a_foundry_cosmos_connection_brings_its_account_into_scope() -> None:
    account = foundry()
    threads = cosmos("cosmos-threads")
    other = cosmos("cosmos-orders")
    linked = connection(
        account,
        "connections",
        "threads",
        category="CosmosDB",
        target="https://cosmos-threads.documents.azure.com:443/",
        authType="AAD",
        metadata={"ApiType": "Azure", "ResourceId": threads.id.upper()},
    )
    found = reasons(account, linked, threads, other)
    assert found["cosmos-threads"] == (
        "Cosmos DB account of connection 'threads' of Azure AI Services account 'aif-agents'"
    )
    assert found["cosmos-orders"] is None


def test_a_project_connection_links_its_account_and_other_categories_link_nothing() -> None:
    account = foundry()
    project = connection(account, "projects", "proj-agents")
    threads = cosmos("cosmos-threads")
    search_named = cosmos("cosmos-named-by-search")
    linked = connection(
        project,
        "connections",
        "threads",
        category="CosmosDb",
        metadata={"ResourceId": threads.id},
    )
    other_category = connection(
        project,
        "connections",
        "search",
        category="CognitiveSearch",
        metadata={"ResourceId": search_named.id},
    )
    found = reasons(account, project, linked, other_category, threads, search_named)
    assert found["cosmos-threads"] is not None
    assert found["cosmos-threads"].startswith("Cosmos DB account of connection 'threads' of ")
    assert found["cosmos-named-by-search"] is None


def test_an_unresolved_connection_target_puts_every_account_in_scope() -> None:
    account = foundry()
    linked = connection(
        account, "connections", "threads", category="CosmosDB", metadata={"ResourceId": UNKNOWN}
    )
    found = reasons(account, linked, cosmos("cosmos-a"))
    assert found["cosmos-a"] == (
        "the Cosmos DB account of connection 'threads' of Azure AI Services account "
        "'aif-agents' cannot be resolved from the input, so every Cosmos DB account is "
        "considered in scope"
    )


def test_vector_search_puts_an_account_in_scope_on_its_own() -> None:
    vectors = cosmos(
        "cosmos-rag",
        capabilities=[{"name": "EnableServerless"}, {"name": "enablenosqlvectorsearch"}],
    )
    plain = cosmos("cosmos-orders", capabilities=[{"name": "EnableServerless"}])
    found = reasons(vectors, plain)
    assert found["cosmos-rag"] == "its capabilities include vector search (EnableNoSQLVectorSearch)"
    assert found["cosmos-orders"] is None


def test_capabilities_the_source_could_not_resolve_keep_the_account_in_scope() -> None:
    found = reasons(
        cosmos("cosmos-a", capabilities=UNKNOWN),
        cosmos("cosmos-b", capabilities=[{"name": UNKNOWN}]),
    )
    for name in ("cosmos-a", "cosmos-b"):
        assert found[name] == (
            "its properties.capabilities[*].name cannot be resolved from the input, so it is "
            "considered in scope"
        )


def test_a_tag_wins_over_the_account_s_own_setting_and_puts_a_workspace_in_scope() -> None:
    tagged = cosmos(
        "cosmos-rag",
        tags={"ai-workload": "advisor-rag"},
        capabilities=[{"name": "EnableNoSQLVectorSearch"}],
    )
    workspace = databricks("dbw-features", tags={"AI-Workload": "fraud-scoring"})
    found = reasons(tagged, workspace)
    assert found["cosmos-rag"] == "tagged ai-workload=advisor-rag"
    assert found["dbw-features"] == "tagged AI-Workload=fraud-scoring"


def _rules_with_general_purpose(extra: dict[str, Any]) -> dict[str, Any]:
    data = load_ai_scope_rules().model_dump(by_alias=True)
    data["general_purpose"] = [*data["general_purpose"], extra]
    return data


@pytest.mark.parametrize(
    "extra",
    [
        {"type": "microsoft.sql/servers", "label": "x", "ai_reason": "why"},
        {
            "type": "microsoft.sql/servers",
            "label": "x",
            "ai_when": {"field": "properties.x", "in": ["y"]},
        },
    ],
)
def test_ai_when_and_ai_reason_go_together(extra: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="go together"):
        AiScopeRules.model_validate(_rules_with_general_purpose(extra))


def test_the_shipped_rules_read_vector_search_from_the_capabilities() -> None:
    rules = {rule.type: rule for rule in load_ai_scope_rules().general_purpose}
    condition = rules[COSMOS].ai_when
    assert isinstance(condition, scoping.Condition)
    assert condition.field == "properties.capabilities[*].name"
    assert condition.in_ == ("EnableNoSQLVectorSearch",)
    assert rules[DATABRICKS].ai_when is None
