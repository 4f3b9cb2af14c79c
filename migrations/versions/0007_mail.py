"""mail: each user's digest and alert choices, and when the next digest is due

Revision ID: 0007_mail
Revises: 0006_schedules
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_mail"
down_revision = "0006_schedules"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("digest", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("alerts", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("digest_next_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_users_digest_next_at"), ["digest_next_at"])


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_index(batch.f("ix_users_digest_next_at"))
        batch.drop_column("digest_next_at")
        batch.drop_column("alerts")
        batch.drop_column("digest")
