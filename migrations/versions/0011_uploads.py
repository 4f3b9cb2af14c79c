"""uploads kept where every process reads them: uploads and upload_chunks

Revision ID: 0011_uploads
Revises: 0010_list_indexes
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_uploads"
down_revision = "0010_list_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("store", sa.String(length=10), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_uploads_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sync_runs.id"],
            name=op.f("fk_uploads_run_id_sync_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    with op.batch_alter_table("uploads") as batch:
        batch.create_index(batch.f("ix_uploads_user_id"), ["user_id"], unique=False)
        batch.create_index(batch.f("ix_uploads_run_id"), ["run_id"], unique=False)
    op.create_table(
        "upload_chunks",
        sa.Column("upload_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["uploads.id"],
            name=op.f("fk_upload_chunks_upload_id_uploads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("upload_id", "seq", name=op.f("pk_upload_chunks")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Archives are compressed already: keep PostgreSQL from trying again on every chunk.
        op.execute("ALTER TABLE upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade():
    op.drop_table("upload_chunks")
    with op.batch_alter_table("uploads") as batch:
        batch.drop_index(batch.f("ix_uploads_run_id"))
        batch.drop_index(batch.f("ix_uploads_user_id"))
    op.drop_table("uploads")
