"""Consultations: advisors' hours and absences, cases, appointments and their slots, reminders,
waiting list, consents.

Revision ID: 0004_booking
Revises: 0003_pending_inputs
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_booking"
down_revision = "0003_pending_inputs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "absences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advisor_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_absences_ordered")),
        sa.ForeignKeyConstraint(
            ["advisor_id"], ["people.id"], name=op.f("fk_absences_advisor_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absences")),
    )
    with op.batch_alter_table("absences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_absences_advisor_id"), ["advisor_id"], unique=False)

    op.create_table(
        "advisor_profiles",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_advisor_profiles_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_advisor_profiles")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=12), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("advisor_id", sa.Integer(), nullable=True),
        sa.Column("first_name", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisor_id"], ["people.id"], name=op.f("fk_cases_advisor_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_cases_person_id_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("number", name=op.f("uq_cases_number")),
        sa.UniqueConstraint("person_id", name=op.f("uq_cases_person_id")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_advisor_id"), ["advisor_id"], unique=False)

    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("text_version", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("given_at", sa.DateTime(), nullable=False),
        sa.Column("given_how", sa.String(length=10), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_consents_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["people.id"], name=op.f("fk_consents_recorded_by_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index("ix_consents_person_purpose", ["person_id", "purpose"], unique=False)

    op.create_table(
        "consultation_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advisor_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sa.String(length=5), nullable=False),
        sa.Column("ends", sa.String(length=5), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_consultation_hours_weekday_valid")),
        sa.ForeignKeyConstraint(
            ["advisor_id"],
            ["people.id"],
            name=op.f("fk_consultation_hours_advisor_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_hours")),
    )
    with op.batch_alter_table("consultation_hours", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consultation_hours_advisor_id"), ["advisor_id"], unique=False)

    op.create_table(
        "waiting_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("interpreter", sa.Boolean(), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("offered_at", sa.DateTime(), nullable=True),
        sa.Column("offered_starts_at", sa.DateTime(), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_waiting_list_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waiting_list")),
    )
    with op.batch_alter_table("waiting_list", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_waiting_list_person_id"), ["person_id"], unique=False)

    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("advisor_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("topic", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("interpreter", sa.Boolean(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("booked_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_by", sa.String(length=10), nullable=True),
        sa.Column("cancel_reason", sa.String(length=20), nullable=True),
        sa.CheckConstraint("kind IN ('first', 'follow_up')", name=op.f("ck_appointments_kind_known")),
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled', 'attended', 'no_show')",
            name=op.f("ck_appointments_status_known"),
        ),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_appointments_ordered")),
        sa.ForeignKeyConstraint(
            ["advisor_id"], ["people.id"], name=op.f("fk_appointments_advisor_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_appointments_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_appointments_offer_id_offers"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_appointments_person_id_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index("ix_appointments_advisor_starts", ["advisor_id", "starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointments_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointments_person_id"), ["person_id"], unique=False)

    op.create_table(
        "appointment_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("advisor_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisor_id"],
            ["people.id"],
            name=op.f("fk_appointment_slots_advisor_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_slots_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_slots")),
        sa.UniqueConstraint("advisor_id", "starts_at", name="uq_appointment_slots_advisor_time"),
    )
    with op.batch_alter_table("appointment_slots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_slots_appointment_id"), ["appointment_id"], unique=False
        )

    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_reminders_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("appointment_id", "kind", name="uq_reminders_appointment_kind"),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index("ix_reminders_status_due", ["status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_status_due")

    op.drop_table("reminders")
    with op.batch_alter_table("appointment_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_slots_appointment_id"))

    op.drop_table("appointment_slots")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_person_id"))
        batch_op.drop_index(batch_op.f("ix_appointments_case_id"))
        batch_op.drop_index("ix_appointments_advisor_starts")

    op.drop_table("appointments")
    with op.batch_alter_table("waiting_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waiting_list_person_id"))

    op.drop_table("waiting_list")
    with op.batch_alter_table("consultation_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_hours_advisor_id"))

    op.drop_table("consultation_hours")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index("ix_consents_person_purpose")

    op.drop_table("consents")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_advisor_id"))

    op.drop_table("cases")
    op.drop_table("advisor_profiles")
    with op.batch_alter_table("absences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_absences_advisor_id"))

    op.drop_table("absences")
