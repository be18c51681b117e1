"""Query plans of statements on paths that run often or hold the write lock, checked so that a plan
which grows with a table cannot come back unnoticed. SQLite plans without statistics, so its plans
are checked here on an empty database; the schema rules below hold for PostgreSQL too.

(The reminder dispatcher's own plan test is in test_reminder_progress.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint

from handlers.news import BATCH
from storage import audit, consent, news, privacy, reminders, updates
from storage.consent import Purpose
from storage.db import create_session_factory, session_scope
from storage.models import Base
from tests.support.case_data import add_person
from tests.support.harness import TEST_AUDIT_KEY
from tests.support.query_plans import plan_of, sqlite_at_head, statements_sent, the_one

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


# Foreign keys whose parent rows are never deleted (offers and news items are archived), or whose
# table stays small (staff invitations): deleting a parent may look through them without an index.
FOREIGN_KEYS_WITHOUT_INDEX = {
    "appointments.offer_id",
    "referrals.offer_id",
    "news_items.offer_id",
    "news_items.created_by",
    "staff_invites.created_by",
    "staff_invites.used_by",
}


def test_every_foreign_key_has_an_index_unless_its_rows_are_never_deleted_or_few() -> None:
    """Deleting a row makes the database look for the rows pointing at it (to cascade or set NULL):
    without an index on the pointing column, a scan of that whole table per deleted row, on both
    databases. Deleting a person deletes their appointments, consents and case too."""
    missing = set()
    for table in Base.metadata.sorted_tables:
        leading = {index.columns[0].name for index in table.indexes}
        leading |= {
            next(iter(constraint.columns)).name
            for constraint in table.constraints
            if constraint.columns and isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint)
        }
        missing |= {
            f"{table.name}.{key.parent.name}" for key in table.foreign_keys if key.parent.name not in leading
        }
    assert missing == FOREIGN_KEYS_WITHOUT_INDEX


@pytest.mark.parametrize("table", ["people", "appointments", "consents", "cases"])
async def test_on_sqlite_deleting_what_a_person_leaves_scans_no_growing_table(
    tmp_path: Path, table: str
) -> None:
    """The rows deleted with a person find the rows pointing at them by index. (At production size
    a person's row took 12 ms to delete, an appointment 3 ms, before the indexes of 0018.)"""
    async with sqlite_at_head(tmp_path) as engine:
        plan = await plan_of(engine, f"DELETE FROM {table} WHERE id = ?")
    scanned = {step.split()[1] for step in plan if step.startswith("SCAN ")}
    assert scanned <= {"news_items", "staff_invites"}, plan


async def test_on_sqlite_a_batch_of_news_deliveries_is_loaded_by_their_ids(tmp_path: Path) -> None:
    """From 60 ids on, SQLite started from the status index of news items and read every delivery
    of the item being sent to find the batch's: 1.0 ms instead of 0.19 ms with 5,000 subscribers,
    growing with them."""
    async with sqlite_at_head(tmp_path) as engine:
        sessions = create_session_factory(engine)
        for count in (1, BATCH, 500):
            with statements_sent(engine) as sent:
                async with session_scope(sessions) as session:
                    await news.load_outgoing(session, list(range(1, count + 1)), NOW)
            loading = the_one(sent, "SELECT news_deliveries.id")
            plan = await plan_of(engine, loading.sql, loading.parameters)
            assert plan[0] == "SEARCH news_deliveries USING INTEGER PRIMARY KEY (rowid=?)", (count, plan)
            assert not any("INDEX ix_news" in step or "sqlite_autoindex" in step for step in plan), plan


async def test_on_sqlite_withdrawing_the_reminder_consent_finds_reminders_by_appointment(
    tmp_path: Path,
) -> None:
    """Without statistics SQLite dropped a person's reminders by reading every pending reminder
    from the status index: 1.1 ms instead of 0.05 ms with 6,000 pending."""
    async with sqlite_at_head(tmp_path) as engine:
        sessions = audit.use_keys(create_session_factory(engine), [TEST_AUDIT_KEY])
        async with session_scope(sessions) as session:
            person = await add_person(session, 4711)
            await consent.give_consent(session, person.id, Purpose.REMINDERS, "ar", NOW)
        with statements_sent(engine) as sent:
            async with session_scope(sessions) as session:
                assert await privacy.withdraw(session, person.id, Purpose.REMINDERS, NOW)
        dropping = the_one(sent, "UPDATE reminders")
        plan = await plan_of(engine, dropping.sql, dropping.parameters)
    by_appointment = "SEARCH reminders USING INDEX sqlite_autoindex_reminders_1 (appointment_id=? AND kind=?)"
    assert by_appointment in plan, plan
    assert not any("ix_reminders_status_due" in step for step in plan), plan


async def test_on_sqlite_cancelling_an_appointment_drops_its_reminders_by_the_appointment(
    tmp_path: Path,
) -> None:
    """Cancelling or moving a booking drops the appointment's pending reminders. Without statistics
    SQLite read every pending reminder from the status index to find them: 0.63 ms instead of
    0.013 ms with 6,000 pending."""
    async with sqlite_at_head(tmp_path) as engine:
        with statements_sent(engine) as sent:
            async with session_scope(create_session_factory(engine)) as session:
                await reminders.drop_for(session, 1)
        dropping = the_one(sent, "UPDATE reminders")
        plan = await plan_of(engine, dropping.sql, dropping.parameters)
    assert plan == ["SEARCH reminders USING INDEX sqlite_autoindex_reminders_1 (appointment_id=?)"], plan


async def test_on_sqlite_stranded_updates_are_looked_for_among_the_unhandled_only(tmp_path: Path) -> None:
    """Every instance in webhook mode asks every five seconds; in update-id order SQLite walked all
    the update ids kept (two days' worth, nearly all handled): 24 ms with 200,000 kept."""
    async with sqlite_at_head(tmp_path) as engine:
        with statements_sent(engine) as sent:
            async with session_scope(create_session_factory(engine)) as session:
                assert await updates.take_stranded(session, NOW, timedelta(seconds=10)) == []
        looking = the_one(sent, "SELECT processed_updates.update_id")
        plan = await plan_of(engine, looking.sql, looking.parameters)
    assert plan == ["SCAN processed_updates USING INDEX ix_processed_updates_unhandled"], plan
