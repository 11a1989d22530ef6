"""Operator use cases: tenants (create, plan, suspend), their users, the operators themselves."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import orjson
from sqlalchemy.orm import Session

from tutela.scanner import samples
from tutela.scanner.catalog import Catalog
from tutela.server.admin.repository import AdminRepository
from tutela.server.audit import service as audit
from tutela.server.audit.models import AuditEvent
from tutela.server.auth import epoch as auth_epoch
from tutela.server.auth.scopes import ROLE_SCOPES, Role
from tutela.server.auth.service import AuthCache
from tutela.server.db import after_commit
from tutela.server.encryption.platform_keys import PlatformKeyRing
from tutela.server.errors import Conflict, InvalidInput, NotFound
from tutela.server.keys import service as keys
from tutela.server.reports.envelope import KeyWrapper
from tutela.server.snapshots import service as snapshots
from tutela.server.tenants.models import Tenant, User
from tutela.server.tenants.repository import TenantRepository, UserRepository

DEMO_OWNER_EMAIL = "owner@demo.tutela.local"
DEMO_TENANT_NAME = "Demo (sample estate)"


@dataclass(frozen=True)
class NewTenant:
    tenant: Tenant
    owner: User
    owner_key: keys.IssuedKey


@dataclass(frozen=True)
class NewUser:
    user: User
    key: keys.IssuedKey


def _tenant(session: Session, tenant_id: str) -> Tenant:
    tenant = TenantRepository(session).get(tenant_id)
    if tenant is None:
        raise NotFound("Tenant not found")
    return tenant


def _known_plan(catalog: Catalog, plan: str) -> str:
    if plan not in catalog.plan_ids:
        raise InvalidInput(
            ("body", "plan"), f"Not a plan id; valid plans: {', '.join(catalog.plan_ids)}"
        )
    return plan


def _first_key(session: Session, policy: keys.KeyPolicy, user: User, actor: str) -> keys.IssuedKey:
    scopes = ROLE_SCOPES[Role(user.role)]
    return keys.issue_key(
        session,
        policy,
        owner=user,
        name=f"{user.role} key",
        scopes=scopes,
        granter_scopes=scopes,
        actor=actor,
    )


def create_tenant(
    session: Session,
    policy: keys.KeyPolicy,
    catalog: Catalog,
    *,
    actor: str,
    owner_email: str,
    plan: str,
    name: str | None = None,
    is_demo: bool = False,
) -> NewTenant:
    tenant = TenantRepository(session).add(
        Tenant(
            name=name or owner_email.split("@", 1)[-1],
            plan=_known_plan(catalog, plan),
            owner_email=owner_email,
            is_demo=is_demo,
        )
    )
    owner = UserRepository(session).add(User(tenant_id=tenant.id, email=owner_email, role="owner"))
    audit.record(
        session,
        actor=actor,
        action="tenant.created",
        tenant_id=tenant.id,
        target=f"tenant:{tenant.id}",
        details={"plan": plan, "owner_email": owner_email},
    )
    return NewTenant(tenant, owner, _first_key(session, policy, owner, actor))


def ensure_demo_tenant(
    session: Session,
    policy: keys.KeyPolicy,
    catalog: Catalog,
    *,
    platform_keys: PlatformKeyRing | None = None,
) -> tuple[Tenant, keys.IssuedKey | None]:
    """The demo tenant (enterprise); its owner's key is returned only when it is first created.

    With ``platform_keys``, a new demo tenant gets the sample estate's subscriptions linked and
    each one's records stored as its snapshot, so that ``POST /scan`` answers at once.
    """
    existing = TenantRepository(session).get_demo()
    if existing is not None:
        return existing, None
    actor = "tutela (first start)"
    created = create_tenant(
        session,
        policy,
        catalog,
        actor=actor,
        owner_email=DEMO_OWNER_EMAIL,
        plan="enterprise",
        name=DEMO_TENANT_NAME,
        is_demo=True,
    )
    if platform_keys is not None:
        _store_sample_estate(session, platform_keys.sealing(session), created.tenant, actor)
    return created.tenant, created.owner_key


def _store_sample_estate(session: Session, wrapper: KeyWrapper, tenant: Tenant, actor: str) -> None:
    """Link the sample's subscriptions and store each one's records as its snapshot."""
    export = orjson.loads(files(samples.__name__).joinpath(samples.SAMPLE_FILE).read_bytes())
    parts = snapshots.split_export(export)
    TenantRepository(session).replace_subscriptions(tenant, list(parts))
    audit.record(
        session,
        actor=actor,
        action="subscriptions.changed",
        tenant_id=tenant.id,
        target=f"tenant:{tenant.id}",
        details={"before": [], "after": list(parts)},
    )
    for subscription_id, records in parts.items():
        snapshots.save_export(
            session,
            wrapper,
            tenant_id=tenant.id,
            subscription_id=subscription_id,
            body=orjson.dumps({"count": len(records), "data": records}),
            actor=actor,
        )


def list_tenants(
    session: Session, *, status: str | None, cursor: str | None, limit: int
) -> tuple[list[Tenant], str | None]:
    return AdminRepository(session).page_tenants(status=status, cursor=cursor, limit=limit)


def list_audit_events(
    session: Session, *, tenant_id: str | None, action: str | None, cursor: str | None, limit: int
) -> tuple[list[AuditEvent], str | None]:
    return AdminRepository(session).page_audit(
        tenant_id=tenant_id, action=action, cursor=cursor, limit=limit
    )


def get_tenant(session: Session, tenant_id: str) -> Tenant:
    return _tenant(session, tenant_id)


def change_plan(
    session: Session, cache: AuthCache, catalog: Catalog, *, actor: str, tenant_id: str, plan: str
) -> Tenant:
    tenant = _tenant(session, tenant_id)
    old = tenant.plan
    tenant.plan = _known_plan(catalog, plan)
    if old != plan:
        audit.record(
            session,
            actor=actor,
            action="tenant.plan_changed",
            tenant_id=tenant.id,
            target=f"tenant:{tenant.id}",
            details={"from": old, "to": plan},
        )
        auth_epoch.bump(session)  # every API process drops its cached keys at once
        after_commit(session, lambda: cache.invalidate_tenant(tenant_id))
    return tenant


def set_status(
    session: Session, cache: AuthCache, *, actor: str, tenant_id: str, status: str
) -> Tenant:
    """Suspend (every key of the tenant gets 403) or reactivate a tenant."""
    tenant = _tenant(session, tenant_id)
    if tenant.status in ("deleting", "purging"):  # tenants_lifecycle.deletion
        raise Conflict("The tenant's deletion is pending; cancel it first")
    if tenant.status != status:
        tenant.status = status
        audit.record(
            session,
            actor=actor,
            action="tenant.suspended" if status == "suspended" else "tenant.reactivated",
            tenant_id=tenant.id,
            target=f"tenant:{tenant.id}",
        )
        auth_epoch.bump(session)  # every API process drops its cached keys at once
        after_commit(session, lambda: cache.invalidate_tenant(tenant_id))
    return tenant


def list_users(session: Session, tenant_id: str) -> list[User]:
    return UserRepository(session).list(_tenant(session, tenant_id).id)


def add_user(
    session: Session, policy: keys.KeyPolicy, *, actor: str, tenant_id: str, email: str, role: str
) -> NewUser:
    tenant = _tenant(session, tenant_id)
    users = UserRepository(session)
    if users.find_by_email(tenant.id, email) is not None:
        raise Conflict("A user with this email already exists in this tenant")
    user = users.add(User(tenant_id=tenant.id, email=email, role=Role(role).value))
    audit.record(
        session,
        actor=actor,
        action="user.created",
        tenant_id=tenant.id,
        target=f"user:{user.id}",
        details={"email": email, "role": role},
    )
    return NewUser(user, _first_key(session, policy, user, actor))


def change_role(
    session: Session, cache: AuthCache, *, actor: str, tenant_id: str, user_id: str, role: str
) -> User:
    """Every key of the user narrows (or widens) to the new role on its next request."""
    user = UserRepository(session).get(_tenant(session, tenant_id).id, user_id)
    if user is None:
        raise NotFound("User not found")
    old = user.role
    user.role = Role(role).value
    if old != user.role:
        audit.record(
            session,
            actor=actor,
            action="user.role_changed",
            tenant_id=tenant_id,
            target=f"user:{user.id}",
            details={"email": user.email, "from": old, "to": user.role},
        )
        auth_epoch.bump(session)  # every API process drops its cached keys at once
        after_commit(session, lambda: cache.invalidate_user(user_id))
    return user


def ensure_operator(session: Session, *, actor: str, email: str) -> User:
    users = UserRepository(session)
    operator = users.find_operator(email)
    if operator is None:
        operator = users.add(User(tenant_id=None, email=email, role=Role.OPERATOR.value))
        audit.record(
            session,
            actor=actor,
            action="operator.created",
            tenant_id=None,
            target=f"user:{operator.id}",
            details={"email": email},
        )
    return operator
