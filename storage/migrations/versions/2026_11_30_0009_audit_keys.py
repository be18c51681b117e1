"""The audit chain is keyed: each entry names the HMAC key that signed it. Entries written before
(``key_id`` NULL) keep their plain SHA-256 chain and are sealed by the first keyed entry.

Revision ID: 0009_audit_keys
Revises: 0007_staff_invites
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_audit_keys"
down_revision = "0007_staff_invites"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both engines: the table is not rebuilt, so its append-only triggers stay.
    op.add_column("audit_log", sa.Column("key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("audit_log", "key_id")
        return
    # SQLite drops a column by rebuilding the table, which loses its triggers: put them back.
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("key_id")
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        )
