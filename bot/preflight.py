"""What ``wegweiser`` checks before it starts, and how it words a problem: one line that names the
setting to change, never a traceback, never the token."""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
from collections.abc import Awaitable, Callable

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from telegram import Bot, User
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.config import Settings, database_label
from bot.request import AiohttpRequest

log = logging.getLogger(__name__)
DATABASE = "WEGWEISER_DATABASE_URL"


class StartupProblem(Exception):
    """A configuration or connection problem, worded as the one line the operator sees."""


class AddressInUse(OSError):
    """The configured address cannot be listened on; ``setting`` names the setting to change. (Raised
    by ``bot.web``'s servers; defined here so that ``wegweiser run`` can catch it without loading the
    web server's code before the desk is served.)"""

    def __init__(self, setting: str, host: str, port: int) -> None:
        super().__init__(f"{setting}: cannot listen on {host}:{port} (the port is in use or not allowed)")
        self.setting = setting


def _causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return chain


def database_problem(error: BaseException, url: str) -> str | None:
    """The one line for a database connection problem, or ``None`` when ``error`` is none."""
    parsed = make_url(url)
    where = database_label(url)
    if parsed.get_backend_name() == "sqlite":
        if any(isinstance(cause, sqlite3.OperationalError) for cause in _causes(error)):
            return f"{DATABASE} / WEGWEISER_DATA_DIR: cannot open {where} (folder missing or read-only?)"
        return None
    import asyncpg  # PostgreSQL's driver, loaded by the engine already when its errors are asked about

    server = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    for cause in _causes(error):
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            return (
                f"{DATABASE}: the database {parsed.database!r} does not exist on {server} "
                f"(create it: createdb -O {parsed.username or 'wegweiser'} {parsed.database})"
            )
        if isinstance(cause, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):
            return f"{DATABASE}: PostgreSQL at {server} refused user {parsed.username!r} (user or password)"
        if isinstance(cause, socket.gaierror):
            return f"{DATABASE}: the host {parsed.host!r} is unknown"
        if isinstance(cause, OSError | asyncio.TimeoutError):
            return f"{DATABASE}: no PostgreSQL server answers at {server} ({type(cause).__name__})"
        if isinstance(cause, asyncpg.PostgresError):
            return f"{DATABASE}: PostgreSQL at {server} refused the connection ({type(cause).__name__})"
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return f"{DATABASE}: the connection to {server} was lost"
    return None


def telegram_problem(error: BaseException) -> str | None:
    """The one line for Telegram refusing or dropping out while the bot starts, else ``None``."""
    if isinstance(error, InvalidToken):
        return "WEGWEISER_TELEGRAM_TOKEN: Telegram rejected the token; copy it again from @BotFather"
    if isinstance(error, NetworkError | RetryAfter):
        return (
            f"WEGWEISER_TELEGRAM_API_URL: Telegram stopped answering during start-up ({type(error).__name__})"
        )
    return None


async def wait_for_telegram(
    settings: Settings,
    *,
    attempts: int = 10,
    first_delay: float = 1.0,
    max_delay: float = 60.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> User:
    """Ask Telegram who the bot is (``getMe``), retrying a Telegram that does not answer with
    growing pauses and one log line per attempt. A rejected token or a Telegram that never answers
    becomes a ``StartupProblem``."""
    assert settings.telegram_token is not None
    delay = first_delay
    for attempt in range(1, attempts + 1):
        # The bot's own transport: PTB's default (httpx) would cost two more clients to set up.
        bot = Bot(
            settings.telegram_token.get_secret_value(),
            base_url=settings.telegram_api_url,
            request=AiohttpRequest(connection_pool_size=1),
            get_updates_request=AiohttpRequest(connection_pool_size=1),
        )
        try:
            async with bot:
                return bot.bot
        except InvalidToken as error:
            raise StartupProblem(telegram_problem(error)) from None
        except (NetworkError, RetryAfter) as error:  # TimedOut is a NetworkError too
            if attempt == attempts:
                break
            log.warning(
                "Telegram did not answer (attempt %s of %s, %s); trying again in %.0f s",
                attempt,
                attempts,
                type(error).__name__,
                delay,
            )
            await sleep(delay)
            delay = min(delay * 2, max_delay)
        except TelegramError as error:
            raise StartupProblem(
                f"WEGWEISER_TELEGRAM_API_URL: the Bot API refused getMe ({type(error).__name__})"
            ) from None
    raise StartupProblem(
        f"WEGWEISER_TELEGRAM_API_URL: Telegram did not answer after {attempts} attempts; "
        "check the network and the address"
    )


def listen(host: str, port: int, setting: str) -> socket.socket:
    """A socket listening on ``host:port`` for a web server to serve on; ``AddressInUse`` naming
    ``setting`` when the address cannot be listened on."""
    try:
        return socket.create_server((host, port))
    except OSError:
        raise AddressInUse(setting, host, port) from None


def address_free(host: str, port: int, setting: str) -> None:
    """Raise a ``StartupProblem`` naming ``setting`` when ``host:port`` cannot be listened on."""
    try:
        probe = socket.create_server((host, port))
    except OSError:
        raise StartupProblem(
            f"{setting}: cannot listen on {host}:{port} (another program uses the port, or the address "
            "is not this machine's)"
        ) from None
    probe.close()
