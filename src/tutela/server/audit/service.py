"""Recording audit events inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tutela.server.audit.models import AuditEvent


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    tenant_id: str | None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current unit of work; it commits or rolls back with it."""
    event = AuditEvent(
        tenant_id=tenant_id, actor=actor, action=action, target=target, details=details or {}
    )
    session.add(event)
    return event
