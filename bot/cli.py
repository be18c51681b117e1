"""The ``wegweiser`` command: run, demo, database migrations and staff management."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings, SettingsError, load_settings
from bot.logs import configure_logging
from storage import offer_files, people
from storage.db import create_engine, create_session_factory, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Role

NO_TOKEN = """\
No Telegram bot token is configured.

To run Wegweiser on Telegram, create a bot with @BotFather in Telegram (send /newbot and follow
the steps), then put the token it gives you into the environment or a .env file:

    WEGWEISER_TELEGRAM_TOKEN=123456789:ABC...

To try Wegweiser without any token or internet connection, run:  wegweiser demo"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wegweiser", description="Multilingual Telegram bot for integration management."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="run the bot against Telegram (long polling)")
    demo = commands.add_parser("demo", help="run the bot in the local sandbox with a chat page")
    demo.add_argument("--port", type=int, default=8080, help="port of the chat page (default 8080)")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_commands.add_parser("upgrade", help="apply all database migrations")

    offers = commands.add_parser("offers", help="import or export the offer directory (YAML or CSV)")
    offer_commands = offers.add_subparsers(dest="offers_command", required=True, metavar="ACTION")
    offer_import = offer_commands.add_parser("import", help="check a file and import all of it, or nothing")
    offer_import.add_argument("file", type=Path, metavar="FILE", help="a .yaml, .yml or .csv file")
    offer_export = offer_commands.add_parser("export", help="write every offer to a file")
    offer_export.add_argument("file", type=Path, metavar="FILE", help="a .yaml, .yml or .csv file")

    staff = commands.add_parser("staff", help="manage advisors and admins")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    add = staff_commands.add_parser("add", help="give a Telegram account a staff role")
    add.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    add.add_argument("--role", required=True, choices=[Role.ADVISOR.value, Role.ADMIN.value])
    add.add_argument("--name", required=True, help="the staff member's name as colleagues see it")
    staff_commands.add_parser("list", help="list advisors and admins")
    remove = staff_commands.add_parser("remove", help="take a staff role away")
    remove.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"wegweiser: invalid configuration\n{error}", file=sys.stderr)
        return 2
    secret = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    configure_logging(settings.log_level, secrets=(secret,))
    if args.command == "run":
        return run(settings)
    if args.command == "demo":
        from bot.demo import run_demo

        try:
            asyncio.run(run_demo(settings, args.port))
        except OSError as error:
            print(f"wegweiser: {error} Choose another one with --port.", file=sys.stderr)
            return 1
        return 0
    if args.command == "db":
        asyncio.run(db_upgrade(settings))
        print("The database is up to date.")
        return 0
    if args.command == "offers":
        return asyncio.run(manage_offers(settings, args))
    return asyncio.run(manage_staff(settings, args))


def run(settings: Settings) -> int:
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
        print(NO_TOKEN, file=sys.stderr)
        return 2
    from bot.app import build_application, run_polling

    run_polling(build_application(settings))
    return 0


async def db_upgrade(settings: Settings) -> None:
    engine = create_engine(settings.resolved_database_url())
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


async def manage_offers(settings: Settings, args: argparse.Namespace) -> int:
    path: Path = args.file
    if args.offers_command == "import" and not path.is_file():
        print(f"wegweiser: {path} does not exist", file=sys.stderr)
        return 2
    engine = create_engine(settings.resolved_database_url())
    try:
        await upgrade_to_head(engine)
        async with session_scope(create_session_factory(engine)) as session:
            now = datetime.now(UTC)
            if args.offers_command == "export":
                try:
                    count = await offer_files.export_offers(
                        session, path, now.astimezone(settings.zone).date()
                    )
                except offer_files.ImportRejected as rejected:
                    print(f"wegweiser: {rejected.problems[0].message}", file=sys.stderr)
                    return 2
                print(f"Exported {count} offers to {path}.")
                return 0
            try:
                result = await offer_files.import_offers(session, path, now)
            except offer_files.ImportRejected as rejected:
                print(f"wegweiser: {path} was not imported; nothing changed.", file=sys.stderr)
                for problem in rejected.problems:
                    print(f"  {problem}", file=sys.stderr)
                return 1
        print(
            f"Imported {path}: {len(result.created)} new, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged."
        )
    finally:
        await engine.dispose()
    return 0


async def manage_staff(settings: Settings, args: argparse.Namespace) -> int:
    engine = create_engine(settings.resolved_database_url())
    try:
        await upgrade_to_head(engine)
        async with session_scope(create_session_factory(engine)) as session:
            now = datetime.now(UTC)
            if args.staff_command == "add":
                try:
                    person = await people.add_staff(
                        session, args.telegram_id, Role(args.role), args.name, now
                    )
                except ValueError as error:
                    print(f"wegweiser: {error}", file=sys.stderr)
                    return 2
                print(f"{person.telegram_id} is now {person.role}: {person.staff_name}")
            elif args.staff_command == "list":
                staff = await people.list_staff(session)
                if not staff:
                    print(
                        "No staff yet. Add someone with: wegweiser staff add TELEGRAM_ID "
                        "--role advisor --name NAME"
                    )
                for person in staff:
                    print(f"{person.telegram_id}\t{person.role}\t{person.staff_name}")
            else:
                try:
                    await people.remove_staff(session, args.telegram_id)
                except people.NotStaffError:
                    print(f"wegweiser: {args.telegram_id} is not a staff member", file=sys.stderr)
                    return 1
                print(f"{args.telegram_id} is no longer staff.")
    finally:
        await engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
