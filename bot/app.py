"""The composition root: builds the PTB Application and registers every journey in one list."""

from __future__ import annotations

import asyncio
import importlib
import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    ContextTypes,
    Defaults,
)

from bot import collector, once, startup, webhook
from bot.concurrency import PerPersonUpdateProcessor
from bot.config import Settings
from bot.metrics import Metrics
from bot.preflight import AddressInUse, listen
from bot.rate_limit import smooth_rate_limiter
from bot.request import AiohttpRequest
from handlers import (
    admin,
    admin_edit,
    advisor,
    advisor_answers,
    advisor_cancel,
    advisor_hours,
    appointments,
    audit_anchor,
    booking,
    booking_confirm,
    case_digest,
    commands,
    desk_housekeeping,
    errors,
    fallback,
    gate,
    menu,
    moving,
    news,
    news_subscription,
    offers,
    privacy,
    privacy_export,
    referrals,
    reminders,
    retention_job,
    staff,
    start,
    this_week,
    typed_answers,
    waiting,
)
from handlers.context import BotContext, BotData, Runtime
from storage import audit, claim_batches, health, jobs, search_index, updates
from storage.crypto import CaseCipher
from storage.db import create_engine, create_session_factory, session_scope
from storage.migrate import upgrade_to_head

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.web import WebServer
    from desk.services import DeskServices

log = logging.getLogger(__name__)
# /readyz fails when Telegram has not answered for this long (long polling asks every few seconds).
TELEGRAM_SILENCE_LIMIT = timedelta(minutes=2)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def file_url_for(api_url: str) -> str:
    """The Bot API file URL that belongs to a Bot API URL (``…/bot`` → ``…/file/bot``)."""
    return api_url[: -len("/bot")] + "/file/bot" if api_url.endswith("/bot") else api_url


async def build_search_index(engine: AsyncEngine) -> None:
    """Build the offer search index in the background when the bot starts, so that the first search
    need not wait for it. Its library (rapidfuzz) is imported in a worker thread: start-up does not
    wait for it either; the build holds no transaction, so nobody's reply waits for it."""
    try:
        await asyncio.to_thread(importlib.import_module, "rapidfuzz.distance")  # off the event loop
        await search_index.build(engine)
    except Exception:
        log.warning("building the search index at start-up failed; the first search builds it", exc_info=True)


def build_application(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    application_class: type[Application] = Application,
    rate_limiter: BaseRateLimiter | None = None,
    rate_limited: bool = True,
    serve_desk: bool = False,
    freeze_start_up: bool = False,
) -> Application:
    """An Application wired to the configured Bot API, database and languages.

    Sends go through PTB's rate limiter (Telegram's ~30 messages/s overall, 1/s per chat, retrying
    after a 429); benchmarks may pass ``rate_limited=False`` to measure the bot itself. With
    ``serve_desk`` the staff desk is served on the configured address while the bot runs (the demo
    mounts it on its own web server instead). With ``freeze_start_up`` (``wegweiser run`` only)
    what start-up built is frozen out of the cycle collector once it is done (``bot.collector``)."""
    if settings.telegram_token is None:
        raise ValueError("a Telegram token is required to build the application")
    engine = create_engine(settings.resolved_database_url(), hide_parameters=True)
    case_keys = settings.case_keys()
    runtime = Runtime(
        sessions=audit.use_keys(create_session_factory(engine), settings.audit_keys()),
        zone=settings.zone,
        default_language=settings.default_language,
        municipality=settings.municipality,
        clock=clock,
        policy=settings.booking_policy(),
        retention=timedelta(days=settings.retention_days),
        cipher=CaseCipher(case_keys) if case_keys else None,
        desk_url=settings.resolved_desk_url(),
    )
    metrics = Metrics()
    metrics.time_pool(engine)
    servers: list[WebServer] = []
    listening: list[socket.socket] = []  # bound before polling starts, served once it runs
    webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None

    async def readiness() -> list[str]:
        # With a webhook Telegram calls us, and a quiet night has no Bot API calls to go by.
        return await readiness_problems(runtime, metrics, expect_polling=not settings.webhook_url)

    def listen_for_web_servers() -> list[socket.socket]:
        desk = listen(settings.desk_host, settings.desk_port, "WEGWEISER_DESK_PORT")
        if not settings.metrics_port:
            return [desk]
        try:
            return [desk, listen(settings.metrics_host, settings.metrics_port, "WEGWEISER_METRICS_PORT")]
        except AddressInUse:
            desk.close()
            raise

    async def after_polling_starts(application: Application) -> None:
        await set_command_menus(application, runtime)
        if listening:
            built = await asyncio.to_thread(web_servers, application)  # loading the desk's code
            for server in built:
                servers.append(server)
                await server.start(listening.pop(0))
        if freeze_start_up:
            collector.freeze_what_lives()

    def web_servers(application: Application) -> list[WebServer]:
        """The desk (with the webhook route in webhook mode), and the metrics when they have a port."""
        from bot.web import WebServer, web_app  # the desk's code is loaded only when it is served

        routes = []
        if settings.webhook_url and webhook_secret:
            path = webhook.webhook_path(settings.webhook_url)
            routes.append(webhook.webhook_route(path, application, webhook_secret, runtime.sessions))
        desk = desk_services(runtime, application.bot.username)
        built = [WebServer(web_app(desk, readiness, routes), settings.desk_host, settings.desk_port)]
        if settings.metrics_port:
            metrics_app = metrics.web_app(runtime.sessions)
            built.append(
                WebServer(metrics_app, settings.metrics_host, settings.metrics_port, "WEGWEISER_METRICS_PORT")
            )
        return built

    background: list[asyncio.Task[None]] = []

    async def build_index_once_running(application: Application) -> None:
        # After polling has begun: the build's CPU does not delay the first getUpdates.
        while not application.running:
            await asyncio.sleep(startup.RUNNING_CHECK_SECONDS)
        await build_search_index(engine)
        if freeze_start_up:
            collector.freeze_what_lives()  # the index lives as long as the process, too

    async def on_start(application: Application) -> None:
        await upgrade_to_head(engine)
        background.append(asyncio.create_task(build_index_once_running(application)))
        if settings.webhook_url:
            await set_command_menus(application, runtime)
            if serve_desk:
                servers.extend(web_servers(application))
                for server in servers:
                    await server.start()
        else:
            # Long polling asks for updates without waiting for the menus and the desk (bot.startup);
            # the ports are taken now, so a taken one still stops the bot before it polls.
            listening.extend(listen_for_web_servers() if serve_desk else [])
            startup.once_running(application, partial(after_polling_starts, application))
        if settings.webhook_url and webhook_secret:
            await webhook.set_webhook(application.bot, settings.webhook_url, webhook_secret, ALLOWED_UPDATES)
        if application.job_queue is not None:
            application.job_queue.run_repeating(
                forget_old_updates,
                interval=timedelta(hours=6),
                first=timedelta(minutes=1),
                name="forget-old-updates",
                job_kwargs={"id": "forget-old-updates", "replace_existing": True},
            )
            admin.schedule_jobs(application.job_queue, runtime.zone)
            advisor.schedule_jobs(application.job_queue, runtime, settings.agenda_digest_time)
            reminders.schedule_jobs(application.job_queue, settings.reminder_interval_seconds)
            news.schedule_jobs(application.job_queue, settings.reminder_interval_seconds)
            case_digest.schedule_jobs(application.job_queue, runtime.zone)
            retention_job.schedule_jobs(application.job_queue, runtime.zone)
            commands.schedule_jobs(application.job_queue)  # staff's own command menus, now and on
            desk_housekeeping.schedule_jobs(application.job_queue, runtime.zone)
            audit_anchor.schedule_jobs(application.job_queue, runtime.zone, settings.audit_anchor_file)
            # Several instances may run these schedules: each occurrence is claimed in the database
            # (but the staff-menu sync, which each instance runs for the menus it has set itself, and
            # the reminder and news dispatchers, which claim their rows with SKIP LOCKED).
            once.claim_each_occurrence(
                application.job_queue,
                once.instance_name(),
                except_jobs={reminders.JOB_ID, news.JOB_ID, commands.SYNC_JOB},
            )
            if settings.webhook_url:
                application.job_queue.run_repeating(
                    requeue_stranded,
                    interval=webhook.STRANDED_AFTER / 2,
                    first=webhook.STRANDED_AFTER / 2,
                    name=webhook.STRANDED_JOB,
                    job_kwargs={"id": webhook.STRANDED_JOB, "replace_existing": True, "max_instances": 1},
                )
        if freeze_start_up and settings.webhook_url:  # long polling freezes once its start-up is done
            collector.freeze_what_lives()

    async def on_stop(application: Application) -> None:
        await startup.cancel(application)
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        for server in servers:
            await server.stop()
        for unserved in listening:
            unserved.close()
        await claim_batches.close(runtime.sessions)
        await engine.dispose()

    builder = ApplicationBuilder()
    if settings.webhook_url:
        builder = builder.updater(None)  # updates arrive on the web server
    if rate_limited:
        builder = builder.rate_limiter(rate_limiter or smooth_rate_limiter())
    application = (
        builder.application_class(application_class)
        .token(settings.telegram_token.get_secret_value())
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .base_url(settings.telegram_api_url)
        .base_file_url(file_url_for(settings.telegram_api_url))
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings.zone,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(
            metrics.observe_updates(
                webhook.PersonTurns(
                    PerPersonUpdateProcessor(16), runtime.sessions, lambda: application.running
                )
                if settings.webhook_url
                else PerPersonUpdateProcessor(16)
            )
        )
        .post_init(on_start)
        .post_shutdown(on_stop)
        .build()
    )
    application.bot_data.runtime = runtime
    register_handlers(application)
    metrics.instrument(application)
    return application


async def readiness_problems(runtime: Runtime, metrics: Metrics, *, expect_polling: bool = True) -> list[str]:
    """Why this instance should not receive traffic yet (empty when it is ready). Long polling asks
    Telegram every few seconds, so a silent Telegram is a problem there; with a webhook it is not."""
    problems = []
    try:
        async with runtime.sessions() as session:
            state = await health.schema_state(await session.connection())
        if not state.at_head:
            problems.append("database: migrations are not at head")
    except Exception as error:  # any failure to ask means the database is not usable
        problems.append(f"database: unreachable ({type(error).__name__})")
    silence = metrics.seconds_since_telegram()
    if expect_polling and (silence is None or silence > TELEGRAM_SILENCE_LIMIT.total_seconds()):
        problems.append("telegram: no answer recently")
    return problems


def desk_services(runtime: Runtime, bot_username: str | None) -> DeskServices:
    """What the staff desk needs, from the same runtime the bot uses."""
    from bot import posters  # Jinja2 and the QR code: loaded only where the desk is served
    from desk.services import DeskServices

    return DeskServices(
        sessions=runtime.sessions,
        zone=runtime.zone,
        clock=runtime.clock,
        policy=runtime.policy,
        municipality=runtime.municipality,
        public_url=runtime.desk_url,
        cipher=runtime.cipher,
        bot_username=bot_username,
        poster_pdf=(
            partial(posters.poster_pdf, bot_username, municipality=runtime.municipality, zone=runtime.zone)
            if bot_username
            else None
        ),
        news_preview=partial(news.preview, runtime.municipality, runtime.zone),
    )


def register_handlers(application: Application) -> None:
    """Every journey, in one visible list. Each button is its own action (``handlers.buttons``),
    and the main menu routes through one table (``handlers.menu``), so the order of journeys does
    not matter; only the catch-alls in ``fallback`` must come last."""
    application.add_handlers(gate.gate_handlers(), group=gate.GATE_GROUP)
    application.add_handlers(errors.step_handlers(), group=errors.STEP_GROUP)
    application.add_handlers(
        [
            *gate.handlers(),
            *start.handlers(),
            *menu.handlers(),
            *offers.handlers(),
            *this_week.handlers(),
            *referrals.handlers(),
            *booking.handlers(),
            *booking_confirm.handlers(),
            *appointments.handlers(),
            *moving.handlers(),
            *privacy.handlers(),
            *privacy_export.handlers(),
            *news_subscription.handlers(),
            *advisor.handlers(),
            *advisor_cancel.handlers(),
            *advisor_hours.handlers(),
            *staff.handlers(),
            *admin.handlers(),
            *admin_edit.handlers(),
            # Free text answers an open question of a journey, or else it is a search.
            *typed_answers.handlers(
                {**admin_edit.TYPED_ANSWERS, **advisor_answers.TYPED_ANSWERS}, otherwise=offers.search
            ),
            *fallback.handlers(),
        ],
        group=errors.JOURNEY_GROUP,
    )
    # After the journeys: what waited for a staff member who had not started the bot yet.
    application.add_handlers(waiting.handlers(), group=waiting.DELIVERY_GROUP)
    application.add_error_handler(errors.on_error)


async def set_command_menus(application: Application, runtime: Runtime) -> None:
    """The command menu in every language, and in the default language for all other phones."""
    try:
        await commands.set_public_menus(application.bot, runtime)
    except TelegramError as error:
        log.warning("could not set the command menus: %s", type(error).__name__)


async def forget_old_updates(context: BotContext) -> None:
    """Job: drop processed update ids older than any redelivery, and old job claims."""
    async with session_scope(context.runtime.sessions) as session:
        removed = await updates.forget_old_updates(session, context.now())
        runs = await jobs.forget_old_runs(session, context.now())
    log.info("forgot %s processed update ids and %s job runs", removed, runs)


async def requeue_stranded(context: BotContext) -> None:
    """Job (webhook mode, every instance): handle updates an instance recorded but never started."""
    await webhook.requeue_stranded(context.application, context.runtime.sessions)


@asynccontextmanager
async def polling(application: Application, poll_timeout: int = 10) -> AsyncIterator[Application]:
    """Run the application inside an existing event loop (demo, tests, benchmarks) the way
    ``run_polling`` would, and shut it down cleanly afterwards."""
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
    )
    try:
        await startup.finished(application)  # the menus and web servers, as run_polling has them soon
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


def run_polling(application: Application) -> None:
    """Run against Telegram until interrupted (``wegweiser run``), or until what starts after
    polling fails (``bot.startup``), which is then raised."""
    startup.stop_on_failure(application)
    application.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
    startup.raise_failure(application)
