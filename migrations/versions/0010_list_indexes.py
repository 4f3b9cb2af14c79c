"""indexes for the followers and friends lists: one per list and sort, read by keyset

Revision ID: 0010_list_indexes
Revises: 0009_api_tokens
Create Date: 2026-11-29

Each index is ``(snapshot_id, <sort key>, id) WHERE is_follower`` (or ``is_friend``), so a
page of a list is one index range read from a position (see ``app.dashboard.keyset``) in
either direction instead of a scan and sort of the whole list. They match
``app.models.LIST_SORTS``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_list_indexes"
down_revision = "0009_api_tokens"
branch_labels = None
depends_on = None

SORT_KEYS = {
    "followers": (
        "is_follower",
        {
            "overlap": "my_followers_they_follow",
            "handle": sa.text("lower(handle)"),
            "name": sa.text("lower(name)"),
            "count": "followers_count",
            "community": "follower_community",
        },
    ),
    "friends": (
        "is_friend",
        {
            "overlap": "common_friends",
            "handle": sa.text("lower(handle)"),
            "name": sa.text("lower(name)"),
            "count": "following_count",
            "community": "friend_community",
        },
    ),
}


def upgrade():
    for role, (flag, sorts) in SORT_KEYS.items():
        for sort, key in sorts.items():
            op.create_index(
                f"ix_people_{role}_{sort}",
                "people",
                ["snapshot_id", key, "id"],
                sqlite_where=sa.text(f"{flag} = 1"),
                postgresql_where=sa.text(flag),
            )


def downgrade():
    for role, (_, sorts) in SORT_KEYS.items():
        for sort in sorts:
            op.drop_index(f"ix_people_{role}_{sort}", table_name="people")
