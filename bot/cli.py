"""The ``wegweiser`` command: run, demo, database migrations, staff, offers, the funding report,
retention, the audit log and case-data keys."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot import posters, staff_cli
from bot.config import Settings, SettingsError, load_settings
from bot.logs import configure_logging
from storage import audit, key_rotation, offer_files, report, retention
from storage.crypto import CaseCipher, KeyMissing, UnreadableText, new_key
from storage.db import create_engine, create_session_factory, session_scope
from storage.migrate import upgrade_to_head

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
    commands.add_parser(
        "run", help="run the bot against Telegram (long polling, or webhook with WEGWEISER_WEBHOOK_URL)"
    )
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

    staff_cli.add_parsers(commands, calendar_day)

    report_parser = commands.add_parser(
        "report", help="write the funding report (Verwendungsnachweis) as CSV"
    )
    report_parser.add_argument("--from", dest="start", required=True, type=calendar_day, metavar="YYYY-MM-DD")
    report_parser.add_argument("--to", dest="end", required=True, type=calendar_day, metavar="YYYY-MM-DD")
    report_parser.add_argument(
        "--out", type=Path, metavar="FILE.csv", help="default: wegweiser-report-FROM-TO.csv here"
    )

    retention_parser = commands.add_parser(
        "retention",
        help="anonymise cases closed longer than the retention period; delete people inactive as long",
    )
    retention_commands = retention_parser.add_subparsers(
        dest="retention_command", required=True, metavar="ACTION"
    )
    retention_run = retention_commands.add_parser(
        "run", help="anonymise every case and delete every inactive person that is due now"
    )
    retention_run.add_argument(
        "--dry-run", action="store_true", help="only show what would be anonymised and deleted"
    )

    audit_parser = commands.add_parser("audit", help="the audit log of case data access")
    audit_commands = audit_parser.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit_check = audit_commands.add_parser("check", help="verify the hash chain (exit 1 when it is broken)")
    audit_check.add_argument(
        "--anchor",
        metavar="FILE_OR_VALUE",
        help="COUNT:HASH from the admins' daily message, or the anchor file: fails when entries were removed",
    )

    keys = commands.add_parser("keys", help="encryption keys for case data")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    key_commands.add_parser("new", help="print a new key for WEGWEISER_CASE_DATA_KEY")
    key_commands.add_parser("rotate", help="re-encrypt all case texts with the first configured key")
    posters.add_poster_command(commands)
    return parser


def calendar_day(value: str) -> date:
    """An argparse type: a date written as YYYY-MM-DD."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-01-31") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"wegweiser: invalid configuration\n{error}", file=sys.stderr)
        return 2
    secret = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    configure_logging(settings.log_level, secrets=(secret, webhook_secret))
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
    if args.command == "report":
        return asyncio.run(write_report(settings, args))
    if args.command == "retention":
        return asyncio.run(run_retention(settings, args.dry_run))
    if args.command == "audit":
        return asyncio.run(check_audit_log(settings, args.anchor))
    if args.command == "keys":
        if args.keys_command == "new":
            print(new_key())
            return 0
        return asyncio.run(rotate_keys(settings))
    if args.command == "hours":
        return asyncio.run(staff_cli.manage_hours(settings, args))
    if args.command == "poster":
        return asyncio.run(posters.write_poster(settings, args))
    return asyncio.run(staff_cli.manage_staff(settings, args))


def run(settings: Settings) -> int:
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
        print(NO_TOKEN, file=sys.stderr)
        return 2
    from bot.app import build_application, run_polling

    if not settings.case_keys():
        print(
            "wegweiser: WEGWEISER_CASE_DATA_KEY is not set; case texts cannot be stored or read. "
            "Create a key with `wegweiser keys new` and keep a copy in a safe place.",
            file=sys.stderr,
        )
        return 2
    if not settings.audit_keys():
        print(
            "wegweiser: WEGWEISER_AUDIT_KEY is not set; the audit log cannot be signed. "
            "Create a key with `wegweiser keys new` (a different one from the case-data key).",
            file=sys.stderr,
        )
        return 2
    application = build_application(settings, serve_desk=True)
    if settings.webhook_url:
        from bot.webhook import run_webhook

        asyncio.run(run_webhook(application))
    else:
        run_polling(application)
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
            except offer_files.UnreadableFile as unreadable:
                print(f"wegweiser: {path} was not imported: {unreadable}.", file=sys.stderr)
                return 1
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


async def write_report(settings: Settings, args: argparse.Namespace) -> int:
    start: date = args.start
    end: date = args.end
    if start > end:
        print("wegweiser: --from must not be after --to", file=sys.stderr)
        return 2
    path: Path = args.out or Path(f"wegweiser-report-{start.isoformat()}-{end.isoformat()}.csv")
    engine = create_engine(settings.resolved_database_url())
    try:
        await upgrade_to_head(engine)
        async with session_scope(create_session_factory(engine)) as session:
            figures = await report.funding_report(session, start, end, settings.zone)
    finally:
        await engine.dispose()
    try:
        report.write_csv(figures, path)
    except OSError as error:
        print(f"wegweiser: cannot write {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(report.summary_text(figures))
    print(f"\nWrote {path}.")
    return 0


async def run_retention(settings: Settings, dry_run: bool) -> int:
    engine = create_engine(settings.resolved_database_url())
    try:
        await upgrade_to_head(engine)
        sessions = audit.use_keys(create_session_factory(engine), settings.audit_keys())
        async with session_scope(sessions) as session:
            result = await retention.apply_retention(
                session, datetime.now(UTC), timedelta(days=settings.retention_days), dry_run=dry_run
            )
    finally:
        await engine.dispose()
    print(result)
    return 0


async def check_audit_log(settings: Settings, anchor_value: str | None = None) -> int:
    try:
        anchor = audit.parse_anchor(anchor_value) if anchor_value else None
    except ValueError as error:
        print(f"wegweiser: {error}", file=sys.stderr)
        return 2
    engine = create_engine(settings.resolved_database_url())
    try:
        await upgrade_to_head(engine)
        sessions = audit.use_keys(create_session_factory(engine), settings.audit_keys())
        async with session_scope(sessions) as session:
            check = await audit.verify_chain(session, anchor)
    finally:
        await engine.dispose()
    print(check)
    return 0 if check.intact else 1


async def rotate_keys(settings: Settings) -> int:
    try:
        cipher = CaseCipher(settings.case_keys())
    except KeyMissing as error:
        print(f"wegweiser: {error}", file=sys.stderr)
        return 2
    engine = create_engine(settings.resolved_database_url())
    try:
        await upgrade_to_head(engine)
        async with session_scope(create_session_factory(engine)) as session:
            rotated = await key_rotation.rotate_case_texts(session, cipher)
    except UnreadableText:
        print(
            "wegweiser: a case text cannot be decrypted with any key in WEGWEISER_CASE_DATA_KEY; "
            "nothing was changed. Keep the old key in the list (after the new one) until rotation succeeds.",
            file=sys.stderr,
        )
        return 1
    finally:
        await engine.dispose()
    print(f"Re-encrypted {rotated} case texts with the first key. You can now remove the older keys.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
