"""Logging that keeps the bot token and personal data out of every log line."""

from __future__ import annotations

import json
import logging
import traceback
from types import TracebackType

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# These log payloads (updates, messages, statements with their values) below the level given here.
PAYLOAD_LOGGERS = {
    "telegram": logging.INFO,
    "aiosqlite": logging.WARNING,
    "asyncpg": logging.WARNING,
    "sqlalchemy": logging.WARNING,
}


class PrivacyFormatter(logging.Formatter):
    """Formats tracebacks with code locations only: exception messages can quote personal data
    (a name in a failed INSERT, a person's text in a parse error), so only their type is shown."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(_FORMAT)
        self._secrets = tuple(secret for secret in secrets if secret)

    def formatException(
        self, ei: tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, ...]
    ) -> str:
        exc_type, exc, tb = ei
        if exc_type is None or exc is None:
            return ""
        lines = ["Traceback (most recent call last):\n", *traceback.format_tb(tb)]
        cause = exc.__cause__ or exc.__context__
        if cause is not None:
            lines.append(f"(caused by {type(cause).__module__}.{type(cause).__qualname__})\n")
        lines.append(f"{exc_type.__module__}.{exc_type.__qualname__}")
        return "".join(lines)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


class JsonPrivacyFormatter(PrivacyFormatter):
    """One JSON object per line for log collectors (``WEGWEISER_LOG_FORMAT=json``), through the same
    filter: tracebacks without exception messages, secrets redacted in every field."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        text = json.dumps(entry, ensure_ascii=False)
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
            # the same secret as it appears inside a JSON string
            text = text.replace(json.dumps(secret)[1:-1], "[redacted]")
        return text


def configure_logging(level: str = "INFO", secrets: tuple[str, ...] = (), log_format: str = "text") -> None:
    """Route all logs through the privacy formatter. Libraries that log request URLs (httpx: the
    URL contains the token) stay at WARNING; libraries that log payloads (PTB at DEBUG: every update
    and message; the database drivers and SQLAlchemy from INFO: statements with their values) stay
    above those levels whatever level is configured, because the payloads carry names and texts."""
    handler = logging.StreamHandler()
    formatter = JsonPrivacyFormatter if log_format == "json" else PrivacyFormatter
    handler.setFormatter(formatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # uvicorn's own handlers print exception messages (posted form values among them) verbatim; its
    # records go to the root handler instead (the web servers also pass log_config=None to uvicorn).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    for name, floor in PAYLOAD_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, root.level))
