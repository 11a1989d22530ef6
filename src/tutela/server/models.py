"""Every table, imported in one place so metadata is complete for Alembic and tests."""

from tutela.server.audit.models import AuditEvent
from tutela.server.governance.models import GovernanceState
from tutela.server.jobs.models import JobRun
from tutela.server.keys.models import ApiKey
from tutela.server.reports.models import Report, Snapshot
from tutela.server.tenants.models import ScanUsage, Tenant, TenantSubscription, User

__all__ = [
    "ApiKey",
    "AuditEvent",
    "GovernanceState",
    "JobRun",
    "Report",
    "ScanUsage",
    "Snapshot",
    "Tenant",
    "TenantSubscription",
    "User",
]
