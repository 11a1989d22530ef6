"""SQL of the platform settings table (platform-wide: no tenant scope): read, store, forget."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tutela.server.db import utcnow
from tutela.server.platform_settings.models import PlatformSetting


class PlatformSettingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> Sequence[PlatformSetting]:
        return self.session.scalars(select(PlatformSetting).order_by(PlatformSetting.name)).all()

    def store(self, name: str, value: Any, *, actor: str) -> None:
        """Insert or replace one setting (an upsert: two operators storing it at once both
        succeed, the later one wins)."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        row = {"name": name, "value": value, "updated_at": utcnow(), "updated_by": actor}
        statement = insert(PlatformSetting).values(**row)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[PlatformSetting.name],
                set_={
                    key: statement.excluded[key] for key in ("value", "updated_at", "updated_by")
                },
            )
        )

    def forget(self, name: str) -> None:
        self.session.execute(delete(PlatformSetting).where(PlatformSetting.name == name))
