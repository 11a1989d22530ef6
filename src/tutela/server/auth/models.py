"""The auth epoch: one row whose counter moves whenever what any key may do changes."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from tutela.server.db import Base

EPOCH_ROW = 1  # the table holds this one row


class AuthEpoch(Base):
    __tablename__ = "auth_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
