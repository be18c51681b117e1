"""Reminders remember when their message went out (``attempted_at``) and when a crash or a timeout
left its delivery uncertain (``uncertain_at``), so they are resent at most once.

Revision ID: 0012_reminder_uncertain
Revises: 0009_audit_keys
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_reminder_uncertain"
down_revision = "0009_audit_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reminders") as batch:
        batch.add_column(sa.Column("attempted_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("uncertain_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reminders") as batch:
        batch.drop_column("uncertain_at")
        batch.drop_column("attempted_at")
