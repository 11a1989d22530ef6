"""A live Azure estate, read through the Azure SDK with a service principal.

Resource Graph gives the resources of the types the catalogue checks (plus private endpoints),
the subscriptions, role assignments and definitions, Defender pricings and policy assignments.
ARM list calls (``azure_arm``) add what the graph does not hold: each resource's and each
subscription's diagnostic settings, Azure OpenAI deployments and content filters, AML computes
and online endpoints, Key Vault keys, AI Foundry projects and the connections of the Foundry
resource and of each project. Every record then goes through the ``arg`` source, so a
live scan and a Resource Graph export become the same estate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from tutela.scanner.catalog import load_catalog
from tutela.scanner.estate import SUBSCRIPTION_TYPE, Estate
from tutela.scanner.sources.arg import resources_from_arg
from tutela.scanner.sources.azure_arm import (
    ArmReader,
    Fetched,
    Progress,
    Transport,
    arm_client,
    is_subscription,
    plan_listings,
    plan_nested_listings,
)
from tutela.scanner.sources.azure_identity import (
    SOURCE,
    AzureSourceError,
    ServicePrincipal,
    explain,
    redacted,
    sign_in,
)
from tutela.scanner.sources.relate import (
    POLICY_ASSIGNMENT_TYPE,
    PRICING_TYPE,
    PRIVATE_ENDPOINT_TYPE,
    ROLE_ASSIGNMENT_TYPE,
    ROLE_DEFINITION_TYPE,
    mark_live_visibility,
)

GRAPH_PAGE: Final = 1000  # the most rows Resource Graph returns per page
GRAPH_SUBSCRIPTION_BATCH: Final = 1000  # the most subscriptions one query may name
GRAPH_QUERIES: Final = (
    "ResourceContainers | where type == 'microsoft.resources/subscriptions'",
    "AuthorizationResources | where type in ('microsoft.authorization/roleassignments',"
    " 'microsoft.authorization/roledefinitions')",
    "SecurityResources | where type == 'microsoft.security/pricings'",
    "PolicyResources | where type == 'microsoft.authorization/policyassignments'",
)
# Types the other Resource Graph queries bring, kept out of the Resources query.
_OTHER_TABLES: Final = frozenset(
    {
        SUBSCRIPTION_TYPE,
        ROLE_ASSIGNMENT_TYPE,
        ROLE_DEFINITION_TYPE,
        PRICING_TYPE,
        POLICY_ASSIGNMENT_TYPE,
    }
)
# The other tables' rows are facts, not resources; private endpoints have no resource logs.
_NOT_DIAGNOSED: Final = (_OTHER_TABLES - {SUBSCRIPTION_TYPE}) | {PRIVATE_ENDPOINT_TYPE}
_RESOURCE_TYPE: Final = re.compile(r"^[a-z0-9.-]+(/[a-z0-9.-]+)+$")
_SUBSCRIPTION_ID: Final = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")


class EstateOverLimit(Exception):
    """The estate holds more resources than a scan may cover: refused before it is read.

    ``count`` is what Resource Graph counted for the Resources query (``totalRecords`` of its
    first page): the estate has at least as many resources (subscriptions and ARM children
    come on top), so the refusal never stops an estate within the limit.
    """

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"{count} resources, over {limit}")
        self.count = count
        self.limit = limit


@dataclass(frozen=True, slots=True)
class LiveEstate:
    """A live scan's estate, and what it could not read (each a one-line warning)."""

    estate: Estate
    warnings: tuple[str, ...] = ()


def read_live_estate(
    credentials: ServicePrincipal,
    subscription_ids: Iterable[str],
    *,
    transport: Transport | None = None,
    max_workers: int = 4,
    progress: Progress | None = None,
    max_resources: int | None = None,
) -> LiveEstate:
    """Read the subscriptions' AI estate; raise AzureSourceError if the scan cannot complete.

    Arguments as ``read_live``'s. Facts the read looked for are seen even where it found none,
    and diagnostic settings it could not read stay unknown (``relate.mark_live_visibility``).
    """
    read = read_live(
        credentials,
        subscription_ids,
        transport=transport,
        max_workers=max_workers,
        progress=progress,
        max_resources=max_resources,
    )
    parsed = resources_from_arg(read.records, SOURCE)
    types = {str(row.get("type", "")).lower() for row in read.records}
    mark_live_visibility(parsed, types, read.diagnosed)
    return LiveEstate(Estate(parsed), read.warnings)


@dataclass(frozen=True, slots=True)
class LiveRead:
    """What a live read got: its records in Resource Graph's shape, and each ARM call's outcome."""

    records: list[dict[str, Any]]
    fetched: list[Fetched]

    @property
    def warnings(self) -> tuple[str, ...]:
        """What could not be read, one line each."""
        return tuple(outcome.warning for outcome in self.fetched if outcome.warning)

    @property
    def diagnosed(self) -> dict[str, bool]:
        """Lower-cased id → whether its diagnostic settings were read."""
        return _diagnosed_keys(self.fetched)


def read_live(
    credentials: ServicePrincipal,
    subscription_ids: Iterable[str],
    *,
    transport: Transport | None = None,
    max_workers: int = 4,
    progress: Progress | None = None,
    max_resources: int | None = None,
) -> LiveRead:
    """Read the subscriptions' records, as a live scan and ``tutela export`` need them; raise
    AzureSourceError if the read cannot complete.

    ``transport`` is shared by sign-in, Resource Graph and ARM (default: one requests session);
    ``max_workers`` bounds concurrent ARM calls; ``progress(stage, done, total)`` follows along.
    With ``max_resources``, an estate Resource Graph counts more resources in raises
    ``EstateOverLimit`` at the first page of the Resources query: before the rest is paged,
    the other tables are queried or any ARM call is made. Only GET list calls are made on
    resources (never ``listKeys`` or any other POST that returns secrets).
    """
    subscriptions = _subscription_list(subscription_ids)
    own_transport = transport is None
    shared = transport or RequestsTransport()
    try:
        return _read(credentials, subscriptions, shared, max_workers, progress, max_resources)
    except AzureError as exc:
        throttled = isinstance(exc, HttpResponseError) and exc.status_code == 429
        raise AzureSourceError(
            redacted(explain(exc, credentials), credentials), throttled=throttled
        ) from None
    finally:
        if own_transport:
            shared.close()


def _read(
    principal: ServicePrincipal,
    subscriptions: list[str],
    transport: Transport,
    max_workers: int,
    progress: Progress | None,
    max_resources: int | None,
) -> LiveRead:
    credential = sign_in(principal, transport)
    graph = ResourceGraphClient(credential, transport=transport)
    resources, others = read_graph(
        graph, subscriptions, scanned_types(), progress, max_resources=max_resources
    )
    _check_access(others, subscriptions, principal)
    listings = plan_listings([*resources, *others], _diagnosed)
    reader = ArmReader(arm_client(credential, transport), max_workers)
    fetched = reader.fetch_all(listings, progress)
    # Grandchildren (a Foundry project's connections) once their parents are listed.
    fetched += reader.fetch_all(plan_nested_listings(fetched, listings), progress)
    return LiveRead(_document([*resources, *others], fetched), fetched)


def scanned_types() -> list[str]:
    """The resource types the catalogue's checks read, plus private endpoints; [] = all."""
    types = {t for check in load_catalog().checks for t in check.resource_types}
    types -= _OTHER_TABLES  # queried on their own tables
    if not types:
        return []
    return sorted(t for t in types | {PRIVATE_ENDPOINT_TYPE} if _RESOURCE_TYPE.match(t))


def resources_query(types: Sequence[str]) -> str:
    if not types:
        return "Resources"
    return "Resources | where type in~ (" + ", ".join(f"'{t}'" for t in types) + ")"


def read_graph(
    graph: ResourceGraphClient,
    subscriptions: Sequence[str],
    types: Sequence[str],
    progress: Progress | None,
    *,
    max_resources: int | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows of the Resources query, rows of the other tables) over every page of each query.

    The Resources query comes first; with ``max_resources``, its count is checked as soon as
    its first page tells it (``EstateOverLimit``).
    """
    queries = (resources_query(types), *GRAPH_QUERIES)
    results: list[list[dict[str, Any]]] = []
    for done, query in enumerate(queries, 1):
        most = max_resources if done == 1 else None
        results.append(_query_all(graph, query, subscriptions, most))
        if progress is not None:
            progress("resource graph", done, len(queries))
    return results[0], [row for rows in results[1:] for row in rows]


def _query_all(
    graph: ResourceGraphClient,
    query: str,
    subscriptions: Sequence[str],
    max_rows: int | None = None,
) -> list[dict[str, Any]]:
    """Every row of the query; ``EstateOverLimit`` once the first pages count over ``max_rows``.

    Each first page carries its batch's ``totalRecords``, so the rows are counted before a
    second page is asked for (with more than 1,000 subscriptions, batch by batch). Without a
    count, the caller checks what was read.
    """
    rows: list[dict[str, Any]] = []
    counted = 0
    for start in range(0, len(subscriptions), GRAPH_SUBSCRIPTION_BATCH):
        batch = list(subscriptions[start : start + GRAPH_SUBSCRIPTION_BATCH])
        skip_token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            options = QueryRequestOptions(
                result_format="objectArray", top=GRAPH_PAGE, skip_token=skip_token
            )
            page = graph.resources(QueryRequest(subscriptions=batch, query=query, options=options))
            if not isinstance(page.data, list):
                raise AzureSourceError(f"Resource Graph answered {query!r} without a row list")
            first = skip_token is None
            if max_rows is not None and first and isinstance(page.total_records, int):
                counted += page.total_records
                if counted > max_rows:
                    raise EstateOverLimit(counted, max_rows)
            rows.extend(row for row in page.data if isinstance(row, dict))
            skip_token = page.skip_token
            if not skip_token:
                break
            if skip_token in seen_tokens:
                raise AzureSourceError(f"Resource Graph repeated a page of {query!r}")
            seen_tokens.add(skip_token)
    return rows


def _check_access(
    others: list[dict[str, Any]], subscriptions: list[str], principal: ServicePrincipal
) -> None:
    """Resource Graph silently skips subscriptions it may not read: missing ones fail the scan."""
    visible = {str(row.get("subscriptionId", "")).lower() for row in others if is_subscription(row)}
    missing = [s for s in subscriptions if s.lower() not in visible]
    if missing:
        raise AzureSourceError(
            f"service principal {principal.client_id} cannot read subscription(s) "
            f"{', '.join(missing)} (they do not exist in tenant {principal.tenant_id} or it "
            "holds no role on them; grant it Reader)"
        )


def _diagnosed(record: dict[str, Any]) -> bool:
    """Whose diagnostic settings to read: scanned resources and subscriptions (activity log)."""
    resource_type = str(record.get("type", "")).lower()
    if resource_type == SUBSCRIPTION_TYPE:
        return True
    return "/" in resource_type and resource_type not in _NOT_DIAGNOSED


def _document(graph_rows: list[dict[str, Any]], fetched: list[Fetched]) -> list[dict[str, Any]]:
    """One Resource Graph-shaped document; a record seen twice (graph and ARM) is kept once."""
    document: list[dict[str, Any]] = []
    seen: set[str] = set()
    fetched_rows = (row for outcome in fetched for row in outcome.records or ())
    for row in (*graph_rows, *fetched_rows):
        key = str(row.get("id", "")).lower()
        if key not in seen:
            seen.add(key)
            document.append(row)
    return document


def _diagnosed_keys(fetched: list[Fetched]) -> dict[str, bool]:
    """Lower-cased id → whether its diagnostic settings were read."""
    return {
        outcome.listing.owner_id.lower(): outcome.records is not None
        for outcome in fetched
        if outcome.listing.is_diagnostics
    }


def _subscription_list(subscription_ids: Iterable[str]) -> list[str]:
    subscriptions = list(dict.fromkeys(s.strip() for s in subscription_ids if s and s.strip()))
    if not subscriptions:
        raise AzureSourceError("no subscription to scan")
    malformed = [s for s in subscriptions if not _SUBSCRIPTION_ID.match(s)]
    if malformed:
        raise AzureSourceError(f"not subscription ids (GUIDs): {', '.join(malformed)}")
    return subscriptions
