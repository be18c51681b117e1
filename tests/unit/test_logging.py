"""Logs never carry the bot token or the text of an exception (which may quote personal data)."""

from __future__ import annotations

import io
import logging

from bot.logs import PrivacyFormatter

TOKEN = "123456:SECRET-token-value"


def render(record_message: str, *args: object, exc: BaseException | None = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PrivacyFormatter((TOKEN,)))
    logger = logging.getLogger("test.privacy")
    logger.handlers[:] = [handler]
    logger.propagate = False
    if exc is not None:
        try:
            raise exc
        except BaseException:
            logger.exception(record_message, *args)
    else:
        logger.warning(record_message, *args)
    return stream.getvalue()


def test_the_token_is_redacted_wherever_it_appears() -> None:
    text = render("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    assert TOKEN not in text
    assert "[redacted]" in text


def test_tracebacks_keep_locations_but_drop_exception_messages() -> None:
    marker = "Amira Haddad, Hauptstraße 5"
    text = render("update %s failed", 7, exc=ValueError(f"could not store {marker}"))
    assert marker not in text
    assert "builtins.ValueError" in text
    assert "test_logging.py" in text


def test_debug_logging_keeps_libraries_that_log_payloads_quiet() -> None:
    from bot.logs import configure_logging

    root = logging.getLogger()
    saved = (root.level, root.handlers[:])
    try:
        configure_logging("DEBUG", secrets=(TOKEN,))
        assert logging.getLogger("telegram.ext.ExtBot").getEffectiveLevel() == logging.INFO
        for name in ("sqlalchemy.engine.Engine", "aiosqlite", "asyncpg", "httpx"):
            assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name
        assert logging.getLogger("handlers.booking").getEffectiveLevel() == logging.DEBUG
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name in ("telegram", "aiosqlite", "asyncpg", "sqlalchemy", "httpx", "httpcore", "alembic"):
            logging.getLogger(name).setLevel(logging.NOTSET)
