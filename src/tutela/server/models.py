"""Every table, imported in one place so metadata is complete for Alembic and tests."""

from tutela.server.analytics.models import ReportCheckCount, ReportFrameworkCount
from tutela.server.audit.models import AuditEvent, KeySource
from tutela.server.auth.models import AuthEpoch, OneTimeLink, WebSession
from tutela.server.encryption.models import EncryptionEvent, PendingDowngrade, PlatformKey
from tutela.server.exceptions.models import RiskException
from tutela.server.governance.models import GovernanceState
from tutela.server.house_policy.models import TenantHousePolicy
from tutela.server.idempotency.models import IdempotencyRecord
from tutela.server.jobs.models import JobRun
from tutela.server.keys.models import ApiKey
from tutela.server.platform_settings.models import PlatformSetting
from tutela.server.reports.models import Report, Snapshot
from tutela.server.sso.models import SsoAttempt, TenantSso
from tutela.server.tenants.models import ScanUsage, Tenant, TenantSubscription, User

__all__ = [
    "ApiKey",
    "AuditEvent",
    "AuthEpoch",
    "EncryptionEvent",
    "GovernanceState",
    "IdempotencyRecord",
    "JobRun",
    "KeySource",
    "OneTimeLink",
    "PendingDowngrade",
    "PlatformKey",
    "PlatformSetting",
    "Report",
    "ReportCheckCount",
    "ReportFrameworkCount",
    "RiskException",
    "ScanUsage",
    "Snapshot",
    "SsoAttempt",
    "Tenant",
    "TenantHousePolicy",
    "TenantSso",
    "TenantSubscription",
    "User",
    "WebSession",
]
