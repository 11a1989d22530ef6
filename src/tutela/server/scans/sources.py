"""Where a tenant's subscriptions' resources come from, for one scan.

With Azure credentials stored: the live estate, read through the Azure SDK. Without them: each
subscription's uploaded snapshot (the demo tenant's are the bundled sample estate). A
subscription with neither cannot be scanned, and the scan says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from tutela.scanner.catalog.loader import Plan
from tutela.scanner.estate import Estate
from tutela.scanner.sources.azure import EstateOverLimit, read_live_estate
from tutela.scanner.sources.azure_arm import Transport
from tutela.scanner.sources.azure_identity import AzureSourceError
from tutela.server.errors import DomainError
from tutela.server.scans.limits import TooManyResources
from tutela.server.snapshots.service import snapshot_resources
from tutela.server.tenants.models import Tenant
from tutela.server.tenants.service import AzureCredentials

if TYPE_CHECKING:
    from tutela.server.encryption.keyring import Keyring


class SourceUnavailable(DomainError):
    """Azure could not be read: credentials, access or network (502), or throttling (503)."""

    def __init__(self, detail: str, *, throttled: bool) -> None:
        super().__init__(detail, headers={"Retry-After": "60"} if throttled else None)
        self.status_code = 503 if throttled else 502


class AzureCredentialsRejected(DomainError):
    """Azure's identity platform refused the tenant's stored service principal.

    422, not 502: the request was understood, but the credentials it relies on are invalid, and
    asking again gives the same answer until they are replaced (PUT /tenant/credentials). The
    SDK and `tutela gate` retry 429 and 502-504 only, so one bad secret is tried once; 401 and
    403 would blame the caller's Tutela API key instead.
    """

    status_code = 422


class NoResourceSource(DomainError):
    status_code = 409


def snapshot_estate(
    session: Session, tenant: Tenant, subscription_ids: Sequence[str], keys: Keyring
) -> Estate:
    """The estate of the subscriptions' snapshots; 409 naming those without one."""
    estate = Estate()
    missing = []
    for subscription_id in subscription_ids:
        resources = snapshot_resources(session, tenant.id, subscription_id, keys)
        if resources is None:
            missing.append(subscription_id)
            continue
        for resource in resources:
            estate.add(resource)
    if missing:
        raise NoResourceSource(
            f"No resources to scan for subscription(s) {', '.join(missing)}: store Azure "
            "credentials (PUT /tenant/credentials) or upload a Resource Graph export "
            "(PUT /tenant/subscriptions/{subscription_id}/snapshot)"
        )
    return estate


def live_estate(
    credentials: AzureCredentials,
    subscription_ids: Sequence[str],
    *,
    plan: Plan | None = None,
    transport: Transport | None = None,
) -> Estate:
    """The subscriptions read live from Azure; 502 / 503 naming the cause when that fails,
    422 when Azure refused the credentials at sign-in, 413 when Resource Graph counts more
    resources than the plan's limit per scan (before the estate is read: ``EstateOverLimit``).

    ``transport`` is handed to the Azure SDK (default: its own HTTP session); without a
    ``plan``, no limit is checked.
    """
    try:
        return read_live_estate(
            credentials,
            subscription_ids,
            transport=transport,
            max_resources=plan.max_resources_per_scan if plan is not None else None,
        ).estate
    except EstateOverLimit as exc:
        assert plan is not None  # (only a plan's limit is checked)
        raise TooManyResources("the live estate", exc.count, plan.id, exc.limit) from None
    except AzureSourceError as exc:
        if exc.credentials_rejected:
            raise AzureCredentialsRejected(
                f"Azure rejected the stored credentials: {exc.problem.rstrip('.')}. Correct "
                "them with PUT /tenant/credentials."
            ) from None
        raise SourceUnavailable(
            f"Azure could not be scanned: {exc.problem}", throttled=exc.throttled
        ) from None
