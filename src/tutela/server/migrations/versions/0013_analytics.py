"""analytics counts: findings per framework and severity, failures per check, the plan of each report

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 16:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan", sa.String(length=32), nullable=True))
        batch_op.create_index(
            "ix_reports_analytics",
            [
                "created_at",
                "type",
                "plan",
                "tenant_id",
                "critical_count",
                "high_count",
                "medium_count",
                "low_count",
            ],
            unique=False,
        )
    op.create_table(
        "report_framework_counts",
        sa.Column("report_row_id", sa.String(length=36), nullable=False),
        sa.Column("framework", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_row_id"],
            ["reports.id"],
            name=op.f("fk_report_framework_counts_report_row_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_report_framework_counts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "report_row_id", "framework", "severity", name=op.f("pk_report_framework_counts")
        ),
    )
    op.create_index(
        "ix_report_framework_counts_created",
        "report_framework_counts",
        ["created_at", "framework", "severity", "findings"],
        unique=False,
    )
    op.create_index(
        "ix_report_framework_counts_grouped",
        "report_framework_counts",
        ["framework", "severity", "created_at", "findings"],
        unique=False,
    )
    op.create_index(
        op.f("ix_report_framework_counts_tenant_id"),
        "report_framework_counts",
        ["tenant_id"],
        unique=False,
    )
    op.create_table(
        "report_check_counts",
        sa.Column("report_row_id", sa.String(length=36), nullable=False),
        sa.Column("check_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("resources", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_row_id"],
            ["reports.id"],
            name=op.f("fk_report_check_counts_report_row_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_report_check_counts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_row_id", "check_id", name=op.f("pk_report_check_counts")),
    )
    op.create_index(
        "ix_report_check_counts_created",
        "report_check_counts",
        ["created_at", "check_id", "findings", "resources"],
        unique=False,
    )
    op.create_index(
        "ix_report_check_counts_grouped",
        "report_check_counts",
        ["check_id", "created_at", "findings", "resources"],
        unique=False,
    )
    op.create_index(
        op.f("ix_report_check_counts_tenant_id"),
        "report_check_counts",
        ["tenant_id"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_report_check_counts_tenant_id"), table_name="report_check_counts")
    op.drop_index("ix_report_check_counts_grouped", table_name="report_check_counts")
    op.drop_index("ix_report_check_counts_created", table_name="report_check_counts")
    op.drop_table("report_check_counts")
    op.drop_index(
        op.f("ix_report_framework_counts_tenant_id"), table_name="report_framework_counts"
    )
    op.drop_index("ix_report_framework_counts_grouped", table_name="report_framework_counts")
    op.drop_index("ix_report_framework_counts_created", table_name="report_framework_counts")
    op.drop_table("report_framework_counts")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_analytics")
        batch_op.drop_column("plan")
