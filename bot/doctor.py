"""``wegweiser check``: a doctor for operators. Each check is a row of a table; the command exits 0
when every row is ok, 1 otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings, database_label, unknown_names
from bot.preflight import StartupProblem, database_problem, wait_for_telegram
from storage import audit, health, outbox
from storage.crypto import CaseCipher, KeyMissing
from storage.db import SessionFactory, create_engine, create_session_factory, session_scope

OK = "ok"
FAIL = "FAIL"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str


def table(checks: list[Check]) -> str:
    """The checks as an aligned plain-text table."""
    width = max(len("CHECK"), *(len(check.name) for check in checks))
    lines = [f"{'CHECK':<{width}}  {'STATUS':<7}  DETAIL"]
    lines += [f"{check.name:<{width}}  {check.status:<7}  {check.detail}" for check in checks]
    return "\n".join(lines)


def configuration_check(env_file: Path | None) -> Check:
    source = f"settings from {env_file}" if env_file else "settings from the environment only (no env file)"
    unknown = unknown_names(env_file)
    if unknown:
        return Check("configuration", FAIL, f"{source}; not a setting: {', '.join(unknown)}")
    return Check("configuration", OK, source)


def desk_url_check(settings: Settings) -> Check:
    url = settings.resolved_desk_url()
    if not url.startswith("https://"):
        return Check(
            "desk address", FAIL, f"WEGWEISER_DESK_URL is {url}; staff must reach the desk over https"
        )
    return Check("desk address", OK, url)


async def telegram_check(settings: Settings) -> Check:
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
        return Check("telegram", FAIL, "WEGWEISER_TELEGRAM_TOKEN is not set")
    try:
        me = await wait_for_telegram(settings, attempts=1)
    except StartupProblem as problem:
        return Check("telegram", FAIL, str(problem))
    return Check("telegram", OK, f"getMe answers: @{me.username}")


async def database_checks(settings: Settings, url: str) -> list[Check]:
    """Database reachable, schema at head, case key fits the canary, staff reachable."""
    engine = create_engine(url, hide_parameters=True)
    try:
        return await _database_checks(settings, engine, url)
    finally:
        await engine.dispose()


async def _database_checks(settings: Settings, engine: AsyncEngine, url: str) -> list[Check]:
    label = database_label(url)
    try:
        async with engine.connect() as connection:
            state = await health.schema_state(connection)
    except Exception as error:
        line = database_problem(error, url) or f"{label}: {type(error).__name__}"
        skipped = [
            Check(name, SKIPPED, "needs the database")
            for name in ("migrations", "case key", "audit key", "staff")
        ]
        return [Check("database", FAIL, line), *skipped]
    checks = [Check("database", OK, label)]
    if not state.at_head:
        current = ", ".join(state.current) or "empty"
        checks.append(
            Check(
                "migrations",
                FAIL,
                f"at {current}, newest is {', '.join(state.head)}: run `wegweiser db upgrade`",
            )
        )
        checks += [
            Check(name, SKIPPED, "needs the migrations") for name in ("case key", "audit key", "staff")
        ]
        return checks
    checks.append(Check("migrations", OK, f"at head ({', '.join(state.head)})"))
    sessions = create_session_factory(engine)
    checks.append(await _case_key_check(settings, sessions))
    checks.append(await _audit_key_check(settings, create_session_factory(engine)))
    async with session_scope(sessions) as session:
        unreachable = await health.unreachable_staff(session)
        waiting = {entry.person_id: entry.count for entry in await outbox.undelivered(session)}
        staff_count = len(await health.staff(session))
    if unreachable:
        described = "; ".join(
            f"{person.staff_name} ({person.telegram_id}) {health.reachability(person)}"
            + (f", {waiting[person.id]} notifications waiting" if waiting.get(person.id) else "")
            for person in unreachable
        )
        checks.append(Check("staff", FAIL, f"not reachable in Telegram: {described}"))
    elif staff_count == 0:
        checks.append(Check("staff", FAIL, "no staff yet: wegweiser staff invite --role admin --name NAME"))
    else:
        checks.append(Check("staff", OK, f"all {staff_count} staff can be reached in Telegram"))
    return checks


async def _case_key_check(settings: Settings, sessions: object) -> Check:
    try:
        cipher = CaseCipher(settings.case_keys())
    except KeyMissing as error:
        return Check("case key", FAIL, str(error))
    async with session_scope(sessions) as session:  # type: ignore[arg-type]
        fits = await health.case_key_fits(session, cipher, datetime.now(UTC))
    if not fits:
        return Check(
            "case key",
            FAIL,
            "WEGWEISER_CASE_DATA_KEY does not decrypt the stored case texts (wrong or missing key)",
        )
    return Check("case key", OK, "decrypts the stored canary")


async def _audit_key_check(settings: Settings, sessions: SessionFactory) -> Check:
    keys = settings.audit_keys()  # their length is checked with the configuration
    if not keys:
        return Check(
            "audit key",
            FAIL,
            "WEGWEISER_AUDIT_KEY is not set: create one with `wegweiser keys new` "
            "(a different one from the case-data key)",
        )
    async with session_scope(audit.use_keys(sessions, keys)) as session:
        known = await audit.newest_entry_key_known(session)
    if not known:
        return Check(
            "audit key",
            FAIL,
            "the newest audit entry was signed with a key that is not in WEGWEISER_AUDIT_KEY: "
            "keep the previous key after the new one (comma-separated)",
        )
    return Check("audit key", OK, "signs new entries; the newest entry was signed with a configured key")


async def run_checks(settings: Settings, env_file: Path | None) -> list[Check]:
    """Every check, in the order an operator fixes things."""
    url = settings.resolved_database_url()
    return [
        configuration_check(env_file),
        *await database_checks(settings, url),
        await telegram_check(settings),
        desk_url_check(settings),
    ]
