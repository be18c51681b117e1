"""News people asked for: items, their texts per language, one delivery row per recipient.

Revision ID: 0016_news
Revises: 0015_poster_arrivals
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_news"
down_revision = "0015_poster_arrivals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "news_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("languages", sa.String(length=60), nullable=True),
        sa.Column("send_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('scheduled', 'sending', 'sent', 'cancelled')", name=op.f("ck_news_items_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name=op.f("fk_news_items_created_by_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_news_items_offer_id_offers"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_news_items")),
    )
    op.create_index("ix_news_items_status_send_at", "news_items", ["status", "send_at"], unique=False)
    op.create_table(
        "news_texts",
        sa.Column("news_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["news_id"], ["news_items.id"], name=op.f("fk_news_texts_news_id_news_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("news_id", "language", name=op.f("pk_news_texts")),
    )
    op.create_table(
        "news_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("news_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["news_id"],
            ["news_items.id"],
            name=op.f("fk_news_deliveries_news_id_news_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_news_deliveries_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_news_deliveries")),
        sa.UniqueConstraint("news_id", "person_id", name="uq_news_deliveries_once_per_person"),
    )
    op.create_index("ix_news_deliveries_status", "news_deliveries", ["status", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_news_deliveries_status", table_name="news_deliveries")
    op.drop_table("news_deliveries")
    op.drop_table("news_texts")
    op.drop_index("ix_news_items_status_send_at", table_name="news_items")
    op.drop_table("news_items")
