"""Indexes on the foreign keys that point at rows deleted with a person.

Deleting a person (on request, or by retention after their last contact) deletes their
appointments, consents and case, and then their row. For each deleted row the database looks for
the rows that point at it, to cascade or to set NULL; a foreign key without an index is then a
scan of its whole table, on SQLite and on PostgreSQL alike. At production size (100,000
appointments, 50,000 news deliveries, 20,000 notes and reviews) deleting one person's row took
12 ms on SQLite and one appointment 3 ms, while holding the only write lock; with these indexes,
0.13 ms and 0.04 ms (PostgreSQL: 14 ms and 1.7 ms, then 1.8 ms and 0.15 ms). Offers and news
items are archived, never deleted, and the staff invitations are few: their foreign keys stay
without.

Revision ID: 0018_deletion_indexes
Revises: 0017_offer_events
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0018_deletion_indexes"
down_revision = "0017_offer_events"
branch_labels = None
depends_on = None

# (table, column) of each foreign key that gets an index
_INDEXED = (
    ("news_deliveries", "person_id"),
    ("consents", "recorded_by"),
    ("offer_changes", "changed_by"),
    ("reviews", "created_by"),
    ("case_notes", "author_id"),
    ("case_notes", "appointment_id"),
    ("referrals", "consent_id"),
)


def upgrade() -> None:
    for table, column in _INDEXED:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(_INDEXED):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
