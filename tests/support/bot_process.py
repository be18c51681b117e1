"""``wegweiser run`` in a child process, as in production, talking HTTP to a sandbox served by the
test: for tests that kill the bot at a chosen moment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.support.harness import TEST_AUDIT_KEY, TEST_CASE_KEY

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port nobody listens on right now (for the desk, which `run` also serves)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BotProcess:
    """One ``wegweiser run``; started again after each kill on the same database and sandbox."""

    def __init__(self, database_url: str, api_url: str, token: str, data_dir: Path, **settings: str) -> None:
        self.env = {
            **os.environ,
            "WEGWEISER_TELEGRAM_TOKEN": token,
            "WEGWEISER_TELEGRAM_API_URL": api_url,
            "WEGWEISER_DATABASE_URL": database_url,
            "WEGWEISER_DATA_DIR": str(data_dir),
            "WEGWEISER_CASE_DATA_KEY": TEST_CASE_KEY,
            "WEGWEISER_AUDIT_KEY": TEST_AUDIT_KEY,
            "WEGWEISER_LOG_LEVEL": "WARNING",
            "NO_PROXY": "127.0.0.1,localhost",
            **{f"WEGWEISER_{name.upper()}": value for name, value in settings.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "bot.log"

    def start(self) -> None:
        env = {**self.env, "WEGWEISER_DESK_PORT": str(free_port()), "WEGWEISER_METRICS_PORT": "0"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a power cut or the OOM killer would."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)

    def wait(self, timeout: float = 15) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end within a few seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
