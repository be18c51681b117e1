"""The ``wegweiser`` command: run, demo, check, database migrations, backups, staff, offers, the
funding report, retention, the audit log and case-data keys.

Every command that touches the database names it on stderr first; every configuration or
connection problem ends in one line naming the setting and exit status 2.

Only what ``run`` needs is imported at the top: each other command imports its own modules (the offer
file reader, the report, retention, backups, …), so the bot starts without loading them."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from sqlalchemy.engine import make_url

from bot import collector, posters, staff_cli
from bot.config import (
    Settings,
    SettingsError,
    chosen_env_file,
    database_label,
    load_settings,
    unknown_names,
)
from bot.logs import configure_logging
from bot.preflight import (
    AddressInUse,
    StartupProblem,
    address_free,
    database_problem,
    telegram_problem,
    wait_for_telegram,
)
from storage import health
from storage.crypto import CaseCipher, KeyMissing, UnreadableText, new_key
from storage.db import create_engine, create_session_factory, session_scope
from storage.migrate import upgrade_to_head

log = logging.getLogger("wegweiser")


def wegweiser_version() -> str:
    try:
        return version("wegweiser")
    except PackageNotFoundError:
        return "unknown"


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
    parser.add_argument("--version", action="version", version=f"wegweiser {wegweiser_version()}")
    parser.add_argument(
        "--env-file",
        type=Path,
        metavar="FILE",
        help="read settings from FILE (default: $WEGWEISER_ENV_FILE, else ./.env when it exists)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run", help="run the bot against Telegram (long polling, or webhook with WEGWEISER_WEBHOOK_URL)"
    )
    demo = commands.add_parser(
        "demo", help="run the bot in the local sandbox with a chat page (its own database, never yours)"
    )
    demo.add_argument("--port", type=int, default=8080, help="port of the chat page (default 8080)")
    commands.add_parser(
        "check", help="check configuration, database, key, Telegram and staff (exit 1 on a problem)"
    )

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_commands.add_parser("upgrade", help="apply all database migrations")
    backup_parser = commands.add_parser("backup", help="write a consistent copy of the database to FILE")
    backup_parser.add_argument("file", type=Path, metavar="FILE")
    restore_parser = commands.add_parser("restore", help="restore a backup into an empty database")
    restore_parser.add_argument("file", type=Path, metavar="FILE")

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
    if args.command != "run":
        collector.turn_on()  # `run` goes on loading until its start-up is over (bot.collector)
    try:
        env_file = chosen_env_file(args.env_file)
        settings = load_settings(env_file)
    except SettingsError as error:
        print(f"wegweiser: invalid configuration\n{error}", file=sys.stderr)
        return 2
    for name in unknown_names(env_file):
        print(f"wegweiser: warning: {name} is not a Wegweiser setting and is ignored", file=sys.stderr)
    secret = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    configure_logging(settings.log_level, secrets=(secret, webhook_secret), log_format=settings.log_format)
    if args.command == "keys" and args.keys_command == "new":
        print(new_key())
        return 0
    if args.command == "demo":
        return demo(settings, args.port)
    try:
        url = settings.resolved_database_url()
    except OSError as error:
        print(
            f"wegweiser: WEGWEISER_DATA_DIR: cannot create {settings.data_dir}: {error.strerror}",
            file=sys.stderr,
        )
        return 2
    print(f"wegweiser: database {describe_database(url)}; {describe_env_file(env_file)}", file=sys.stderr)
    try:
        return dispatch(settings, args, env_file)
    except StartupProblem as problem:
        print(f"wegweiser: {problem}", file=sys.stderr)
        return 2
    except Exception as error:
        line = database_problem(error, url) or telegram_problem(error)
        if line is None:
            # Through the privacy filter: code locations only, the token redacted.
            log.error("wegweiser %s failed with %s", args.command, type(error).__name__, exc_info=error)
            return 1
        print(f"wegweiser: {line}", file=sys.stderr)
        return 2


def describe_database(url: str) -> str:
    """The database line's subject; a SQLite file that does not exist yet is called new."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        return f"{database_label(url)} (new: it does not exist yet)"
    return database_label(url)


def describe_env_file(env_file: Path | None) -> str:
    return f"settings from {env_file}" if env_file else "no env file (settings from the environment only)"


def dispatch(settings: Settings, args: argparse.Namespace, env_file: Path | None) -> int:
    """Run the chosen command (the database line has been printed)."""
    if args.command == "run":
        return run(settings)
    if args.command == "check":
        return check(settings, env_file)
    if args.command == "db":
        asyncio.run(db_upgrade(settings))
        print("The database is up to date.")
        return 0
    if args.command == "backup":
        return asyncio.run(make_backup(settings, args.file))
    if args.command == "restore":
        return asyncio.run(restore_backup(settings, args.file))
    if args.command == "offers":
        return asyncio.run(manage_offers(settings, args))
    if args.command == "report":
        return asyncio.run(write_report(settings, args))
    if args.command == "retention":
        return asyncio.run(run_retention(settings, args.dry_run))
    if args.command == "audit":
        return asyncio.run(check_audit_log(settings, args.anchor))
    if args.command == "keys":
        return asyncio.run(rotate_keys(settings))
    if args.command == "hours":
        return asyncio.run(staff_cli.manage_hours(settings, args))
    if args.command == "poster":
        return asyncio.run(posters.write_poster(settings, args))
    if args.staff_command == "invite":
        return asyncio.run(invite_staff(settings, args.role, args.name))
    return asyncio.run(staff_cli.manage_staff(settings, args))


def demo(settings: Settings, port: int) -> int:
    """``wegweiser demo``: always on a database of its own (see ``bot.demo``)."""
    from bot.demo import demo_database_url, run_demo

    print(f"wegweiser: demo database {database_label(demo_database_url(settings))}", file=sys.stderr)
    try:
        asyncio.run(run_demo(settings, port))
    except OSError as error:
        print(f"wegweiser: {error} Choose another one with --port.", file=sys.stderr)
        return 1
    return 0


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
    try:
        cipher = CaseCipher(settings.case_keys())
    except KeyMissing as error:
        raise StartupProblem(str(error)) from None
    address_free(settings.desk_host, settings.desk_port, "WEGWEISER_DESK_PORT")
    if settings.metrics_port:
        address_free(settings.metrics_host, settings.metrics_port, "WEGWEISER_METRICS_PORT")
    username = asyncio.run(prepare_run(settings, cipher))
    application = build_application(settings, serve_desk=True, freeze_start_up=True)
    log.info("%s", startup_line(settings, username))
    try:
        if settings.webhook_url:
            from bot.webhook import run_webhook

            asyncio.run(run_webhook(application))
        else:
            run_polling(application)
    except AddressInUse as error:
        raise StartupProblem(str(error)) from None
    return 0


async def prepare_run(settings: Settings, cipher: CaseCipher) -> str:
    """Before the bot starts: the database is migrated, the case key fits the stored texts, and
    Telegram answers (retried with backoff). Returns the bot's username."""
    engine = create_engine(settings.resolved_database_url(), hide_parameters=True)
    try:
        await upgrade_to_head(engine)
        async with session_scope(create_session_factory(engine)) as session:
            fits = await health.case_key_fits(session, cipher, datetime.now(UTC))
    finally:
        await engine.dispose()
    if not fits:
        raise StartupProblem(
            "WEGWEISER_CASE_DATA_KEY: the configured keys cannot decrypt the stored case texts "
            "(wrong key, or the old key was removed before `wegweiser keys rotate`)"
        )
    me = await wait_for_telegram(settings)
    return me.username or ""


def startup_line(settings: Settings, username: str) -> str:
    """The one start-up line: version, mode, bot, database (masked), desk and metrics addresses."""
    mode = f"webhook {settings.webhook_url}" if settings.webhook_url else "long polling"
    metrics = (
        f"http://{settings.metrics_host}:{settings.metrics_port}/metrics" if settings.metrics_port else "off"
    )
    return (
        f"wegweiser {wegweiser_version()} starting: mode {mode}, bot @{username}, "
        f"database {database_label(settings.resolved_database_url())}, "
        f"desk {settings.resolved_desk_url()} (listening on {settings.desk_host}:{settings.desk_port}), "
        f"metrics {metrics}"
    )


def check(settings: Settings, env_file: Path | None) -> int:
    """``wegweiser check``: the doctor's table; 0 when all is well, 1 otherwise."""
    from bot.doctor import FAIL, run_checks, table

    checks = asyncio.run(run_checks(settings, env_file))
    print(table(checks))
    return 1 if any(item.status == FAIL for item in checks) else 0


async def make_backup(settings: Settings, target: Path) -> int:
    from storage import backup

    url = settings.resolved_database_url()
    engine = create_engine(url, hide_parameters=True)
    try:
        # A backup of an unreachable or unmigrated database is refused with the usual one line.
        async with engine.connect() as connection:
            state = await health.schema_state(connection)
    finally:
        await engine.dispose()
    try:
        await asyncio.to_thread(backup.backup, url, target)
    except backup.BackupError as error:
        print(f"wegweiser: {error}", file=sys.stderr)
        return 1
    print(
        f"Wrote the backup {target} (schema {', '.join(state.current) or 'empty'}). Case texts in it "
        "are encrypted: keep WEGWEISER_CASE_DATA_KEY safe, separately from the backup."
    )
    return 0


async def restore_backup(settings: Settings, source: Path) -> int:
    from storage import backup

    url = settings.resolved_database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, hide_parameters=True)
    try:
        empty = await backup.database_is_empty(engine)
    finally:
        await engine.dispose()
    try:
        await asyncio.to_thread(backup.restore, url, source, empty)
    except backup.BackupError as error:
        print(f"wegweiser: {error}", file=sys.stderr)
        return 1
    engine = create_engine(url, hide_parameters=True)
    try:
        await upgrade_to_head(engine)  # a backup of an older version is brought up to date
    finally:
        await engine.dispose()
    print(f"Restored {source}. Check it with: wegweiser audit check && wegweiser check")
    return 0


async def invite_staff(settings: Settings, role: str, name: str) -> int:
    """``wegweiser staff invite``: the same single-use link as the desk's invitations."""
    from storage import invites

    if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
        raise StartupProblem("WEGWEISER_TELEGRAM_TOKEN: needed for the link (it names the bot)")
    me = await wait_for_telegram(settings, attempts=3)
    engine = create_engine(settings.resolved_database_url(), hide_parameters=True)
    try:
        await upgrade_to_head(engine)
        async with session_scope(create_session_factory(engine)) as session:
            try:
                token = await invites.create_operator_invite(session, role, name, datetime.now(UTC))
            except invites.InvalidInvite:
                print("wegweiser: a staff name needs 1 to 100 characters", file=sys.stderr)
                return 2
    finally:
        await engine.dispose()
    print(f"https://t.me/{me.username}?start=invite_{token}")
    print(
        f"Send this link to {name.strip()}. It works once, for {invites.INVITE_VALID.days} days, and "
        f"makes whoever opens it {role}.",
        file=sys.stderr,
    )
    return 0


async def db_upgrade(settings: Settings) -> None:
    engine = create_engine(settings.resolved_database_url())
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


async def manage_offers(settings: Settings, args: argparse.Namespace) -> int:
    from storage import offer_files

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
    from storage import report

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
    from storage import audit, retention

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
    from storage import audit

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
    from storage import key_rotation

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
