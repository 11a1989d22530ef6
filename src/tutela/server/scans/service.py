"""Scan use cases: check the request against the plan, read the estate, assess, count, store.

A scan spans three steps so no database transaction stays open while Azure is read or the
engine runs: a short read (tenant, plan, quota, sources), the scan itself, and a short write in
which the quota is counted and the report stored together. The count is one conditional UPDATE,
so parallel scans can never overshoot the quota; a scan that fails before the write counts
nothing. Dry runs are executed in full but neither counted nor stored. A scan over the plan's
resources per scan (``limits``) is refused before the engine runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tutela.scanner.acceptance import Acceptance
from tutela.scanner.catalog import Catalog
from tutela.scanner.estate import Estate
from tutela.scanner.not_evaluated import from_reading
from tutela.scanner.outputs.report import input_notes
from tutela.scanner.outputs.report_json import ReportDocument
from tutela.scanner.scan import run_scan
from tutela.scanner.sources import SourceError, decode_document, detect_kind, parse_document
from tutela.server.auth.caller import Caller
from tutela.server.db import transaction, utcnow
from tutela.server.errors import Forbidden, InvalidInput, NotFound, PlanRestriction
from tutela.server.exceptions.service import scan_acceptances
from tutela.server.house_policy.service import scan_catalog
from tutela.server.metrics import SCAN_DURATION, observed_scan
from tutela.server.narration import scan_narrator
from tutela.server.reports.envelope import COMPRESSION_LEVEL
from tutela.server.reports.service import MANUAL, store_report
from tutela.server.runtime import Runtime
from tutela.server.scans.limits import check_resource_count
from tutela.server.scans.sources import NoResourceSource, live_estate, snapshot_estate
from tutela.server.snapshots.service import snapshot_counts
from tutela.server.tenants.models import Tenant
from tutela.server.tenants.repository import TenantRepository
from tutela.server.tenants.service import (
    AzureCredentials,
    caller_tenant,
    open_credentials,
    usage_period,
)
from tutela.server.tracing import span


class QuotaExceeded(Forbidden):
    def __init__(self, plan: str, used: int, quota: int) -> None:
        super().__init__(f"Scan quota exceeded for plan '{plan}' ({used}/{quota} used this month)")


@dataclass(frozen=True)
class ScanOptions:
    frameworks: Sequence[str]
    subscription_id: str | None = None
    generate_narrative: bool | None = None
    label: str | None = None
    dry_run: bool = False


def check_frameworks(
    catalog: Catalog, plan_id: str, requested: Sequence[str], *, sent_in: str = "body"
) -> list[str]:
    """The requested framework ids in catalogue order: 422 if unknown, 403 if not in the plan.

    None requested means every framework of the plan; ``sent_in`` (body or query) is where the
    caller sent them, for the 422's ``loc``.
    """
    if not requested:
        return list(catalog.plan(plan_id).frameworks)
    # The detail names positions, never the values sent: they are the caller's text.
    unknown = [i for i, f in enumerate(requested) if f not in catalog.framework_ids]
    if unknown:
        raise InvalidInput(
            (sent_in, "frameworks"),
            f"Not a framework id: {', '.join(f'frameworks[{i}]' for i in unknown)}; valid ids: "
            f"{', '.join(catalog.framework_ids)}",
        )
    wanted = list(dict.fromkeys(requested))
    allowed = catalog.plan(plan_id).frameworks
    outside = [f for f in wanted if f not in allowed]
    if outside:
        raise PlanRestriction(
            f"Framework(s) {', '.join(outside)} not available on plan '{plan_id}' "
            f"(it includes {', '.join(allowed)})"
        )
    return [f for f in catalog.framework_ids if f in wanted]


def linked_subscriptions(tenant: Tenant, requested: str | None = None) -> list[str]:
    """The subscriptions a scan covers: all linked, or the one requested (404 if not linked)."""
    linked = [s.subscription_id for s in tenant.subscriptions]
    if not linked:
        raise NoResourceSource(
            "No Azure subscription is linked to your tenant: link one with PUT "
            "/tenant/subscriptions first"
        )
    if requested is None:
        return linked
    if requested.lower() not in {s.lower() for s in linked}:
        raise NotFound(f"Subscription {requested} is not linked to your tenant")
    return [requested]


def _check_quota(session: Session, tenant: Tenant, catalog: Catalog, now: dt.datetime) -> None:
    quota = catalog.plan(tenant.plan).scan_quota
    if quota is None:
        return
    used = TenantRepository(session).scan_count(tenant.id, usage_period(now))
    if used >= quota:
        raise QuotaExceeded(tenant.plan, used, quota)


@dataclass
class TenantSource:
    """Where one scan of a tenant's subscriptions reads from: snapshots, or Azure live."""

    subscriptions: list[str]
    estate: Estate | None  # None: to be read live from Azure with the credentials
    credentials: AzureCredentials | None
    plan: str

    def read(self, runtime: Runtime) -> tuple[Estate, str]:
        """The estate and its source's name; reading Azure happens here, outside transactions.

        A live estate over the plan's resources per scan is refused (413) at the first page of
        Resource Graph's answer, which counts its resources, before the rest is read; and once
        read (subscriptions and ARM children add to that count), before it is assessed.
        """
        if self.estate is not None:
            return self.estate, "snapshot"
        assert self.credentials is not None
        plan = runtime.catalog.plan(self.plan)
        estate = live_estate(
            self.credentials, self.subscriptions, plan=plan, transport=runtime.azure_transport
        )
        check_resource_count(plan, estate.scanned, "the live estate")
        return estate, "azure"


def tenant_source(
    session: Session, runtime: Runtime, tenant: Tenant, subscriptions: list[str]
) -> TenantSource:
    """How to read these subscriptions of the tenant; 409 naming those that cannot be read.

    Snapshots over the plan's resources per scan, together, are refused (413) by the counts
    stored beside them, before any is decrypted.
    """
    credentials = open_credentials(tenant, runtime.keys.credentials_key)
    estate = None
    if credentials is None:
        stored = sum(snapshot_counts(session, tenant.id, subscriptions).values())
        plan = runtime.catalog.plan(tenant.plan)
        check_resource_count(plan, stored, "the subscriptions' snapshots")
        estate = snapshot_estate(session, tenant, subscriptions, runtime.keyring)
    return TenantSource(subscriptions, estate, credentials, tenant.plan)


def scan_subscriptions(runtime: Runtime, caller: Caller, options: ScanOptions) -> ReportDocument:
    """POST /scan and /scan/dry-run: the linked subscriptions (or one), live or from snapshots."""
    now = utcnow()
    with transaction(runtime.sessions, readonly=True) as session:
        tenant = caller_tenant(session, caller)
        frameworks = check_frameworks(runtime.catalog, tenant.plan, options.frameworks)
        subscriptions = linked_subscriptions(tenant, options.subscription_id)
        if not options.dry_run:
            _check_quota(session, tenant, runtime.catalog, now)
            runtime.keyring.check_sealing(session, tenant)
        source = tenant_source(session, runtime, tenant, subscriptions)
        narrate = _narrate(runtime.catalog, tenant.plan, options.generate_narrative)
        catalog = scan_catalog(session, tenant.id, runtime.catalog)
        acceptances = scan_acceptances(session, tenant.id, catalog, now.date())
    estate, source_name = source.read(runtime)
    with observed_scan("subscriptions", dry_run=options.dry_run):
        return _assess_and_store(
            runtime,
            caller,
            estate,
            frameworks,
            options,
            now,
            narrate=narrate,
            catalog=catalog,
            acceptances=acceptances,
            extra={"subscriptions": source.subscriptions, "source": source_name},
        )


def _narrate(catalog: Catalog, plan_id: str, requested: bool | None) -> bool:
    return catalog.plan(plan_id).narratives_default if requested is None else requested


def scan_iac(runtime: Runtime, caller: Caller, body: bytes, options: ScanOptions) -> ReportDocument:
    """POST /scan/iac: a Terraform plan or an ARM template, before it is deployed."""
    now = utcnow()
    with transaction(runtime.sessions, readonly=True) as session:
        tenant = caller_tenant(session, caller)
        frameworks = check_frameworks(
            runtime.catalog, tenant.plan, options.frameworks, sent_in="query"
        )
        if not options.dry_run:
            _check_quota(session, tenant, runtime.catalog, now)
            runtime.keyring.check_sealing(session, tenant)
        narrate = _narrate(runtime.catalog, tenant.plan, options.generate_narrative)
        catalog = scan_catalog(session, tenant.id, runtime.catalog)
        acceptances = scan_acceptances(session, tenant.id, catalog, now.date())
    estate, kind = read_iac(body)
    notes = input_notes("body", kind)  # what reading it left out, before another body's
    unread = from_reading("body", kind)  # what it found and did not evaluate, likewise
    check_resource_count(
        runtime.catalog.plan(tenant.plan),
        estate.scanned,
        "the Terraform plan" if kind == "terraform" else "the ARM template",
    )
    with observed_scan("iac", dry_run=options.dry_run):
        return _assess_and_store(
            runtime,
            caller,
            estate,
            frameworks,
            options,
            now,
            narrate=narrate,
            catalog=catalog,
            acceptances=acceptances,
            extra={"source": kind},
            notes=notes,
            not_evaluated=unread,
        )


def read_iac(body: bytes) -> tuple[Estate, str]:
    """The estate of an IaC body and its kind; 422 when it is neither a plan nor a template.

    Read as ``tutela scan`` reads a file: a plan is decoded with msgspec into only the parts the
    reader uses (a whole plan parsed into Python objects takes gigabytes at 100,000 resources),
    anything else with orjson; the parsed document is dropped once its resources are made.
    What reading it left out is ``input_notes("body", kind)`` (and what it found and did not
    evaluate ``not_evaluated.from_reading("body", kind)``) until the next body is read.
    """
    try:
        document, kind = decode_document(body, "body")
    except SourceError:
        raise InvalidInput(("body",), "The body is not valid JSON") from None
    try:
        kind = kind or detect_kind(document, "body")
        if kind == "arg":
            raise SourceError("body", "not a Terraform plan or an ARM template")
        resources = parse_document(document, "body", kind)
    except SourceError as exc:
        raise InvalidInput(("body",), str(exc)) from None
    del document
    return Estate(resources), kind


def assess_estate(
    runtime: Runtime,
    tenant_id: str | None,
    estate: Estate,
    frameworks: list[str],
    now: dt.datetime,
    *,
    narrate: bool,
    label: str | None,
    catalog: Catalog | None = None,
    dry_run: bool = False,
    acceptances: Sequence[Acceptance] = (),
    notes: Sequence[str] = (),
    not_evaluated: Sequence[dict[str, Any]] = (),
) -> ReportDocument:
    """Run the engine on an estate: the report document, not yet stored.

    ``catalog``: the runtime's under the tenant's house policy (``scan_catalog``); scans of a
    tenant pass it, and None is the runtime's own (the default policy). ``acceptances``: the
    tenant's approved risk exceptions (``scan_acceptances``). Governance scans come here too,
    so they narrate and accept as ``/scan`` does. ``notes``: what reading the estate left out;
    ``not_evaluated``: the resources reading found and did not evaluate (the report adds those
    no check applies to).
    """
    catalog = catalog or runtime.catalog
    # The model's narratives when TUTELA_LLM_* configure one (deterministic where it fails).
    narrator = scan_narrator(runtime.settings, catalog) if narrate else None
    attributes = {"tutela.frameworks": len(frameworks), "tutela.resources": estate.scanned}
    with span("scan", attributes), SCAN_DURATION.time():
        _, document = run_scan(
            estate,
            frameworks,
            scan_ts=now,
            narrator=narrator,
            catalog=catalog,
            tenant_id=tenant_id,
            label=label,
            dry_run=dry_run,
            acceptances=acceptances,
            notes=notes,
            not_evaluated=not_evaluated,
        )
    return document


def _assess_and_store(
    runtime: Runtime,
    caller: Caller,
    estate: Estate,
    frameworks: list[str],
    options: ScanOptions,
    now: dt.datetime,
    *,
    narrate: bool,
    catalog: Catalog,
    acceptances: Sequence[Acceptance],
    extra: dict[str, Any],
    notes: Sequence[str] = (),
    not_evaluated: Sequence[dict[str, Any]] = (),
) -> ReportDocument:
    document = assess_estate(
        runtime,
        caller.tenant_id,
        estate,
        frameworks,
        now,
        narrate=narrate,
        label=options.label,
        catalog=catalog,
        dry_run=options.dry_run,
        acceptances=acceptances,
        notes=notes,
        not_evaluated=not_evaluated,
    )
    document.header.update(extra)
    if options.dry_run:
        return document
    # Encoded and compressed before the write transaction (on SQLite, the database's write
    # lock): storing it under its report id then compresses only its opening members again.
    document.compressed(COMPRESSION_LEVEL, with_passed=True)
    with transaction(runtime.sessions) as session:
        tenant = caller_tenant(session, caller)
        quota = runtime.catalog.plan(tenant.plan).scan_quota
        period = usage_period(now)
        tenants = TenantRepository(session)
        if not tenants.consume_scan(tenant.id, period, quota):
            assert quota is not None
            raise QuotaExceeded(tenant.plan, tenants.scan_count(tenant.id, period), quota)
        store_report(
            session,
            runtime.keyring.sealing(session, tenant),
            tenant,
            document,
            report_type=MANUAL,
            label=options.label,
            scan_ts=now,
            actor=caller.actor,
        )
    return document
