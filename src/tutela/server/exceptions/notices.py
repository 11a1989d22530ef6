"""The expiry notice: a week before an approved exception expires, its tenant's owners and
admins are mailed once, so they can extend it (and have it approved again) or let it lapse.

A daily job (``exceptions.expiry_notices``, every ``TUTELA_RETENTION_INTERVAL_HOURS``) sweeps every
tenant. Each notice is claimed first (one conditional UPDATE of ``expiry_notice_sent_at``), so two
processes never both send it; a notice whose email fails is released and tried at the next sweep.
Changing an exception's expiry date clears the mark: the new date gets its own notice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tutela.server.audit import service as audit
from tutela.server.auth.scopes import Role
from tutela.server.config import Settings
from tutela.server.db import transaction
from tutela.server.exceptions.models import RiskException
from tutela.server.exceptions.repository import claim_notice, expiring_unnoticed, release_notice
from tutela.server.notify import Email, EmailNotSent, notifier_from
from tutela.server.runtime import Runtime
from tutela.server.tenants.models import Tenant
from tutela.server.tenants.repository import UserRepository

log = logging.getLogger("tutela.exceptions")

NOTICE_DAYS = 7
ACTOR = "expiry notice"


@dataclass(frozen=True)
class NoticeReport:
    sent: int
    failed: int

    @property
    def detail(self) -> str:
        return f"{self.sent} exception expiry notice(s) sent, {self.failed} failed"


@dataclass(frozen=True)
class _Notice:
    exception_id: str
    tenant_id: str
    email: Email


def send_expiry_notices(runtime: Runtime, now: dt.datetime) -> NoticeReport:
    """Mail every approved exception expiring within ``NOTICE_DAYS`` days, not mailed before."""
    today = now.astimezone(dt.UTC).date()
    with transaction(runtime.sessions, readonly=True) as session:
        due = expiring_unnoticed(session, today, today + dt.timedelta(days=NOTICE_DAYS))
        notices = [n for n in (_notice(session, row, today) for row in due) if n is not None]
    sent = failed = 0
    for notice in notices:
        if _send_once(runtime, notice, now):
            sent += 1
        else:
            failed += 1
    return NoticeReport(sent, failed)


def _notice(session: Session, row: RiskException, today: dt.date) -> _Notice | None:
    tenant = session.get(Tenant, row.tenant_id)
    recipients = tuple(
        user.email
        for user in UserRepository(session).list(row.tenant_id)
        if user.role in (Role.OWNER, Role.ADMIN)
    )
    if tenant is None or not recipients:
        return None
    return _Notice(row.id, row.tenant_id, expiry_email(recipients, tenant.name, row, today))


def _send_once(runtime: Runtime, notice: _Notice, now: dt.datetime) -> bool:
    with transaction(runtime.sessions) as session:
        if not claim_notice(session, notice.exception_id, now):
            return True  # another process sent it, or it changed meanwhile: nothing to send
    if _deliver(runtime.settings, notice):
        with transaction(runtime.sessions) as session:
            audit.record(
                session,
                actor=ACTOR,
                action="exception.expiry_notice_sent",
                tenant_id=notice.tenant_id,
                target=f"exception:{notice.exception_id}",
                details={"to": list(notice.email.recipients)},
            )
        return True
    with transaction(runtime.sessions) as session:
        release_notice(session, notice.exception_id, now)
    return False


def _deliver(settings: Settings, notice: _Notice) -> bool:
    try:
        notifier_from(settings).send(notice.email)
    except EmailNotSent as exc:
        log.error(
            "exception_notice_not_sent tenant=%s exception=%s detail=%s",
            notice.tenant_id,
            notice.exception_id,
            exc,
        )
        return False
    return True


def _one_line(text: str) -> str:
    return " ".join(text.split())


def expiry_email(
    to: tuple[str, ...], tenant_name: str, row: RiskException, today: dt.date
) -> Email:
    days = (row.expires - today).days
    lines = [
        f"A risk exception of {tenant_name} expires in {days} day(s), on "
        f"{row.expires.isoformat()}.",
        "",
        f"Exception: {row.id}",
        f"Check: {row.check_id}",
        f"Resource: {row.resource}",
        f"Reason: {row.reason}",
        f"Ticket: {row.ticket or '(none)'}",
        f"Requested by: {row.requested_by}",
        f"Approved by: {row.approved_by or '(none)'}",
        "",
        f"From {row.expires.isoformat()} on, scans report these failures again and count them "
        "in scores and gates.",
        f"To extend it, change its expiry date (PATCH /exceptions/{row.id}, or "
        "session.exceptions.update in the SDK); the change must then be approved again by "
        "someone other than the person who made it.",
    ]
    subject = (
        f"Tutela: risk exception for {row.check_id} expires on {row.expires.isoformat()} "
        f"({_one_line(tenant_name)})"
    )
    return Email(to=to, subject=subject, text="\n".join(lines))
