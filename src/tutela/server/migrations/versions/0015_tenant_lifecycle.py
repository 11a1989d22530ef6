"""tenant lifecycle: deletion requested, and when it becomes final

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 16:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(
            sa.Column("deletion_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("deletion_requested_by", sa.String(length=400), nullable=True))
        batch.add_column(sa.Column("delete_after", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("status_before_deletion", sa.String(length=16), nullable=True))
        batch.create_index(batch.f("ix_tenants_delete_after"), ["delete_after"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("tenants") as batch:
        batch.drop_index(batch.f("ix_tenants_delete_after"))
        batch.drop_column("status_before_deletion")
        batch.drop_column("delete_after")
        batch.drop_column("deletion_requested_by")
        batch.drop_column("deletion_requested_at")
