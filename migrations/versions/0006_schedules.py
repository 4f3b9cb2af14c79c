"""scheduled syncs: each connection's schedule, next sync and failures in a row; the
scheduler's lock

Revision ID: 0006_schedules
Revises: 0005_parts
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_schedules"
down_revision = "0005_parts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("schedule", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("sync_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch.create_index(batch.f("ix_connections_next_sync_at"), ["next_sync_at"])
    op.create_table(
        "scheduler_locks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_locks")),
    )


def downgrade():
    op.drop_table("scheduler_locks")
    with op.batch_alter_table("connections") as batch:
        batch.drop_index(batch.f("ix_connections_next_sync_at"))
        batch.drop_column("sync_failures")
        batch.drop_column("next_sync_at")
        batch.drop_column("schedule")
