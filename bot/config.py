"""Settings of a Wegweiser instance, read from ``WEGWEISER_*`` environment variables and an env file:
the one named by ``--env-file`` or ``WEGWEISER_ENV_FILE``, else ``.env`` in the working directory."""

from __future__ import annotations

import os
import re
from datetime import time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from locales import SUPPORTED_LANGUAGES
from storage.booking import BookingPolicy

DEFAULT_API_URL = "https://api.telegram.org/bot"
PREFIX = "WEGWEISER_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# WEGWEISER_* names that are not settings but are read elsewhere.
OTHER_NAMES = {"WEGWEISER_ENV_FILE", "WEGWEISER_TEST_POSTGRES"}
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{32,256}")


def default_data_dir() -> Path:
    """Where the embedded SQLite database lives unless configured otherwise."""
    return Path.cwd() / "data"


class Settings(BaseSettings):
    """Everything an operator can configure; each field maps to ``WEGWEISER_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="WEGWEISER_", env_file=None, env_file_encoding="utf-8", extra="ignore"
    )

    telegram_token: SecretStr | None = None
    telegram_api_url: str = DEFAULT_API_URL
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    timezone: str = "Europe/Berlin"
    default_language: str = "de"
    municipality: str = "Hemmingen"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    # Booking policy
    booking_min_notice_hours: float = Field(default=12, ge=0)
    booking_window_days: int = Field(default=21, ge=1, le=365)
    booking_max_open: int = Field(default=2, ge=1, le=20)
    booking_change_cutoff_hours: float = Field(default=2, ge=0)
    first_consultation_minutes: int = Field(default=60, ge=30, le=240, multiple_of=30)
    follow_up_minutes: int = Field(default=30, ge=30, le=240, multiple_of=30)
    agenda_digest_time: str = "07:30"
    reminder_interval_seconds: float = Field(default=30, ge=1, le=3600)
    # Case store: Fernet keys for case texts, newest first, comma-separated (``wegweiser keys new``).
    case_data_key: SecretStr | None = None
    retention_days: int = Field(default=182, ge=1, le=3650)
    # Audit log: HMAC keys for its chain, newest first, comma-separated; where its head is anchored.
    audit_key: SecretStr | None = None
    audit_anchor_file: Path | None = None
    # The staff desk: where it listens, and the address staff open (behind a TLS proxy in production).
    desk_host: str = "127.0.0.1"
    desk_port: int = Field(default=8081, ge=1, le=65535)
    desk_url: str | None = None
    # Prometheus metrics on an address of their own (loopback by default); port 0 turns them off.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    # Webhook mode (several instances): the public https address Telegram posts updates to, and the
    # secret it sends along (32 to 256 of A-Z, a-z, 0-9, _ and -). Unset: long polling.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://, e.g. https://api.telegram.org/bot")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level; use one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url_is_public_https(cls, value: str | None) -> str | None:
        if value is None or value.startswith("https://"):
            return value
        if value.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
            return value  # the sandbox, on this machine only
        raise ValueError("must be a public https:// address, e.g. https://bot.example.org/telegram")

    @field_validator("webhook_secret", mode="after")
    @classmethod
    def _webhook_secret_is_strong(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            if info.data.get("webhook_url"):
                raise ValueError("is required with WEGWEISER_WEBHOOK_URL (at least 32 characters)")
            return None
        if not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 32 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone, e.g. Europe/Berlin") from None
        return value

    @field_validator("agenda_digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a time of day like 07:30") from None
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"{value!r} is not one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith(("postgres://", "postgresql://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite://") and not value.startswith("sqlite+aiosqlite://"):
            return "sqlite+aiosqlite://" + value.split("://", 1)[1]
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("must be a postgresql:// or sqlite:// URL")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def booking_policy(self) -> BookingPolicy:
        return BookingPolicy(
            zone=self.zone,
            min_notice=timedelta(hours=self.booking_min_notice_hours),
            window=timedelta(days=self.booking_window_days),
            max_open=self.booking_max_open,
            change_cutoff=timedelta(hours=self.booking_change_cutoff_hours),
            first_minutes=self.first_consultation_minutes,
            follow_up_minutes=self.follow_up_minutes,
        )

    def case_keys(self) -> list[str]:
        """The configured case-data keys, newest first (empty when none is set)."""
        if self.case_data_key is None:
            return []
        return [key.strip() for key in self.case_data_key.get_secret_value().split(",") if key.strip()]

    def audit_keys(self) -> list[str]:
        """The configured audit keys, newest first (empty when none is set)."""
        if self.audit_key is None:
            return []
        return [key.strip() for key in self.audit_key.get_secret_value().split(",") if key.strip()]

    @field_validator("audit_key")
    @classmethod
    def _long_audit_keys(cls, value: SecretStr | None) -> SecretStr | None:
        keys = value.get_secret_value().split(",") if value is not None else []
        if any(0 < len(key.strip()) < 32 for key in keys):
            raise ValueError("each key needs at least 32 characters; create one with `wegweiser keys new`")
        return value

    def resolved_desk_url(self) -> str:
        """The desk's public address (ending in /desk)."""
        return (self.desk_url or f"http://{self.desk_host}:{self.desk_port}/desk").rstrip("/")

    def resolved_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{self.data_dir / 'wegweiser.sqlite3'}"


class SettingsError(Exception):
    """Configuration is invalid; the message names each wrong setting on its own line."""


def chosen_env_file(explicit: Path | None = None) -> Path | None:
    """The env file to read: ``--env-file``, else ``WEGWEISER_ENV_FILE``, else ``./.env`` when it
    exists, else none. A file named explicitly must exist."""
    if explicit is None and os.environ.get("WEGWEISER_ENV_FILE"):
        explicit = Path(os.environ["WEGWEISER_ENV_FILE"])
        setting = "WEGWEISER_ENV_FILE"
    else:
        setting = "--env-file"
    if explicit is not None:
        if not explicit.is_file():
            raise SettingsError(f"{setting}: {explicit} does not exist or is not a file")
        return explicit.resolve()
    default = Path.cwd() / ".env"
    return default if default.is_file() else None


def load_settings(env_file: Path | None = None, **overrides: object) -> Settings:
    """Read the settings (from the environment and ``env_file`` only), turning validation errors
    into one clear line per setting."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[arg-type,call-arg]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = PREFIX + "_".join(str(part) for part in error["loc"]).upper()
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
        raise SettingsError("\n".join(lines)) from None


def unknown_names(env_file: Path | None) -> list[str]:
    """``WEGWEISER_*`` names in the environment or the env file that are no setting (a typo
    would otherwise be ignored silently)."""
    known = {PREFIX + name.upper() for name in Settings.model_fields} | OTHER_NAMES
    names = {name for name in os.environ if name.upper().startswith(PREFIX)}
    if env_file is not None:
        names |= {name for name in dotenv_values(env_file) if name.upper().startswith(PREFIX)}
    return sorted(name for name in names if name.upper() not in known)


def database_label(url: str) -> str:
    """The database as an operator recognises it, with any password masked: the SQLite file's
    path, or ``postgresql://user:***@host:port/name``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {Path(parsed.database or '').resolve()}"
    return parsed.set(drivername="postgresql").render_as_string(hide_password=True)
