"""customer-managed keys: a tenant's Key Vault settings, its encryption history, the pending
switch back to the platform key, and the exact key of each stored document

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 05:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TENANT_COLUMNS = (
    ("encryption_mode", sa.String(length=8), {"nullable": False, "server_default": "pmk"}),
    ("cmk_vault_url", sa.String(length=300), {"nullable": True}),
    ("cmk_secret_name", sa.String(length=127), {"nullable": True}),
    ("cmk_key_name", sa.String(length=127), {"nullable": True}),
    ("cmk_key_version", sa.String(length=64), {"nullable": True}),
    ("cmk_verified_at", sa.DateTime(timezone=True), {"nullable": True}),
    ("cmk_blocked", sa.Boolean(), {"nullable": False, "server_default": sa.false()}),
    ("cmk_last_error", sa.String(length=500), {"nullable": True}),
)
_KEY_REF_TABLES = ("reports", "snapshots", "idempotency_records")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("tenants") as batch:
        for name, kind, options in _TENANT_COLUMNS:
            batch.add_column(sa.Column(name, kind, **options))
    for table in _KEY_REF_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("key_ref", sa.String(length=500), nullable=True))
    op.create_table(
        "encryption_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("previous_mode", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=320), nullable=False),
        sa.Column("vault_uri", sa.String(length=300), nullable=True),
        sa.Column("key_name", sa.String(length=127), nullable=True),
        sa.Column("key_version", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_encryption_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encryption_events")),
    )
    op.create_index(
        op.f("ix_encryption_events_tenant_id"), "encryption_events", ["tenant_id"], unique=False
    )
    op.create_table(
        "encryption_downgrades",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=320), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_encryption_downgrades_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_encryption_downgrades")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("encryption_downgrades")
    op.drop_index(op.f("ix_encryption_events_tenant_id"), table_name="encryption_events")
    op.drop_table("encryption_events")
    for table in reversed(_KEY_REF_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("key_ref")
    with op.batch_alter_table("tenants") as batch:
        for name, _, _ in reversed(_TENANT_COLUMNS):
            batch.drop_column(name)
