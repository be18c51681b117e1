"""Arrivals through posters, counted per source and day.

Revision ID: 0015_poster_arrivals
Revises: 0010_operations
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_poster_arrivals"
down_revision = "0010_operations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "poster_arrivals",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts", sa.Integer(), nullable=False),
        sa.Column("new_people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", "day", name=op.f("pk_poster_arrivals")),
    )


def downgrade() -> None:
    op.drop_table("poster_arrivals")
