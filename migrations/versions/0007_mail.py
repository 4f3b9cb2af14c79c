"""mail: each user's digest and alert choices, and when the next digest is due

Plain ``ADD COLUMN`` (no batch copy of ``users``): a batch copy on SQLite would drop the
``lower(username)`` and ``lower(email)`` unique indexes, which it cannot reflect.

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
    op.add_column("users", sa.Column("digest", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("users", sa.Column("alerts", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("users", sa.Column("digest_next_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_users_digest_next_at"), "users", ["digest_next_at"])


def downgrade():
    op.drop_index(op.f("ix_users_digest_next_at"), table_name="users")
    op.drop_column("users", "digest_next_at")
    op.drop_column("users", "alerts")
    op.drop_column("users", "digest")
