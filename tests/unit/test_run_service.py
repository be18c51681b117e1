"""``wegweiser run`` as the service starts it: one start-up line naming version, mode, database
(masked), desk and metrics; ready on /readyz; a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from storage.crypto import new_key
from tests.support.cli import free_port, sandbox_in_a_thread


def test_run_starts_with_one_line_becomes_ready_and_stops_cleanly(tmp_path: Path) -> None:
    desk_port, metrics_port = free_port(), free_port()
    with sandbox_in_a_thread() as (running, world):
        env = {name: value for name, value in os.environ.items() if not name.startswith("WEGWEISER_")}
        env.update(
            WEGWEISER_TELEGRAM_TOKEN=world.token,
            WEGWEISER_TELEGRAM_API_URL=running.api_url,
            WEGWEISER_CASE_DATA_KEY=new_key(),
            WEGWEISER_AUDIT_KEY=new_key(),
            WEGWEISER_DATA_DIR=str(tmp_path / "data"),
            WEGWEISER_DESK_PORT=str(desk_port),
            WEGWEISER_METRICS_PORT=str(metrics_port),
            WEGWEISER_DESK_URL="https://wegweiser.example.org/desk",
        )
        service = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            ready = None
            for _ in range(300):
                try:
                    ready = httpx.get(f"http://127.0.0.1:{desk_port}/readyz", timeout=1)
                    if ready.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        finally:
            service.send_signal(signal.SIGTERM)
            out, err = service.communicate(timeout=30)

    assert ready is not None and ready.status_code == 200, err
    assert service.returncode == 0, err
    starting = [line for line in err.splitlines() if " starting: " in line]
    assert len(starting) == 1
    assert "mode long polling" in starting[0] and "desk https://wegweiser.example.org/desk" in starting[0]
    assert f"metrics http://127.0.0.1:{metrics_port}/metrics" in starting[0]
    assert "process_resident_memory_bytes" in metrics
    assert world.token.split(":")[1] not in out + err
    assert "Traceback" not in err
