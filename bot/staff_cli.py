"""``wegweiser staff …`` and ``wegweiser hours …``: staff members and advisors' consultation hours,
absences, languages and place. The rules are ``storage``'s; a refusal (``DomainError``) becomes one
plain line for the operator."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from locales import SUPPORTED_LANGUAGES
from storage import advisors, health, people
from storage.advisors import PLACE_MAX
from storage.db import create_engine, create_session_factory, session_scope
from storage.errors import DomainError
from storage.hours import WEEKDAYS
from storage.migrate import upgrade_to_head
from storage.models import Appointment, Case, Person, Role


def add_parsers(commands: argparse._SubParsersAction, calendar_day: Callable[[str], date]) -> None:
    """The ``staff`` and ``hours`` commands and their arguments."""
    staff = commands.add_parser("staff", help="manage advisors and admins")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    add = staff_commands.add_parser("add", help="give a Telegram account a staff role")
    add.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    add.add_argument("--role", required=True, choices=[Role.ADVISOR.value, Role.ADMIN.value])
    add.add_argument("--name", required=True, help="the staff member's name as colleagues see it")
    invite = staff_commands.add_parser(
        "invite", help="print a single-use Telegram link that gives whoever opens it a staff role"
    )
    invite.add_argument("--role", required=True, choices=[Role.ADVISOR.value, Role.ADMIN.value])
    invite.add_argument("--name", required=True, help="the staff member's name as colleagues see it")
    staff_commands.add_parser("list", help="list advisors and admins")
    remove = staff_commands.add_parser("remove", help="take a staff role away")
    remove.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")

    hours = commands.add_parser("hours", help="an advisor's consultation hours, absences, languages, place")
    hours_commands = hours.add_subparsers(dest="hours_command", required=True, metavar="ACTION")
    hours_show = hours_commands.add_parser("show", help="show an advisor's hours, absences, languages, place")
    hours_show.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    hours_set = hours_commands.add_parser("set", help="replace the hours of one weekday")
    hours_set.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    hours_set.add_argument("weekday", choices=WEEKDAYS, metavar="WEEKDAY", help="mon, tue, … sun")
    hours_set.add_argument(
        "ranges", metavar="RANGES", help='e.g. "09:00-12:00, 14:00-16:00"; "" or - for none'
    )
    absence_add = hours_commands.add_parser("absence-add", help="add days without consultations")
    absence_add.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    absence_add.add_argument("first_day", type=calendar_day, metavar="FIRST_DAY")
    absence_add.add_argument("last_day", type=calendar_day, nargs="?", metavar="LAST_DAY")
    booked = absence_add.add_mutually_exclusive_group()
    booked.add_argument(
        "--cancel-appointments",
        dest="cancel_appointments",
        action="store_const",
        const=True,
        help="cancel the booked appointments in the absence (without this, it lists them and stops)",
    )
    booked.add_argument(
        "--keep-appointments",
        dest="cancel_appointments",
        action="store_const",
        const=False,
        help="keep the booked appointments in the absence",
    )
    absence_remove = hours_commands.add_parser("absence-remove", help="remove an absence (ids: hours show)")
    absence_remove.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    absence_remove.add_argument("absence_id", type=int, metavar="ABSENCE_ID")
    hours_languages = hours_commands.add_parser("languages", help="the languages an advisor consults in")
    hours_languages.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    hours_languages.add_argument("languages", metavar="CODES", help="e.g. de,en,ar; - for none")
    hours_place = hours_commands.add_parser("place", help="where an advisor's consultations take place")
    hours_place.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    hours_place.add_argument(
        "place", metavar="PLACE", help='e.g. "Rathaus Hemmingen, Zimmer 12"; - for default'
    )


async def manage_staff(settings: Settings, args: argparse.Namespace) -> int:
    """``wegweiser staff …``: add (or change the role of), list and remove staff members."""
    engine = create_engine(settings.resolved_database_url())
    try:
        await upgrade_to_head(engine)
        async with session_scope(create_session_factory(engine)) as session:
            now = datetime.now(UTC)
            if args.staff_command == "add":
                before = await people.person_by_telegram_id(session, args.telegram_id)
                previous = before.role if before is not None and before.is_staff else None
                try:
                    person = await people.add_staff(
                        session, args.telegram_id, Role(args.role), args.name, now
                    )
                except DomainError as error:
                    print(f"wegweiser: {refusal_line(error, settings)}", file=sys.stderr)
                    return 2
                if previous is not None and previous != person.role:
                    print(
                        f"{person.telegram_id} was {previous} and is now {person.role}: {person.staff_name}"
                    )
                else:
                    print(f"{person.telegram_id} is now {person.role}: {person.staff_name}")
            elif args.staff_command == "list":
                staff = await people.list_staff(session)
                if not staff:
                    print(
                        "No staff yet. Add someone with: wegweiser staff add TELEGRAM_ID "
                        "--role advisor --name NAME"
                    )
                for person in staff:
                    # Says so when the bot cannot write to them (not started yet, or blocked).
                    reach = health.reachability(person)
                    note = "" if reach == "reachable" else f"\t{reach}"
                    print(f"{person.telegram_id}\t{person.role}\t{person.staff_name}{note}")
            else:
                try:
                    await people.remove_staff(session, args.telegram_id)
                except DomainError as error:
                    print(f"wegweiser: {args.telegram_id}: {refusal_line(error, settings)}", file=sys.stderr)
                    return 1
                print(f"{args.telegram_id} is no longer staff.")
    finally:
        await engine.dispose()
    return 0


async def manage_hours(settings: Settings, args: argparse.Namespace) -> int:
    """``wegweiser hours …``: what an advisor can also change in the bot with /hours."""
    engine = create_engine(settings.resolved_database_url())
    try:
        await upgrade_to_head(engine)
        async with session_scope(create_session_factory(engine)) as session:
            advisor = await people.person_by_telegram_id(session, args.telegram_id)
            if advisor is None or advisor.role != Role.ADVISOR:
                print(
                    f"wegweiser: {args.telegram_id} is not an advisor (add one with: wegweiser staff add "
                    f"{args.telegram_id} --role advisor --name NAME)",
                    file=sys.stderr,
                )
                return 1
            try:
                message = await change_hours(session, advisor, args, settings)
            except DomainError as error:
                print(f"wegweiser: {refusal_line(error, settings)}", file=sys.stderr)
                return 1 if error.reason == "absence_booked" else 2
            except LookupError as error:
                print(f"wegweiser: {error.args[0]}", file=sys.stderr)
                return 1
            print(message)
    finally:
        await engine.dispose()
    return 0


def refusal_line(error: DomainError, settings: Settings) -> str:
    """A refused change (``storage.errors.DomainError``) as one plain English line for the operator
    (a refused absence lists the booked appointments in the way)."""
    reason = error.reason
    if reason == "absence_booked":
        appointments = error.details["appointments"]
        listed = "".join(f"\n  {appointment_line(*row, settings.zone)}" for row in appointments)
        return (
            f"{len(appointments)} booked appointment(s) fall in this absence:{listed}\n"
            "Add --cancel-appointments to cancel them, or --keep-appointments to keep them; "
            "nothing was changed."
        )
    lines = {
        "hours_format": str(error.details.get("problem")),
        "hours_grid": "consultation hours start and end on the hour or half hour",
        "absence_order": "an absence ends on or after its first day",
        "absence_past": "this absence is already over",
        "languages": "this is not a list of language codes; known: " + ", ".join(SUPPORTED_LANGUAGES),
        "place_empty": f"the place needs 1 to {PLACE_MAX} characters (- for the default)",
        "place_long": f"the place needs 1 to {PLACE_MAX} characters (- for the default)",
        "staff_id": "a Telegram user id is a positive number (groups and channels cannot be staff)",
        "staff_role": "the staff role must be advisor or admin",
        "staff_name": "a staff name needs 1 to 100 characters",
        "last_admin": "this is the last admin; make someone else admin first",
        "not_staff": "this account is not a staff member",
    }
    return f"{lines.get(reason, reason)}; nothing was changed."


def appointment_line(appointment: Appointment, case: Case, zone: tzinfo) -> str:
    """An appointment for the operator: local time and case number (no names)."""
    return f"{appointment.starts_at.astimezone(zone):%Y-%m-%d %H:%M} case {case.number}"


async def change_hours(
    session: AsyncSession, advisor: Person, args: argparse.Namespace, settings: Settings
) -> str:
    """Carry out one ``hours`` action; returns what to print. A refused change raises ``DomainError``."""
    action = args.hours_command
    now = datetime.now(UTC)
    if action == "set":
        await advisors.set_weekly_hours(session, advisor.id, WEEKDAYS.index(args.weekday), args.ranges)
    elif action == "absence-add":
        added = await advisors.add_absence(
            session,
            advisor.id,
            args.first_day,
            args.last_day or args.first_day,
            zone=settings.zone,
            now=now,
            cancel_appointments=args.cancel_appointments,
        )
        absence = added.absence
        message = f"Added absence {absence.id}: {absence.first_day} – {absence.last_day}."
        if added.cancelled:
            cancelled = ", ".join(appointment_line(*row, settings.zone) for row in added.cancelled)
            message += (
                f"\nCancelled {len(added.cancelled)} appointment(s): {cancelled}. The command line cannot "
                "message people on Telegram: please tell them (their advisor sees them in the desk agenda)."
            )
        return message
    elif action == "absence-remove":
        if not await advisors.remove_absence(session, advisor.id, args.absence_id):
            raise LookupError(
                f"{args.telegram_id} has no absence {args.absence_id} (see: wegweiser hours show)"
            )
        return f"Removed absence {args.absence_id}."
    elif action == "languages":
        await advisors.set_languages(session, advisor.id, args.languages)
    elif action == "place":
        await advisors.set_place(session, advisor.id, args.place)
    return await hours_summary(session, advisor, settings)


async def hours_summary(session: AsyncSession, advisor: Person, settings: Settings) -> str:
    """An advisor's hours, upcoming absences (with ids), languages and place, as plain lines."""
    weekly = await advisors.weekly_hours(session, advisor.id)
    today = datetime.now(UTC).astimezone(settings.zone).date()
    upcoming = await advisors.absences(session, advisor.id, today)
    profile = await advisors.profile(session, advisor.id)
    lines = [f"{advisor.staff_name} ({advisor.telegram_id})", "Weekly hours:"]
    for weekday, name in enumerate(WEEKDAYS):
        ranges = ", ".join(f"{start}-{end}" for start, end in weekly.get(weekday, []))
        lines.append(f"  {name}  {ranges or '-'}")
    lines.append("Absences:" if upcoming else "Absences: none planned")
    lines += [f"  {absence.id}\t{absence.first_day} – {absence.last_day}" for absence in upcoming]
    lines.append(f"Languages: {', '.join(profile.languages) or 'not set'}")
    default = advisors.default_place(settings.municipality)
    lines.append(f"Place: {profile.place or f'not set (the bot shows {default})'}")
    return "\n".join(lines)
