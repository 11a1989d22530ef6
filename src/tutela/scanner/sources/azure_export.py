"""A live Azure estate written out as one Resource Graph export (``tutela export``).

The export is read exactly as a live scan reads the estate (``azure``: the same Resource Graph
queries, every page, then the same ARM list calls), and written in the shape the ``arg`` source
reads: ``{"count", "data": [...], "skip_token": null, "total_records"}``, plus ``live_read``: the
ids whose diagnostic settings were read and those that could not be. With it, a scan of the file
knows what the live read looked at (a kind of fact looked for and none found is "none", not
"not read"; one resource's unreadable settings stay unknown), so it assesses the estate exactly
as a live scan would have.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError
from azure.core.pipeline.transport import RequestsTransport
from azure.mgmt.resourcegraph import ResourceGraphClient

from tutela.scanner.sources.azure import (
    _check_access,
    _diagnosed,
    _diagnosed_keys,
    _document,
    _subscription_list,
    read_graph,
    scanned_types,
)
from tutela.scanner.sources.azure_arm import (
    ArmReader,
    Progress,
    Transport,
    arm_client,
    plan_listings,
)
from tutela.scanner.sources.azure_identity import (
    AzureSourceError,
    ServicePrincipal,
    explain,
    redacted,
    sign_in,
)


@dataclass(frozen=True, slots=True)
class LiveExport:
    """The export's records, what could not be read (one line each), and whose diagnostics were."""

    records: list[dict[str, Any]]
    warnings: tuple[str, ...] = ()
    diagnosed: dict[str, bool] = field(default_factory=dict)  # resource id → settings read

    def document(self) -> dict[str, Any]:
        """What ``az graph query`` prints for a result read whole, and what the read looked at."""
        count = len(self.records)
        return {
            "count": count,
            "data": self.records,
            "skip_token": None,
            "total_records": count,
            "live_read": {
                "diagnostics_read": sorted(i for i, read in self.diagnosed.items() if read),
                "diagnostics_unread": sorted(i for i, read in self.diagnosed.items() if not read),
            },
        }


def export_live_estate(
    credentials: ServicePrincipal,
    subscription_ids: Iterable[str],
    *,
    transport: Transport | None = None,
    max_workers: int = 4,
    progress: Progress | None = None,
) -> LiveExport:
    """Read the subscriptions as a live scan does; raise AzureSourceError if that cannot complete.

    Arguments as ``azure.read_live_estate``'s. Only GET list calls are made on resources (never
    ``listKeys`` or any other POST that returns secrets).
    """
    subscriptions = _subscription_list(subscription_ids)
    own_transport = transport is None
    shared = transport or RequestsTransport()
    try:
        return _export(credentials, subscriptions, shared, max_workers, progress)
    except AzureError as exc:
        throttled = isinstance(exc, HttpResponseError) and exc.status_code == 429
        raise AzureSourceError(
            redacted(explain(exc, credentials), credentials), throttled=throttled
        ) from None
    finally:
        if own_transport:
            shared.close()


def _export(
    principal: ServicePrincipal,
    subscriptions: list[str],
    transport: Transport,
    max_workers: int,
    progress: Progress | None,
) -> LiveExport:
    credential = sign_in(principal, transport)
    graph = ResourceGraphClient(credential, transport=transport)
    resources, others = read_graph(graph, subscriptions, scanned_types(), progress)
    _check_access(others, subscriptions, principal)
    listings = plan_listings([*resources, *others], _diagnosed)
    reader = ArmReader(arm_client(credential, transport), max_workers)
    fetched = reader.fetch_all(listings, progress)
    records = _document([*resources, *others], fetched)
    warnings = tuple(outcome.warning for outcome in fetched if outcome.warning)
    return LiveExport(records, warnings, _diagnosed_keys(fetched))
