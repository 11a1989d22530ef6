"""auth epoch

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 22:50:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    epoch = op.create_table(
        "auth_epoch",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_epoch")),
    )
    # The one row every request reads and every revocation, suspension or role change bumps.
    op.bulk_insert(epoch, [{"id": 1, "value": 0}])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("auth_epoch")
