"""The last run of each background job, for `tutela jobs status`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tutela.server.db import Base


class JobRun(Base):
    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    last_started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_status: Mapped[str | None] = mapped_column(String(16), default=None)  # ok | failed
    last_detail: Mapped[str | None] = mapped_column(Text, default=None)
    last_worker: Mapped[str | None] = mapped_column(String(200), default=None)
