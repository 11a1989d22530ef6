"""The scope vocabulary and the scopes each role grants."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    TENANT_READ = "tenant:read"
    TENANT_WRITE = "tenant:write"
    SCAN_RUN = "scan:run"
    REPORT_READ = "report:read"
    REPORT_DELETE = "report:delete"
    GOVERNANCE_READ = "governance:read"
    GOVERNANCE_WRITE = "governance:write"
    ENCRYPTION_READ = "encryption:read"
    ENCRYPTION_WRITE = "encryption:write"
    KEYS_READ = "keys:read"
    KEYS_WRITE = "keys:write"
    EXCEPTIONS_READ = "exceptions:read"
    EXCEPTIONS_WRITE = "exceptions:write"
    EXCEPTIONS_APPROVE = "exceptions:approve"
    # The admin:* family, held only by platform operators.
    ADMIN_READ = "admin:read"
    ADMIN_WRITE = "admin:write"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    Scope.TENANT_READ: "Read the tenant's plan, quota use and linked subscriptions",
    Scope.TENANT_WRITE: "Link subscriptions, set Azure credentials and snapshots, and (with "
    "keys:read / keys:write) list and revoke the keys of the tenant's users",
    Scope.SCAN_RUN: "Run scans and dry runs",
    Scope.REPORT_READ: "Read reports, diffs and report exports",
    Scope.REPORT_DELETE: "Delete reports",
    Scope.GOVERNANCE_READ: "Read continuous-governance state",
    Scope.GOVERNANCE_WRITE: "Change governance cadence and delete governance history",
    Scope.ENCRYPTION_READ: "Read the encryption mode and key status",
    Scope.ENCRYPTION_WRITE: "Configure, rotate or leave customer-managed keys",
    Scope.KEYS_READ: "List one's own API keys",
    Scope.KEYS_WRITE: "Create, rename and revoke one's own API keys",
    Scope.EXCEPTIONS_READ: "Read the tenant's risk exceptions (accepted findings)",
    Scope.EXCEPTIONS_WRITE: "Request, change and revoke risk exceptions",
    Scope.EXCEPTIONS_APPROVE: "Approve risk exceptions requested by someone else",
    Scope.ADMIN_READ: "Platform operators: read tenants, settings, analytics and the audit log",
    Scope.ADMIN_WRITE: "Platform operators: create tenants, change plans, suspend and reactivate",
}


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    AUDITOR = "auditor"
    OPERATOR = "operator"  # a platform operator, outside any tenant


TENANT_SCOPES = frozenset(s for s in Scope if not s.value.startswith("admin:"))
ADMIN_SCOPES = frozenset(s for s in Scope if s.value.startswith("admin:"))

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.OWNER: TENANT_SCOPES,
    # Customer-managed-key changes mail the owner for confirmation, so they stay the owner's.
    Role.ADMIN: TENANT_SCOPES - {Scope.ENCRYPTION_WRITE},
    Role.MEMBER: frozenset(
        {
            Scope.TENANT_READ,
            Scope.SCAN_RUN,
            Scope.REPORT_READ,
            Scope.GOVERNANCE_READ,
            Scope.ENCRYPTION_READ,
            Scope.KEYS_READ,
            Scope.KEYS_WRITE,
            Scope.EXCEPTIONS_READ,
            Scope.EXCEPTIONS_WRITE,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            Scope.TENANT_READ,
            Scope.REPORT_READ,
            Scope.GOVERNANCE_READ,
            Scope.ENCRYPTION_READ,
            Scope.KEYS_READ,
            Scope.KEYS_WRITE,
            Scope.EXCEPTIONS_READ,
        }
    ),
    Role.OPERATOR: ADMIN_SCOPES | {Scope.KEYS_READ, Scope.KEYS_WRITE},
}

TENANT_ROLES = (Role.OWNER, Role.ADMIN, Role.MEMBER, Role.AUDITOR)


def scopes_for_role(role: str) -> frozenset[Scope]:
    return ROLE_SCOPES[Role(role)]


def sort_scopes(scopes: object) -> list[str]:
    """Scopes in vocabulary order, for stable output."""
    order = {s.value: i for i, s in enumerate(Scope)}
    return sorted((str(s) for s in scopes), key=lambda s: order.get(s, len(order)))  # type: ignore[attr-defined]
