"""A partial index of the recorded updates nobody has started yet.

In webhook mode every instance looks for stranded updates (recorded, never started) every five
seconds. Those are few, but the table keeps every update id of the last two days, nearly all of
them handled: found in update-id order, SQLite walked all of them each time (24 ms with 200,000
kept), PostgreSQL read them all in a parallel sequential scan (19 ms). The partial index holds
only the unhandled ones (0.006 ms, and 0.02 ms on PostgreSQL); a polled update is recorded already
handled and never enters it.

Revision ID: 0019_unhandled_updates
Revises: 0018_deletion_indexes
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_unhandled_updates"
down_revision = "0018_deletion_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_processed_updates_unhandled",
        "processed_updates",
        ["update_id"],
        unique=False,
        sqlite_where=sa.text("handled_at IS NULL"),
        postgresql_where=sa.text("handled_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_processed_updates_unhandled", table_name="processed_updates")
