"""Offer directory: offers, their texts per language, and the change log.

Revision ID: 0002_offers
Revises: 0001_people
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_offers"
down_revision = "0001_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("example", sa.Boolean(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("hours", sa.JSON(), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=True),
        sa.Column("barrier_free", sa.Boolean(), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=120), nullable=True),
        sa.Column("website", sa.String(length=300), nullable=True),
        sa.Column("last_verified", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "category IN ('language', 'work', 'housing', 'health', 'children', 'counselling', "
            "'everyday', 'leisure', 'volunteering', 'families')",
            name=op.f("ck_offers_category_known"),
        ),
        sa.CheckConstraint("status IN ('active', 'archived')", name=op.f("ck_offers_status_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
        sa.UniqueConstraint("slug", name=op.f("uq_offers_slug")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_category"), ["category"], unique=False)

    op.create_table(
        "offer_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_slug", sa.String(length=80), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["people.id"],
            name=op.f("fk_offer_changes_changed_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_changes")),
    )
    with op.batch_alter_table("offer_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_changes_offer_slug"), ["offer_slug"], unique=False)

    op.create_table(
        "offer_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("audience", sa.Text(), nullable=True),
        sa.Column("cost", sa.String(length=200), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_offer_texts_offer_id_offers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_texts")),
        sa.UniqueConstraint("offer_id", "language", name="uq_offer_texts_offer_language"),
    )


def downgrade() -> None:
    op.drop_table("offer_texts")
    with op.batch_alter_table("offer_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_changes_offer_slug"))

    op.drop_table("offer_changes")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offers_category"))

    op.drop_table("offers")
