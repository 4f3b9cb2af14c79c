"""parts with provenance: what each snapshot shows of each part, and whose follow lists
were read

Revision ID: 0005_parts
Revises: 0004_mastodon_apps
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_parts"
down_revision = "0004_mastodon_apps"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("snapshots") as batch:
        batch.add_column(sa.Column("parts", sa.JSON(), nullable=True))
    with op.batch_alter_table("people") as batch:
        batch.add_column(
            sa.Column("following_known", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("people") as batch:
        batch.drop_column("following_known")
    with op.batch_alter_table("snapshots") as batch:
        batch.drop_column("parts")
