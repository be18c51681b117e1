"""Dated events of offers ("what is on this week").

Revision ID: 0017_offer_events
Revises: 0016_news
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_offer_events"
down_revision = "0016_news"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offer_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("weekly", sa.Boolean(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("exceptions", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_offer_events_offer_id_offers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_events")),
    )
    op.create_index(op.f("ix_offer_events_offer_id"), "offer_events", ["offer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_offer_events_offer_id"), table_name="offer_events")
    op.drop_table("offer_events")
