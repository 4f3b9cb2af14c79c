"""cross-network match keys per connection

Revision ID: 0012_match_keys
Revises: 0011_uploads
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_match_keys"
down_revision = "0011_uploads"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "match_keys",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("keys", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_match_keys_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_match_keys")),
    )


def downgrade():
    op.drop_table("match_keys")
