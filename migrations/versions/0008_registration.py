"""registration: users.is_admin (the oldest account becomes the admin) and invites

Revision ID: 0008_registration
Revises: 0007_mail
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_registration"
down_revision = "0007_mail"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no batch copy of the table, which would lose the lower() indexes
    # on SQLite).
    op.add_column(
        "users", sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    # A server that already has accounts: its first one is the admin, as on a new server.
    op.execute("UPDATE users SET is_admin = true WHERE id = (SELECT min(id) FROM users)")
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_invites_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["used_by_id"],
            ["users.id"],
            name=op.f("fk_invites_used_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invites_token_hash")),
    )
    op.create_index(op.f("ix_invites_created_by_id"), "invites", ["created_by_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_invites_created_by_id"), table_name="invites")
    op.drop_table("invites")
    op.drop_column("users", "is_admin")
