"""Operations: notifications waiting for staff who have not started the bot, the case-key canary,
the "not started" flag on people, and invitations made by the operator.

Revision ID: 0010_operations
Revises: 0011_several_instances
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_operations"
down_revision = "0011_several_instances"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "waiting_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reply_markup", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_waiting_notifications_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waiting_notifications")),
    )
    op.create_index(
        op.f("ix_waiting_notifications_person_id"), "waiting_notifications", ["person_id"], unique=False
    )
    op.create_table(
        "case_key_canary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_key_canary")),
    )
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("not_started_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("staff_invites") as batch:
        batch.add_column(sa.Column("by_operator", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("staff_invites") as batch:
        batch.drop_column("by_operator")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("not_started_at")
    op.drop_table("case_key_canary")
    op.drop_index(op.f("ix_waiting_notifications_person_id"), table_name="waiting_notifications")
    op.drop_table("waiting_notifications")
