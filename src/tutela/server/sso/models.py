"""A tenant's OpenID provider, and the sign-ins sent to a provider and not yet back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tutela.server.db import Base, IdMixin, utcnow


class TenantSso(Base):
    """The tenant's OpenID provider; the client secret is sealed like the Azure credentials."""

    __tablename__ = "tenant_sso"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    issuer: Mapped[str] = mapped_column(String(2048))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret: Mapped[bytes] = mapped_column(LargeBinary)
    required: Mapped[bool] = mapped_column(default=False)  # password sign-in refused when set
    email_claim: Mapped[str] = mapped_column(String(32), default="email")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(320))


class SsoAttempt(IdMixin, Base):
    """A sign-in sent to the provider: what its answer must match, used once, for 10 minutes.

    The ``state`` travels through the browser, so the table keeps its SHA-256 only: a copy of the
    database completes no sign-in. The nonce and the PKCE verifier never leave the server before
    the provider's answer comes back.
    """

    __tablename__ = "sso_attempts"

    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_path: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
