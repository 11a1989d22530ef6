"""People signed in to the portal: password sign-in with lock-out, sessions in a cookie, CSRF.

The portal calls the same JSON endpoints as an API key does; what differs is how the caller is
known. The session cookie carries 32 random bytes; the table keeps only their SHA-256, so a
copy of the database opens no session. The cookie is HttpOnly, SameSite=Lax, and Secure (with
the ``__Host-`` prefix) whenever the platform is reached over HTTPS (``TUTELA_PUBLIC_URL``).

Every state-changing request authenticated by the cookie must carry the session's CSRF token in
``X-CSRF-Token``, a header a cross-site form cannot send; the token is an HMAC of the session's
own token, so it needs no storage and differs per session. A request whose ``Origin`` is another
site is refused as well.

A session is the person with their role's scopes (``ROLE_SCOPES``): the caller's ``key_id`` is
``session:<id>`` so the per-key rate limit and the ``Idempotency-Key`` records work unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from tutela.server.audit import service as audit
from tutela.server.auth import passwords
from tutela.server.auth.caller import Caller
from tutela.server.auth.models import WebSession
from tutela.server.auth.scopes import scopes_for_role
from tutela.server.crypto import derive_key
from tutela.server.db import transaction, utcnow
from tutela.server.errors import Forbidden, NotAuthenticated, RateLimited
from tutela.server.sso import service as sso
from tutela.server.tenants.models import Tenant, User, refusal

if TYPE_CHECKING:
    from starlette.responses import Response

    from tutela.server.runtime import Runtime

log = logging.getLogger("tutela.auth")

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TOUCH_EVERY = dt.timedelta(seconds=60)
ACCOUNTS_PER_EMAIL = 10  # accounts one sign-in checks the password of; more need a tenant_id
SIGN_IN_REFUSED = "Email or password is incorrect"
SSO_REQUIRED = "This tenant requires single sign-on"


def cookie_name(runtime: Runtime) -> str:
    """``__Host-`` binds the cookie to this host and path /, and needs Secure: HTTPS only."""
    return "__Host-tutela_session" if secure_cookies(runtime) else "tutela_session"


def secure_cookies(runtime: Runtime) -> bool:
    return runtime.settings.resolved_public_url.startswith("https://")


def set_cookie(runtime: Runtime, response: Response, started: Started) -> None:
    """The session cookie, as every way of signing in sets it."""
    response.set_cookie(
        cookie_name(runtime),
        started.token,
        max_age=int(runtime.settings.session_max_hours * 3600),
        path="/",
        secure=secure_cookies(runtime),
        httponly=True,
        samesite="lax",
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def csrf_token(runtime: Runtime, token: str) -> str:
    """The session's CSRF token: an HMAC of its cookie token under a subkey of the root key."""
    key = derive_key(runtime.keys.master, "tutela/csrf/v1")
    return hmac.new(key, token.encode("ascii", "replace"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Started:
    """A new session: the cookie's token (never stored) and what the page needs."""

    token: str
    csrf_token: str
    expires_at: dt.datetime
    user: User


def start(
    session: Session, runtime: Runtime, user: User, *, method: str, source: str | None
) -> Started:
    """Open a session for ``user`` and record the sign-in."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    expires_at = now + dt.timedelta(hours=runtime.settings.session_max_hours)
    session.add(
        WebSession(
            token_hash=token_hash(token),
            user_id=user.id,
            method=method,
            source=source,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
        )
    )
    audit.record(
        session,
        actor=user.email,
        action="signin.succeeded",
        tenant_id=user.tenant_id,
        target=f"user:{user.id}",
        details={"method": method, "source": source},
    )
    return Started(token, csrf_token(runtime, token), expires_at, user)


def sign_in(
    runtime: Runtime, *, email: str, password: str, tenant_id: str | None, source: str | None
) -> Started:
    """Email and password: 401 for any mismatch (the same answer whether or not the account
    exists), 429 while the address is over its limit or the account is locked, 403 when the
    tenant is suspended. A failure is counted and audited though the request fails."""
    if source is not None:
        decision = runtime.rate_limiter.hit_sign_in(source, runtime.settings.sign_in_limit)
        if not decision.allowed:
            raise RateLimited(decision.retry_after)
    with transaction(runtime.sessions) as session:
        outcome = _attempt(session, runtime, email, password, tenant_id, source)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _attempt(
    session: Session,
    runtime: Runtime,
    email: str,
    password: str,
    tenant_id: str | None,
    source: str | None,
) -> Started | Exception:
    now = utcnow()
    query = select(User).where(func.lower(User.email) == email.strip().lower())
    if tenant_id is not None:
        query = query.where(User.tenant_id == tenant_id)
    candidates = list(session.scalars(query.order_by(User.id).limit(ACCOUNTS_PER_EMAIL + 1)))
    if len(candidates) > ACCOUNTS_PER_EMAIL:
        # Each account costs a password verification: past a few, the tenant must be named.
        return Forbidden(
            f"This email has accounts in more than {ACCOUNTS_PER_EMAIL} tenants: give "
            "tenant_id to choose"
        )
    if not candidates:
        passwords.verify(None, password)  # as long as a real check
    matched = [user for user in candidates if _password_matches(user, password)]
    if len(matched) > 1:
        return Forbidden(
            "This email and password open accounts in several tenants: give tenant_id to choose"
        )
    if not matched:
        _failed(session, runtime, candidates, source, now)
        return NotAuthenticated(SIGN_IN_REFUSED)
    [user] = matched
    if user.locked_until is not None and user.locked_until > now:
        return _locked(user, now)
    tenant = session.get(Tenant, user.tenant_id) if user.tenant_id else None
    if tenant is not None and tenant.status != "active":
        return Forbidden(refusal(tenant.status))
    if sso.required_for(session, user.tenant_id):  # told only to whoever knows the password
        return Forbidden(SSO_REQUIRED)
    user.failed_sign_ins, user.locked_until = 0, None
    assert user.password_hash is not None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return start(session, runtime, user, method="password", source=source)


def _password_matches(user: User, password: str) -> bool:
    return user.password_hash is not None and passwords.verify(user.password_hash, password)


def _failed(
    session: Session,
    runtime: Runtime,
    candidates: list[User],
    source: str | None,
    now: dt.datetime,
) -> None:
    """Count the failure against each account of that email, lock those over the threshold,
    and audit it (the account when there is one; the attempt alone otherwise)."""
    settings = runtime.settings
    for user in candidates:
        user.failed_sign_ins += 1
        if user.failed_sign_ins >= settings.lockout_threshold:
            user.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
            user.failed_sign_ins = 0
        audit.record(
            session,
            actor=user.email,
            action="signin.failed",
            tenant_id=user.tenant_id,
            target=f"user:{user.id}",
            details={
                "reason": "wrong password",
                "source": source,
                "locked": user.locked_until is not None and user.locked_until > now,
            },
        )
    if not candidates:
        audit.record(
            session,
            actor="unknown",
            action="signin.failed",
            tenant_id=None,
            details={"reason": "no such account", "source": source},
        )


def _locked(user: User, now: dt.datetime) -> RateLimited:
    assert user.locked_until is not None
    return RateLimited(
        max(1, int((user.locked_until - now).total_seconds())),
        "Too many failed sign-ins: this account is locked for a while; reset your password "
        "to sign in sooner",
    )


def authenticate(runtime: Runtime, token: str) -> Caller:
    """The caller a session cookie stands for; 401 when it has ended, expired or idled out."""
    now = utcnow()
    idle = dt.timedelta(minutes=runtime.settings.session_idle_minutes)
    with transaction(runtime.sessions, readonly=True) as session:
        row = session.execute(
            select(WebSession, User, Tenant)
            .join(User, WebSession.user_id == User.id)
            .outerjoin(Tenant, User.tenant_id == Tenant.id)
            .where(WebSession.token_hash == token_hash(token))
        ).one_or_none()
    if row is None:
        raise NotAuthenticated("Not signed in (no such session)")
    web, user, tenant = row
    if web.ended_at is not None:
        raise NotAuthenticated("Signed out: sign in again")
    if web.expires_at <= now or web.last_seen_at + idle <= now:
        raise NotAuthenticated("Session expired: sign in again")
    if tenant is not None and tenant.status != "active":
        raise Forbidden(refusal(tenant.status))
    if now - web.last_seen_at >= _TOUCH_EVERY:
        with transaction(runtime.sessions) as session:
            session.execute(
                update(WebSession).where(WebSession.id == web.id).values(last_seen_at=now)
            )
    return Caller(
        key_id=f"session:{web.id}",
        key_prefix="session",
        key_expires_at=min(web.expires_at, now + idle),
        user_id=user.id,
        user_email=user.email,
        role=user.role,
        tenant_id=tenant.id if tenant else None,
        plan=tenant.plan if tenant else None,
        scopes=scopes_for_role(user.role),
        session_id=web.id,
    )


def check_csrf(runtime: Runtime, token: str, connection: HTTPConnection) -> None:
    """403 unless a state-changing request carries the session's CSRF token and, when the
    browser names the page's origin, that origin is this site: the address the request came to,
    or ``TUTELA_PUBLIC_URL``'s."""
    origin = connection.headers.get("origin")
    if origin is not None:
        own = {
            _origin(runtime.settings.resolved_public_url),
            f"{connection.url.scheme}://{connection.url.netloc}",
        }
        if origin.rstrip("/") not in own:
            raise Forbidden("Cross-site request refused")
    presented = connection.headers.get(CSRF_HEADER)
    if presented is None or not hmac.compare_digest(presented, csrf_token(runtime, token)):
        raise Forbidden(f"Missing or wrong {CSRF_HEADER} header (the portal's CSRF token)")


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def end(session: Session, runtime: Runtime, token: str, actor: str) -> None:
    """Sign out: the session ends server-side, whatever the browser does with its cookie."""
    web = session.scalars(
        select(WebSession).where(WebSession.token_hash == token_hash(token))
    ).one_or_none()
    if web is None or web.ended_at is not None:
        return
    web.ended_at = utcnow()
    user = session.get(User, web.user_id)
    audit.record(
        session,
        actor=actor,
        action="signout",
        tenant_id=user.tenant_id if user else None,
        target=f"user:{web.user_id}",
    )


def end_all(session: Session, user_id: str) -> int:
    """End every open session of a person (a password reset)."""
    result = session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
