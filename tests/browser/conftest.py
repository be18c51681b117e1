"""The demo (`wegweiser demo`) as a subprocess and headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_LINE = "Wegweiser demo is running"
STARTUP_TIMEOUT = 60.0


@dataclass
class Demo:
    base_url: str
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wegweiser() -> list[str]:
    script = Path(sys.executable).with_name("wegweiser")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def _start_demo(directory: Path) -> Demo:
    """Start ``wegweiser demo`` on a free port and wait until the bot polls and the page answers."""
    # Only the data directory comes from the test: no operator .env or WEGWEISER_* variable
    # (a real token, a real database) may leak into the demo.
    env = {key: value for key, value in os.environ.items() if not key.startswith("WEGWEISER_")}
    env["WEGWEISER_DATA_DIR"] = str(directory / "data")
    env["PYTHONUNBUFFERED"] = "1"
    for _attempt in range(3):
        port = _free_port()
        log = directory / f"demo-{port}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [*_wegweiser(), "demo", "--port", str(port)],
                cwd=directory,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        demo = Demo(f"http://127.0.0.1:{port}", log, process)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if READY_LINE in demo.output():
                with urllib.request.urlopen(demo.base_url + "/", timeout=5) as response:
                    assert response.status == 200
                return demo
            time.sleep(0.1)
        else:
            _stop(process)
            pytest.fail(f"wegweiser demo did not start within {STARTUP_TIMEOUT}s:\n{demo.output()}")
        if "already in use" not in demo.output():
            pytest.fail(f"wegweiser demo exited with {process.returncode}:\n{demo.output()}")
    pytest.fail("wegweiser demo found no free port in three attempts")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """A fresh demo (sandbox, bot, chat page) with its own database, stopped after the test."""
    running = _start_demo(tmp_path)
    try:
        yield running
    finally:
        _stop(running.process)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium from the system package; never a browser downloaded by Playwright."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}; the browser tests need it. "
            "Install it with: apt-get update && apt-get install -y chromium",
            pytrace=False,
        )
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_errors() -> list[str]:
    return []


@pytest.fixture
def phone(browser, page_errors: list[str]):
    """A page the size of a phone screen; JavaScript errors on it are collected."""
    context = browser.new_context(
        viewport={"width": 400, "height": 860}, device_scale_factor=2, locale="de-DE"
    )
    page = context.new_page()
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page_errors.append(message.text))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def desktop(browser, page_errors: list[str]):
    """A page the size of a laptop screen; JavaScript errors on it are collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 820}, locale="de-DE")
    page = context.new_page()
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page_errors.append(message.text))
    try:
        yield page
    finally:
        context.close()
