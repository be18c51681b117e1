"""``wegweiser demo``: the sandbox, the bot against it and the chat page, with no token and no internet."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import build_application, desk_services, polling
from bot.config import Settings
from bot.sandbox import RunningSandbox, Sandbox, new_world, serve
from desk.app import create_desk
from storage import advisors, offer_files, people
from storage.crypto import new_key
from storage.db import create_engine, create_session_factory, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Role

SAMPLE_OFFERS = Path(offer_files.__file__).parent / "sample_data" / "offers.yaml"


@dataclass(frozen=True)
class DemoPerson:
    telegram_id: int
    first_name: str
    language_code: str
    label: str
    role: Role = Role.REFUGEE


# The demo advisor's weekly hours (0 = Monday): mornings Monday to Thursday, Tuesday afternoon too.
DEMO_HOURS = {0: "09:00-12:00", 1: "09:00-12:00, 14:00-17:00", 2: "09:00-12:00", 3: "09:00-12:00"}

DEMO_PEOPLE = (
    DemoPerson(1001, "Amira", "ar", "Refugee · Arabic phone"),
    DemoPerson(1002, "Olena", "uk", "Refugee · Ukrainian phone"),
    DemoPerson(2001, "Anna", "de", "Advisor (Integrationsmanagerin)", Role.ADVISOR),
    DemoPerson(2002, "Jonas", "de", "Admin (Integrationsbeauftragter)", Role.ADMIN),
)


def demo_case_key(data_dir: Path, name: str = "demo-case-data.key") -> str:
    """The demo's own case-data (or audit) key, kept in its data directory (never used outside the demo)."""
    path = data_dir / name
    if not path.exists():
        path.write_text(new_key(), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


def demo_database_url(settings: Settings) -> str:
    """The demo's own SQLite database in the data directory. The configured database is never used:
    the demo makes staff (one of them an admin) and example offers that must not reach real data."""
    return f"sqlite+aiosqlite:///{settings.data_dir.resolve() / 'demo.sqlite3'}"


def demo_settings(settings: Settings, running: RunningSandbox) -> Settings:
    """The operator's settings, pointed at the sandbox, a demo database and demo keys of its own (no
    audit anchor file: the demo's audit log must not be anchored next to the real one)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.model_copy(
        update={
            "telegram_token": SecretStr(running.sandbox.primary.token),
            "telegram_api_url": running.api_url,
            "database_url": demo_database_url(settings),
            "desk_url": f"{running.base_url}/desk",
            "case_data_key": SecretStr(demo_case_key(settings.data_dir)),
            "audit_key": SecretStr(demo_case_key(settings.data_dir, "demo-audit.key")),
            "audit_anchor_file": None,
        }
    )


async def prepare_demo_database(database_url: str) -> None:
    """Migrate the demo database, load the sample offer directory (example data) and make the
    demo's advisor and admin staff."""
    engine = create_engine(database_url)
    try:
        await upgrade_to_head(engine)
        async with session_scope(create_session_factory(engine)) as session:
            await offer_files.import_offers(
                session, SAMPLE_OFFERS, datetime.now(UTC), source="demo sample data"
            )
            for person in DEMO_PEOPLE:
                if person.role != Role.REFUGEE:
                    staff = await people.add_staff(
                        session,
                        person.telegram_id,
                        person.role,
                        person.first_name,
                        datetime.now(UTC),
                    )
                    if person.role == Role.ADVISOR:
                        await give_demo_consultation_hours(session, staff.id)
    finally:
        await engine.dispose()


async def give_demo_consultation_hours(session: AsyncSession, advisor_id: int) -> None:
    """Hours, languages and place for the demo advisor, so people can book at once. Only what is
    still unset is filled in: a rerun adds nothing twice and keeps what was changed with /hours."""
    if not await advisors.weekly_hours(session, advisor_id):
        for weekday, ranges in DEMO_HOURS.items():
            await advisors.set_weekly_hours(session, advisor_id, weekday, ranges)
    profile = await advisors.profile(session, advisor_id)
    profile.languages = profile.languages or ["de", "en", "ar"]
    profile.place = profile.place or "Rathaus Hemmingen, Zimmer 12 (Beispiel)"


async def run_demo(settings: Settings, port: int, ready: asyncio.Event | None = None) -> None:
    """Serve the sandbox and chat page on 127.0.0.1:port and run the bot until interrupted."""
    world = new_world()
    for person in DEMO_PEOPLE:
        world.add_person(person.telegram_id, person.first_name, person.language_code, person.label)
    running = await serve(Sandbox({world.token: world}), port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        configured = demo_settings(settings, running)
        await prepare_demo_database(configured.resolved_database_url())
        application = build_application(configured)
        async with polling(application):
            runtime = application.bot_data.runtime
            assert runtime is not None
            running.mount("/desk", create_desk(desk_services(runtime, application.bot.username)))
            print(f"Wegweiser demo is running: open {running.base_url}/ in your browser.", flush=True)
            print("Press Ctrl+C to stop.", flush=True)
            if ready is not None:
                ready.set()
            await stop.wait()
    finally:
        await running.stop()
