"""cross checks: each user's stored cross-network check

Revision ID: 0003_cross_checks
Revises: 0002_engine
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_cross_checks"
down_revision = "0002_engine"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cross_checks",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_cross_checks_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_cross_checks")),
    )


def downgrade():
    op.drop_table("cross_checks")
