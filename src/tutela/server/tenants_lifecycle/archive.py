"""A tenant's export: everything it owns as one zip archive, for a customer leaving.

The archive is written to a private temporary file, one member at a time, and a report is
inflated into its member a slice at a time: memory stays flat for thousands of reports. Reports
and snapshots are opened with the key that sealed each (as ``GET /report/{id}`` does), so a CMK
tenant whose vault cannot be reached gets a 503 and no archive, never half of one. Secrets never
enter it: no key or password hash, no Azure or SSO client secret (only whether one is set).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.orm import Session

from tutela.server.admin import service as admin
from tutela.server.audit import service as audit
from tutela.server.db import transaction
from tutela.server.encryption.keyring import Keyring
from tutela.server.errors import Conflict
from tutela.server.reports.envelope import DocumentUnreadable, context, open_compressed, open_json
from tutela.server.reports.passed import with_passed
from tutela.server.reports.service import ReportUnreadable
from tutela.server.runtime import Runtime
from tutela.server.snapshots.service import SnapshotUnreadable
from tutela.server.tenants.models import Tenant
from tutela.server.tenants_lifecycle.repository import PURGING, TenantDataRepository

FORMAT_VERSION = 1
GOVERNANCE = "governance"
_EXCEPTION_FIELDS = (
    *("id", "check_id", "resource", "reason", "ticket", "expires", "status", "requested_by"),
    *("requested_by_user_id", "approved_by", "approved_at", "revoked_by", "revoked_at"),
    *("created_at", "updated_at"),
)
_GOVERNANCE_FIELDS = (
    *("enabled", "cadence", "next_scan_at", "last_scan_at", "last_report_id"),
    *("governance_score", "drift_detected", "drift", "failures", "last_error"),
    *("last_error_at", "updated_at"),
)


@dataclass(frozen=True)
class TenantArchive:
    path: Path  # the caller deletes it once sent
    filename: str
    counts: dict[str, int]


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


def _tenant(tenant: Tenant, data: TenantDataRepository) -> dict[str, Any]:
    sso = data.sso()
    return {
        "id": tenant.id,
        "name": tenant.name,
        "plan": tenant.plan,
        "status": tenant.status,
        "owner_email": tenant.owner_email,
        "is_demo": tenant.is_demo,
        "created_at": tenant.created_at,
        "azure_credentials_set": tenant.azure_credentials is not None,
        "azure_credentials_set_at": tenant.azure_credentials_set_at,
        "encryption": {
            "mode": tenant.encryption_mode,
            "key_vault_url": tenant.cmk_vault_url,
            "key_vault_secret_name": tenant.cmk_secret_name,
            "key_vault_key_name": tenant.cmk_key_name,
            "key_version": tenant.cmk_key_version,
            "history": [
                {
                    "mode": e.mode,
                    "previous_mode": e.previous_mode,
                    "reason": e.reason,
                    "changed_at": e.changed_at,
                    "changed_by": e.changed_by,
                    "vault_uri": e.vault_uri,
                    "key_name": e.key_name,
                    "key_version": e.key_version,
                }
                for e in data.encryption_events()
            ],
        },
        "sso": None
        if sso is None
        else {
            "issuer": sso.issuer,
            "client_id": sso.client_id,
            "required": sso.required,
            "email_claim": sso.email_claim,
            "updated_at": sso.updated_at,
            "updated_by": sso.updated_by,
        },
        "deletion_requested_at": tenant.deletion_requested_at,
        "delete_after": tenant.delete_after,
    }


def _users(data: TenantDataRepository) -> list[dict[str, Any]]:
    return [
        {
            "id": u.id,
            "email": u.email,
            "role": u.role,
            "created_at": u.created_at,
            "password_set": u.password_hash is not None,
        }
        for u in data.users()
    ]


def _api_keys(data: TenantDataRepository) -> list[dict[str, Any]]:
    return [
        {
            "id": k.id,
            "user_id": k.user_id,
            "prefix": k.prefix,
            "name": k.name,
            "scopes": list(k.scopes),
            "created_at": k.created_at,
            "expires_at": k.expires_at,
            "revoked_at": k.revoked_at,
            "last_used_at": k.last_used_at,
        }
        for k in data.api_keys()
    ]


def _exceptions(data: TenantDataRepository) -> list[dict[str, Any]]:
    return [{name: getattr(e, name) for name in _EXCEPTION_FIELDS} for e in data.exceptions()]


def _governance_state(data: TenantDataRepository) -> dict[str, Any] | None:
    state = data.governance_state()
    if state is None:
        return None
    return {name: getattr(state, name) for name in _GOVERNANCE_FIELDS}


class _Writer:
    """Writes the members of one tenant's archive, counting what it wrote."""

    def __init__(self, archive: zipfile.ZipFile, session: Session, keyring: Keyring) -> None:
        self.archive, self.session, self.keyring = archive, session, keyring
        self.counts: dict[str, int] = {}

    def member(self, name: str, value: Any) -> None:
        self.archive.writestr(name, _json(value))

    def stream(self, name: str, chunks: Iterable[bytes]) -> None:
        # Dated like the members writestr adds (a bare name would be dated 1980-01-01).
        info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
        info.compress_type = self.archive.compression
        with self.archive.open(info, "w", force_zip64=True) as member:
            for chunk in chunks:
                member.write(chunk)

    def reports(self, data: TenantDataRepository) -> list[dict[str, Any]]:
        """Each report decrypted into reports/<report_id>.json; the governance history."""
        history: list[dict[str, Any]] = []
        count = 0
        for row_id in data.report_ids():
            row = data.report(row_id)
            if row is None:  # deleted while the archive was written
                continue
            wrapper = self.keyring.opening(self.session, row.tenant_id, row.key_mode, row.key_ref)
            bound = context("report", row.tenant_id, row.report_id)
            try:
                compressed = open_compressed(wrapper, row.wrapped_key, row.body, bound)
            except DocumentUnreadable:
                raise ReportUnreadable(row.report_id) from None
            self.stream(f"reports/{row.report_id}.json", with_passed(compressed))
            if row.type == GOVERNANCE:
                history.append({**row.listing(), "scan_ts": row.created_at})
            count += 1
            self.session.expunge(row)  # its sealed body is not kept for the rest of the run
        self.counts["reports"] = count
        return history

    def snapshots(self, data: TenantDataRepository) -> list[dict[str, Any]]:
        """Each snapshot's Resource Graph export decrypted; their metadata."""
        listed: list[dict[str, Any]] = []
        for subscription_id in data.snapshot_ids():
            row = data.snapshot(subscription_id)
            if row is None:
                continue
            wrapper = self.keyring.opening(self.session, row.tenant_id, row.key_mode, row.key_ref)
            bound = context("snapshot", row.tenant_id, row.subscription_id)
            try:
                export = open_json(wrapper, row.wrapped_key, row.body, bound)
            except DocumentUnreadable:
                raise SnapshotUnreadable(
                    f"Snapshot for subscription {subscription_id} cannot be decrypted"
                ) from None
            self.archive.writestr(f"snapshots/{subscription_id}.json", export)
            listed.append(
                {
                    "subscription_id": row.subscription_id,
                    "resources": row.resources,
                    "size_bytes": row.size_bytes,
                    "uploaded_at": row.uploaded_at,
                    "file": f"snapshots/{subscription_id}.json",
                }
            )
            self.session.expunge(row)
        self.counts["snapshots"] = len(listed)
        return listed

    def audit_events(self, data: TenantDataRepository) -> None:
        count = 0

        def entries() -> Iterator[bytes]:
            nonlocal count
            yield b"["
            for event in data.audit_events():
                yield (b",\n" if count else b"\n") + orjson.dumps(
                    {
                        "id": event.id,
                        "actor": event.actor,
                        "action": event.action,
                        "target": event.target,
                        "details": event.details,
                        "created_at": event.created_at,
                    }
                )
                count += 1
                self.session.expunge(event)
            yield b"\n]\n"

        self.stream("audit_events.json", entries())
        self.counts["audit_events"] = count


def _write(writer: _Writer, tenant: Tenant, data: TenantDataRepository, now: dt.datetime) -> None:
    users, api_keys, exceptions = _users(data), _api_keys(data), _exceptions(data)
    policy = data.house_policy()
    writer.member("tenant.json", _tenant(tenant, data))
    writer.member("users.json", users)
    writer.member("api_keys.json", api_keys)
    writer.member("subscriptions.json", [s.subscription_id for s in tenant.subscriptions])
    writer.member("house_policy.json", None if policy is None else dict(policy.settings))
    writer.member("exceptions.json", exceptions)
    history = writer.reports(data)
    writer.member("governance.json", {"state": _governance_state(data), "history": history})
    writer.member("snapshots.json", writer.snapshots(data))
    writer.audit_events(data)
    writer.counts.update(
        users=len(users),
        api_keys=len(api_keys),
        subscriptions=len(tenant.subscriptions),
        exceptions=len(exceptions),
        governance_reports=len(history),
    )
    writer.member(
        "manifest.json",
        {
            "format_version": FORMAT_VERSION,
            "tenant_id": tenant.id,
            "name": tenant.name,
            "plan": tenant.plan,
            "exported_at": now,
            "counts": dict(sorted(writer.counts.items())),
        },
    )


def export_tenant(
    runtime: Runtime, *, actor: str, tenant_id: str, now: dt.datetime
) -> TenantArchive:
    """Write the tenant's archive to a private temporary file, then audit the export."""
    folder = runtime.settings.data_dir / "exports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="tenant-", suffix=".zip", dir=folder)  # mode 0600
    path = Path(name)
    try:
        with (
            os.fdopen(handle, "wb") as file,
            zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive,
            transaction(runtime.sessions, readonly=True) as session,
        ):
            tenant = admin.get_tenant(session, tenant_id)
            if tenant.status == PURGING:
                raise Conflict("The tenant is being purged: its documents can no longer be read")
            writer = _Writer(archive, session, runtime.keyring)
            _write(writer, tenant, TenantDataRepository(session, tenant_id), now)
        with transaction(runtime.sessions) as session:
            audit.record(
                session,
                actor=actor,
                action="tenant.exported",
                tenant_id=tenant_id,
                target=f"tenant:{tenant_id}",
                details={"format_version": FORMAT_VERSION, "counts": writer.counts},
            )
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        raise
    filename = f"tutela-tenant-{tenant_id}-{now:%Y%m%dT%H%M%SZ}.zip"
    return TenantArchive(path, filename, writer.counts)
