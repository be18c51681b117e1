"""Questions the bot waits for a typed answer to.

Revision ID: 0003_pending_inputs
Revises: 0002_offers
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_pending_inputs"
down_revision = "0002_offers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_inputs",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_pending_inputs_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_pending_inputs")),
    )


def downgrade() -> None:
    op.drop_table("pending_inputs")
