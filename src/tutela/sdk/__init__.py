"""The Python client of the Tutela API (httpx only; nothing from ``tutela.server``).

::

    from tutela import Session

    with Session("http://127.0.0.1:8000", "tut_…") as session:
        report = session.scans.run(["iso42001"], label="nightly")
        status, data = session.connection.fetch("report", f"/{report.report_id}")
"""

from tutela.sdk._connection import SERVICES, UPDATE_METHODS, AsyncConnection, Connection
from tutela.sdk._session import AsyncSession, Session
from tutela.sdk.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TutelaError,
    ValidationError,
)
from tutela.sdk.models import (
    ApiKey,
    ApiKeyCreated,
    ApiKeyRevoked,
    CredentialsStored,
    Evidence,
    Finding,
    Framework,
    FrameworkScore,
    GovernanceHistoryEntry,
    GovernanceState,
    Health,
    MemberApiKey,
    Plan,
    PlanFeatures,
    Report,
    ReportDeleted,
    ReportDiff,
    ReportSummary,
    ScopeInfo,
    Snapshot,
    Status,
    TenantMe,
    UnknownResult,
    WhoAmI,
)

__all__ = [
    "SERVICES",
    "UPDATE_METHODS",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APITimeoutError",
    "ApiKey",
    "ApiKeyCreated",
    "ApiKeyRevoked",
    "AsyncConnection",
    "AsyncSession",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "Connection",
    "CredentialsStored",
    "Evidence",
    "Finding",
    "Framework",
    "FrameworkScore",
    "GovernanceHistoryEntry",
    "GovernanceState",
    "Health",
    "MemberApiKey",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Plan",
    "PlanFeatures",
    "QuotaExceededError",
    "RateLimitError",
    "Report",
    "ReportDeleted",
    "ReportDiff",
    "ReportSummary",
    "ScopeInfo",
    "ServerError",
    "Session",
    "Snapshot",
    "Status",
    "TenantMe",
    "TutelaError",
    "UnknownResult",
    "ValidationError",
    "WhoAmI",
]
