"""mastodon apps: this app's registration on each Mastodon server

Revision ID: 0004_mastodon_apps
Revises: 0003_cross_checks
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_mastodon_apps"
down_revision = "0003_cross_checks"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mastodon_apps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_url", sa.String(length=255), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret", sa.Text(), nullable=True),
        sa.Column("scopes", sa.String(length=100), nullable=False),
        sa.Column("supports_pkce", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mastodon_apps")),
        sa.UniqueConstraint("instance_url", name=op.f("uq_mastodon_apps_instance_url")),
    )


def downgrade():
    op.drop_table("mastodon_apps")
