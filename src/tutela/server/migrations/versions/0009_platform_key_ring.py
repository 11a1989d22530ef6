"""platform key ring: the versions of the platform key that wrap documents' data keys, with the
original (derived from the root key file) as the current one

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 07:00:00.000000

"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    keys = op.create_table(
        "platform_keys",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_keys")),
    )
    op.create_index(op.f("ix_platform_keys_state"), "platform_keys", ["state"], unique=False)
    # Every document stored so far was sealed under the key derived from the root key file.
    op.bulk_insert(keys, [{"id": "original", "state": "current", "created_at": datetime.now(UTC)}])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_platform_keys_state"), table_name="platform_keys")
    op.drop_table("platform_keys")
