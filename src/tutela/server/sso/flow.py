"""Signing in through the tenant's OpenID provider: out to it (``start``) and back (``finish``).

The state, nonce and PKCE verifier of each sign-in are kept on the server (``sso_attempts``)
for ten minutes and redeemed once. The provider vouches for an email address; the person must
already be a user of the tenant with that address: single sign-on creates no account.

Every refusal is audited as ``signin.failed`` with ``method: "sso"`` and the reason, and sends
the browser back to the login page with one of the codes of ``SIGN_IN_ERRORS``: the page shows
the code's sentence, so a crafted link cannot make the page say anything else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tutela.server.audit import service as audit
from tutela.server.auth import sessions
from tutela.server.db import transaction, utcnow
from tutela.server.sso import oidc
from tutela.server.sso import service as sso
from tutela.server.sso.models import SsoAttempt, TenantSso
from tutela.server.tenants.models import Tenant, User

if TYPE_CHECKING:
    from tutela.server.runtime import Runtime

ATTEMPT_LIFETIME = dt.timedelta(minutes=10)
PURGE_AFTER = dt.timedelta(days=1)  # expired attempts kept this long, for the audit's sake

SIGN_IN_ERRORS = {
    "unavailable": "Single sign-on is not set up for this email: sign in with your password.",
    "several": "This email signs in to several tenants with single sign-on: add tenant_id to "
    "the sign-in link to choose one.",
    "rate-limited": "Too many sign-in attempts: wait a minute and try again.",
    "expired": "This sign-in expired or was already used: start again.",
    "refused": "Your identity provider did not sign you in.",
    "failed": "Single sign-on failed: try again, or ask your administrator to check the "
    "tenant's single sign-on settings.",
    "no-account": "Your identity provider signed you in, but this tenant has no account with "
    "your email: ask your administrator for an invitation.",
    "suspended": "This tenant is suspended.",
}


class SignInRefused(Exception):
    """A sign-in that ends on the login page: ``code`` for the page, ``reason`` for the audit."""

    def __init__(self, code: str, reason: str) -> None:
        assert code in SIGN_IN_ERRORS
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass(frozen=True)
class Finished:
    started: sessions.Started
    next_path: str


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", "replace")).hexdigest()


def start(
    runtime: Runtime, *, email: str, tenant_id: str | None, next_path: str, source: str | None
) -> str:
    """The provider's authorization URL for the person with this email, once the sign-in is
    recorded; ``SignInRefused`` when their tenant has no provider (the same answer when no
    such person exists)."""
    if source is not None:
        decision = runtime.rate_limiter.hit_sign_in(source, runtime.settings.sign_in_limit)
        if not decision.allowed:
            raise SignInRefused("rate-limited", "too many sign-in attempts from this address")
    with transaction(runtime.sessions, readonly=True) as session:
        providers = _providers_for(session, email, tenant_id)
    if len(providers) != 1:
        code = "several" if providers else "unavailable"
        raise _refused(runtime, None, code, f"{code}: no single provider for this email", source)
    [row] = providers
    try:
        provider = oidc.discover(row.issuer, internal=runtime.settings.sso_allow_internal_providers)
    except oidc.ProviderError as exc:
        raise _refused(runtime, row.tenant_id, "failed", f"the issuer {exc}", source) from None
    client = sso.client_of(row, runtime.keys.credentials_key, runtime.settings)
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    now = utcnow()
    with transaction(runtime.sessions) as session:
        session.execute(delete(SsoAttempt).where(SsoAttempt.expires_at < now - PURGE_AFTER))
        session.add(
            SsoAttempt(
                state_hash=state_hash(state),
                tenant_id=row.tenant_id,
                nonce=nonce,
                code_verifier=verifier,
                next_path=next_path,
                created_at=now,
                expires_at=now + ATTEMPT_LIFETIME,
            )
        )
    return oidc.authorization_url(
        provider,
        client,
        state=state,
        nonce=nonce,
        code_verifier=verifier,
        login_hint=email.strip(),
    )


def _providers_for(session: Session, email: str, tenant_id: str | None) -> list[TenantSso]:
    query = (
        select(TenantSso)
        .join(User, User.tenant_id == TenantSso.tenant_id)
        .where(func.lower(User.email) == email.strip().lower())
    )
    if tenant_id is not None:
        query = query.where(TenantSso.tenant_id == tenant_id)
    rows = list(session.scalars(query.limit(10)))
    for row in rows:
        session.expunge(row)
    return rows


def finish(
    runtime: Runtime, *, state: str, code: str, error: str | None, source: str | None
) -> Finished:
    """Redeem the sign-in the provider sends back, and open the person's session."""
    attempt, row = _redeem(runtime, state, source)
    if error is not None:
        shown = error if oidc.ERROR_CODE.fullmatch(error) else "not an OAuth error code"
        raise _refused(runtime, attempt.tenant_id, "refused", f"provider error: {shown}", source)
    try:
        provider = oidc.discover(row.issuer, internal=runtime.settings.sso_allow_internal_providers)
        claims = oidc.redeem(
            provider,
            sso.client_of(row, runtime.keys.credentials_key, runtime.settings),
            code=code,
            code_verifier=attempt.code_verifier,
            nonce=attempt.nonce,
        )
    except oidc.ProviderError as exc:
        raise _refused(runtime, row.tenant_id, "failed", str(exc), source) from None
    email = claims.get(row.email_claim)
    if not isinstance(email, str) or "@" not in email:
        reason = f"the ID token has no email in its {row.email_claim} claim"
        raise _refused(runtime, row.tenant_id, "failed", reason, source)
    if row.email_claim == "email" and claims.get("email_verified") is False:
        reason = "the provider says the email is not verified"
        raise _refused(runtime, row.tenant_id, "failed", reason, source)
    with transaction(runtime.sessions) as session:
        outcome = _signed_in(session, runtime, row.tenant_id, email, source)
    if isinstance(outcome, SignInRefused):
        raise outcome
    return Finished(outcome, attempt.next_path)


def _redeem(runtime: Runtime, state: str, source: str | None) -> tuple[SsoAttempt, TenantSso]:
    """The attempt ``state`` stands for, marked used in its own transaction: whatever happens
    next, the same answer from the provider cannot be replayed."""
    now = utcnow()
    with transaction(runtime.sessions) as session:
        attempt = session.scalars(
            select(SsoAttempt).where(SsoAttempt.state_hash == state_hash(state))
        ).one_or_none()
        refusal = None
        if attempt is None:
            refusal = SignInRefused("expired", "unknown state")
        else:
            claimed = session.execute(
                update(SsoAttempt)
                .where(SsoAttempt.id == attempt.id, SsoAttempt.used_at.is_(None))
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            if not getattr(claimed, "rowcount", 0):
                refusal = SignInRefused("expired", "state already used")
            elif attempt.expires_at <= now:
                refusal = SignInRefused("expired", "sign-in expired")
        row = sso.provider_of(session, attempt.tenant_id) if attempt is not None else None
        if refusal is None and row is None:
            refusal = SignInRefused("unavailable", "single sign-on removed meanwhile")
        if refusal is not None:
            tenant_id = attempt.tenant_id if attempt is not None else None
            _audit_failure(session, tenant_id, refusal.reason, source)
        else:
            session.expunge_all()
    if refusal is not None:
        raise refusal
    assert attempt is not None
    assert row is not None
    return attempt, row


def _signed_in(
    session: Session, runtime: Runtime, tenant_id: str, email: str, source: str | None
) -> sessions.Started | SignInRefused:
    user = session.scalars(
        select(User).where(User.tenant_id == tenant_id, func.lower(User.email) == email.lower())
    ).one_or_none()
    tenant = session.get(Tenant, tenant_id)
    refusal = None
    if user is None:
        refusal = SignInRefused("no-account", "the provider's email is not a user of the tenant")
    elif tenant is None or tenant.status != "active":
        refusal = SignInRefused("suspended", "tenant suspended")
    if refusal is not None:
        _audit_failure(session, tenant_id, refusal.reason, source, email=email)
        return refusal
    assert user is not None
    return sessions.start(session, runtime, user, method="sso", source=source)


def _refused(
    runtime: Runtime, tenant_id: str | None, code: str, reason: str, source: str | None
) -> SignInRefused:
    with transaction(runtime.sessions) as session:
        _audit_failure(session, tenant_id, reason, source)
    return SignInRefused(code, reason)


def _audit_failure(
    session: Session,
    tenant_id: str | None,
    reason: str,
    source: str | None,
    *,
    email: str | None = None,
) -> None:
    audit.record(
        session,
        actor=email[:320] if email else "unknown",
        action="signin.failed",
        tenant_id=tenant_id,
        details={"method": "sso", "reason": reason, "source": source},
    )
