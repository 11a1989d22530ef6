"""A tenant's house policy: the settings its scans apply in place of the defaults.

No row means the defaults (``tutela.scanner.catalog.house_policy.DEFAULT_POLICY``). The
settings are stored as the policy's JSON and validated again whenever they are read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from tutela.server.db import Base, utcnow


class TenantHousePolicy(Base):
    __tablename__ = "tenant_house_policies"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
