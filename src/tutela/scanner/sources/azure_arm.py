"""ARM list calls for what Resource Graph does not hold: diagnostic settings and child resources.

Calls go through azure-core's ARM pipeline (bearer token, retries honouring Retry-After) and run
on a bounded thread pool. A call that cannot be read for one resource (403, 404, 400, 5xx after
retries) is an outcome with a warning; what means the whole scan cannot go on (401, throttling
beyond the retries, no network) is raised as the azure-core exception for the caller to explain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.core.pipeline import policies
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.core import ARMPipelineClient
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy

from tutela.scanner.estate import SUBSCRIPTION_TYPE

ARM_ENDPOINT: Final = "https://management.azure.com"
ARM_SCOPE: Final = "https://management.azure.com/.default"

DIAGNOSTIC_SETTINGS: Final = (
    "providers/Microsoft.Insights/diagnosticSettings",
    "2021-05-01-preview",
)
_COGNITIVE_API: Final = "2024-10-01"
_ML_API: Final = "2024-10-01"
_KEY_VAULT_API: Final = "2023-07-01"
_STORAGE_API: Final = "2023-05-01"
_REGISTRY_API: Final = "2023-07-01"
_FOUNDRY_API: Final = "2025-06-01"  # the first GA version with projects and connections

# Children Resource Graph does not reliably hold, listed under each parent of these types.
CHILD_LISTS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "microsoft.cognitiveservices/accounts": (
        ("deployments", _COGNITIVE_API),
        ("raiPolicies", _COGNITIVE_API),
    ),
    "microsoft.machinelearningservices/workspaces": (
        ("computes", _ML_API),
        ("onlineEndpoints", _ML_API),
        # Lists return credential types, never secret values (those need a listSecrets POST).
        ("connections", _ML_API),
        ("datastores", _ML_API),
    ),
    "microsoft.keyvault/vaults": (("keys", _KEY_VAULT_API),),
    "microsoft.storage/storageaccounts": (("blobServices", _STORAGE_API),),
    # ARM lists a Premium registry's home region among its replications.
    "microsoft.containerregistry/registries": (("replications", _REGISTRY_API),),
    # A Foundry project's own connections, listed once its account's projects are read.
    "microsoft.cognitiveservices/accounts/projects": (("connections", _FOUNDRY_API),),
}
# Children only parents of one kind have: Foundry projects and connections live under an AI
# Services account (the Foundry resource).
_KIND_CHILD_LISTS: Final[dict[tuple[str, str], tuple[tuple[str, str], ...]]] = {
    ("microsoft.cognitiveservices/accounts", "aiservices"): (
        ("projects", _FOUNDRY_API),
        ("connections", _FOUNDRY_API),
    ),
}
# Parents that have the children above; listing them under others wastes a call.
_CHILD_KINDS: Final[dict[str, Callable[[dict[str, Any]], bool]]] = {
    "microsoft.cognitiveservices/accounts": lambda record: (
        _kind(record) in {"openai", "aiservices"}
    ),
    "microsoft.storage/storageaccounts": lambda record: _kind(record) != "filestorage",
    "microsoft.containerregistry/registries": lambda record: _sku(record) == "premium",
}
# Children whose own diagnostic settings checks read (storage logs sit on the blob service).
_DIAGNOSED_CHILDREN: Final[dict[str, tuple[str, str]]] = {
    "microsoft.storage/storageaccounts": (
        "blobServices/default",
        "microsoft.storage/storageaccounts/blobservices",
    ),
}
_MAX_PAGES: Final = 1000

Transport = HttpTransport[Any, Any]

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total) as a live scan advances."""


@dataclass(frozen=True, slots=True)
class Listing:
    """One ARM list call about one resource: its diagnostic settings or its children of one type."""

    owner: dict[str, Any]  # the Resource Graph record it is about
    path: str  # under the owner's id
    api_version: str

    @property
    def owner_id(self) -> str:
        return str(self.owner["id"])

    @property
    def is_diagnostics(self) -> bool:
        return self.path == DIAGNOSTIC_SETTINGS[0]

    @property
    def what(self) -> str:
        return "diagnostic settings" if self.is_diagnostics else self.path


@dataclass(frozen=True, slots=True)
class Fetched:
    """A listing's items as Resource Graph-shaped records, or None and a warning if unreadable."""

    listing: Listing
    records: list[dict[str, Any]] | None
    warning: str | None = None


class _Unreadable(Exception):
    """One listing could not be read; the scan goes on without it."""


def _kind(record: dict[str, Any]) -> str:
    return str(record.get("kind") or "").lower()


def _sku(record: dict[str, Any]) -> str:
    sku = record.get("sku")
    return str(sku.get("name") or "").lower() if isinstance(sku, dict) else ""


def plan_listings(
    records: Iterable[dict[str, Any]], diagnose: Callable[[dict[str, Any]], bool]
) -> list[Listing]:
    """The ARM calls a set of Resource Graph records needs (``diagnose`` picks whose settings)."""
    listings: list[Listing] = []
    for record in records:
        if not isinstance(record.get("id"), str):
            continue
        if diagnose(record):
            listings.append(Listing(record, *DIAGNOSTIC_SETTINGS))
        resource_type = str(record.get("type", "")).lower()
        has_children = _CHILD_KINDS.get(resource_type)
        if has_children is not None and not has_children(record):
            continue
        children = CHILD_LISTS.get(resource_type, ())
        children += _KIND_CHILD_LISTS.get((resource_type, _kind(record)), ())
        listings.extend(Listing(record, path, api) for path, api in children)
        if resource_type in _DIAGNOSED_CHILDREN and diagnose(record):
            path, child_type = _DIAGNOSED_CHILDREN[resource_type]
            child = {**record, "id": f"{record['id']}/{path}", "type": child_type}
            listings.append(Listing(child, *DIAGNOSTIC_SETTINGS))
    return listings


def plan_nested_listings(fetched: Iterable[Fetched], planned: Iterable[Listing]) -> list[Listing]:
    """The child lists of children ARM returned (a Foundry project's connections), minus those
    already planned for the same parent from Resource Graph; no diagnostic settings."""
    done = {(listing.owner_id.lower(), listing.path.lower()) for listing in planned}
    children = (record for outcome in fetched for record in outcome.records or ())
    return [
        listing
        for listing in plan_listings(children, lambda _record: False)
        if (listing.owner_id.lower(), listing.path.lower()) not in done
    ]


def arm_client(credential: TokenCredential, transport: Transport) -> ARMPipelineClient[Any, Any]:
    """A pipeline like the SDK's management clients', minus automatic provider registration."""
    pipeline: list[Any] = [
        policies.RequestIdPolicy(),
        policies.HeadersPolicy(),
        policies.UserAgentPolicy(sdk_moniker="tutela-scanner"),
        policies.RedirectPolicy(),
        policies.RetryPolicy(),
        ARMChallengeAuthenticationPolicy(credential, ARM_SCOPE),
        policies.SensitiveHeaderCleanupPolicy(),
        ARMHttpLoggingPolicy(),
    ]
    return ARMPipelineClient(base_url=ARM_ENDPOINT, policies=pipeline, transport=transport)


class ArmReader:
    """Runs listings concurrently over one ARM pipeline."""

    def __init__(self, client: ARMPipelineClient[Any, Any], max_workers: int) -> None:
        self._client = client
        self._max_workers = max(1, max_workers)

    def fetch_all(self, listings: Sequence[Listing], progress: Progress | None) -> list[Fetched]:
        """Each listing's outcome, in order; the first fatal error cancels the rest."""
        if not listings:
            return []
        with ThreadPoolExecutor(self._max_workers, thread_name_prefix="tutela-arm") as pool:
            futures: list[Future[Fetched]] = [pool.submit(self.fetch, item) for item in listings]
            try:
                for done, future in enumerate(as_completed(futures), 1):
                    future.result()
                    if progress is not None:
                        progress("resource details", done, len(futures))
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        return [future.result() for future in futures]

    def fetch(self, listing: Listing) -> Fetched:
        try:
            items = self._list_all(f"{listing.owner_id}/{listing.path}", listing.api_version)
        except _Unreadable as exc:
            consequence = (
                "its diagnostics checks report unknown"
                if listing.is_diagnostics
                else f"its {listing.what} are left out of the scan"
            )
            warning = f"{listing.owner_id}: cannot read its {listing.what} ({exc}); {consequence}"
            return Fetched(listing, None, warning)
        return Fetched(
            listing, [_without_secrets(as_graph_record(item, listing.owner)) for item in items]
        )

    def _list_all(self, path: str, api_version: str) -> list[dict[str, Any]]:
        """The items of an ARM list, following ``nextLink`` pages."""
        request = HttpRequest(
            "GET", ARM_ENDPOINT + quote(path, safe="/"), params={"api-version": api_version}
        )
        items: list[dict[str, Any]] = []
        for _ in range(_MAX_PAGES):
            body = _page(self._client.send_request(request))
            items.extend(_with_id(body.get("value")))
            next_link = body.get("nextLink")
            if not isinstance(next_link, str) or not next_link:
                return items
            request = HttpRequest("GET", next_link)
        raise _Unreadable(f"more than {_MAX_PAGES} pages")


def _page(response: HttpResponse) -> dict[str, Any]:
    status = response.status_code
    if status == 401:
        raise ClientAuthenticationError(response=response)
    if status == 429:  # the retry policy has already waited as long as Azure asked
        raise HttpResponseError(response=response)
    if status != 200:
        raise _Unreadable(f"HTTP {status}{error_code(response)}")
    try:
        body = response.json()
    except ValueError:
        raise _Unreadable("the response is not JSON") from None
    if not isinstance(body, dict):
        raise _Unreadable("the response is not a JSON object")
    return body


def error_code(response: Any) -> str:
    """`` <ARM error code>`` from an error response's body, or nothing."""
    try:
        body = response.json()
    except (AttributeError, ValueError, TypeError):
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return f" {error['code']}"
    if isinstance(error, str):  # the identity platform's {"error": "invalid_client", ...}
        return f" {error}"
    return ""


def as_graph_record(item: dict[str, Any], owner: dict[str, Any]) -> dict[str, Any]:
    """An ARM list item as Resource Graph returns records: lower-cased type, owner's scope."""
    record = dict(item)
    record["type"] = str(item.get("type", "")).lower()
    for column in ("subscriptionId", "resourceGroup", "tenantId"):
        if column not in record and owner.get(column) is not None:
            record[column] = owner[column]
    return record


# Credential holders whose list items carry no secret today; should a list ever return one, it
# is dropped here, before a scan or an export keeps the record: checks read only the type.
_CREDENTIAL_TYPES: Final = {
    "microsoft.machinelearningservices/workspaces/connections": "authType",
    "microsoft.machinelearningservices/workspaces/datastores": "credentialsType",
    "microsoft.cognitiveservices/accounts/connections": "authType",
    "microsoft.cognitiveservices/accounts/projects/connections": "authType",
}


def _without_secrets(record: dict[str, Any]) -> dict[str, Any]:
    """The record with only the type of its credentials, for a type that holds credentials."""
    kept = _CREDENTIAL_TYPES.get(record["type"])
    properties = record.get("properties")
    if kept is None or not isinstance(properties, dict) or "credentials" not in properties:
        return record
    credentials = properties["credentials"]
    properties = dict(properties)
    if kept == "credentialsType" and isinstance(credentials, dict) and kept in credentials:
        properties["credentials"] = {kept: credentials[kept]}
    else:
        del properties["credentials"]
    return {**record, "properties": properties}


def is_subscription(record: dict[str, Any]) -> bool:
    return str(record.get("type", "")).lower() == SUBSCRIPTION_TYPE


def _with_id(value: Any) -> list[dict[str, Any]]:
    """A page's items that are resources (objects with an id); anything else is not one."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict) and isinstance(item.get("id"), str)]
