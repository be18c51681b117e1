"""Several instances: processed updates become the webhook inbox, and job runs are claimed.

Revision ID: 0011_several_instances
Revises: 0012_reminder_uncertain
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_several_instances"
down_revision = "0012_reminder_uncertain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.add_column(sa.Column("payload", sa.Text(), nullable=True))
        batch.add_column(sa.Column("person_key", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("handled_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("busy_until", sa.DateTime(), nullable=True))
        batch.create_index("ix_processed_updates_person_key_update_id", ["person_key", "update_id"])
    # Every update recorded before this revision was handled when it was recorded.
    op.execute("UPDATE processed_updates SET handled_at = processed_at")
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=64), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "period", name="uq_job_runs_job_period"),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    with op.batch_alter_table("processed_updates") as batch:
        batch.drop_index("ix_processed_updates_person_key_update_id")
        batch.drop_column("busy_until")
        batch.drop_column("handled_at")
        batch.drop_column("person_key")
        batch.drop_column("payload")
