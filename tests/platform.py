"""A running platform for tests: the real app in-process, plus helpers to seed it.

Seeding goes through the same services the admin API uses, so a test reads like a scenario:
``a = platform.tenant("starter"); platform.client.get("/tenant/me", headers=a.headers)``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tutela.server.admin import service as admin
from tutela.server.app import create_app
from tutela.server.auth.scopes import ROLE_SCOPES, Role, Scope
from tutela.server.config import Settings
from tutela.server.db import transaction
from tutela.server.keys.service import issue_key
from tutela.server.reports.envelope import KeyWrapper
from tutela.server.runtime import Runtime
from tutela.server.tenants.repository import UserRepository


@dataclass
class TenantCtx:
    id: str
    owner_id: str
    owner_key: str
    plan: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.owner_key}


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


class Platform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime = Runtime.start(settings)
        self.app = create_app(settings, self.runtime)
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self._count = 0

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *_: Any) -> None:
        self.client.close()
        self.runtime.close()

    @contextmanager
    def db(self) -> Iterator[Session]:
        with transaction(self.runtime.sessions) as session:
            yield session

    def document_key(self) -> KeyWrapper:
        """The platform key's version that new ``pmk`` documents are sealed with now."""
        with transaction(self.runtime.sessions, readonly=True) as session:
            return self.runtime.platform_keys.sealing(session)

    def tenant(self, plan: str = "enterprise") -> TenantCtx:
        self._count += 1
        with self.db() as session:
            created = admin.create_tenant(
                session,
                self.runtime.key_policy(),
                self.runtime.catalog,
                actor="tests",
                # Unique beyond this platform: tests on a shared PostgreSQL database sign in
                # by email, and one email's accounts in many tenants need a tenant_id.
                owner_email=f"owner{self._count}-{uuid.uuid4().hex[:8]}@{plan}.example.com",
                plan=plan,
            )
            return TenantCtx(created.tenant.id, created.owner.id, created.owner_key.secret, plan)

    def user(self, tenant: TenantCtx, role: str = "member") -> tuple[str, str]:
        """A new user of ``role`` in the tenant: (user id, its first key with the role's scopes)."""
        self._count += 1
        with self.db() as session:
            created = admin.add_user(
                session,
                self.runtime.key_policy(),
                actor="tests",
                tenant_id=tenant.id,
                email=f"user{self._count}-{uuid.uuid4().hex[:8]}@example.com",
                role=role,
            )
            return created.user.id, created.key.secret

    def set_password(self, user_id: str, password: str) -> str:
        """Give a user a password (as accepting an invitation does); their email."""
        from tutela.server.auth.passwords import hash_password
        from tutela.server.tenants.models import User

        with self.db() as session:
            user = session.get(User, user_id)
            assert user is not None
            user.password_hash = hash_password(password)
            return user.email

    def sign_in(self, email: str, password: str) -> dict[str, str]:
        """Sign ``self.client`` in to the portal; the headers a state-changing request needs."""
        response = self.client.post("/auth/sign-in", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return {"X-CSRF-Token": response.json()["csrf_token"]}

    def key(
        self,
        tenant: TenantCtx | None,
        scopes: Iterable[Scope | str],
        *,
        expires_in_days: int | None = None,
    ) -> str:
        """A key of the tenant's owner (an operator's when tenant is None) with these scopes."""
        with self.db() as session:
            users = UserRepository(session)
            if tenant is None:
                owner = admin.ensure_operator(session, actor="tests", email="ops@example.com")
            else:
                owner = users.get(tenant.id, tenant.owner_id)
                assert owner is not None
            role_scopes = ROLE_SCOPES[Role(owner.role)]
            return issue_key(
                session,
                self.runtime.key_policy(),
                owner=owner,
                name="test key",
                scopes=[Scope(s) for s in scopes],
                granter_scopes=role_scopes,
                actor="tests",
                expires_in_days=expires_in_days,
            ).secret

    def operator_key(self) -> str:
        return self.key(None, ROLE_SCOPES[Role.OPERATOR])

    def key_id(self, key: str) -> str:
        from tutela.server.auth.tokens import hash_key
        from tutela.server.keys.models import ApiKey

        with self.db() as session:
            row = (
                session.query(ApiKey)
                .filter(ApiKey.key_hash == hash_key(self.runtime.keys.api_key_pepper, key))
                .one()
            )
            return row.id

    def expire(self, key: str) -> None:
        """Move a key's expiry into the past, as if time had passed."""
        from tutela.server.keys.models import ApiKey

        key_id = self.key_id(key)
        with self.db() as session:
            row = session.get(ApiKey, key_id)
            assert row is not None
            row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        self.runtime.auth_cache.invalidate_key(key_id)
