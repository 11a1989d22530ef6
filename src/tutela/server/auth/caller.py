"""Who is calling: the verified key, its owner and tenant, and the scopes it may use now."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tutela.server.auth.scopes import Scope


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: str
    key_prefix: str
    key_expires_at: dt.datetime
    user_id: str
    user_email: str
    role: str
    tenant_id: str | None  # None for platform operators
    plan: str | None
    scopes: frozenset[Scope]  # the key's scopes ∩ the owner's current role scopes
    session_id: str | None = None  # a person signed in to the portal (no key): their session

    @property
    def actor(self) -> str:
        """How the audit log names this caller: the person and the key, never the secret."""
        if self.session_id is not None:
            return f"{self.user_email} (portal)"
        return f"{self.user_email} (key {self.key_prefix}…)"

    def require_tenant(self) -> str:
        if self.tenant_id is None:
            raise LookupError("caller has no tenant")
        return self.tenant_id
