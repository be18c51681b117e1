"""Signing in to the desk from another site, as from Telegram Web or Desktop: the link from the bot,
opened by a click on a page of another origin (127.0.0.2), lands on the desk signed in, in real
headless Chromium. The session cookie is SameSite=Strict, so only a sign-in that the desk's own
page sends (a same-site POST) carries it on to the desk."""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import socket
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from playwright.async_api import async_playwright, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from desk.i18n import DeskTexts
from storage.models import Role
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.desk.conftest import sign_in_link
from tests.support.harness import BotUnderTest

pytestmark = pytest.mark.browser

ANNA = 9900
GERMAN = DeskTexts("de", ZoneInfo("Europe/Berlin"))
OTHER_SITE = "127.0.0.2"


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@contextlib.asynccontextmanager
async def other_site(link: str):
    """A page on another origin with nothing but a link to the desk (as a chat in Telegram Web)."""

    async def chat(_request: Request) -> HTMLResponse:
        return HTMLResponse(f'<!doctype html><title>Chat</title><a href="{html.escape(link)}">Desk</a>')

    port = _free_port(OTHER_SITE)
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/", chat)]),
            host=OTHER_SITE,
            port=port,
            log_config=None,
            log_level="warning",
            lifespan="off",
        )
    )
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the other site did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"http://{OTHER_SITE}:{port}/"
    finally:
        server.should_exit = True
        await task


async def test_a_link_opened_from_another_site_signs_in(bot: BotUnderTest) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}", pytrace=False)
    await bot.make_staff(ANNA, Role.ADVISOR, "Anna Berger")
    link = await sign_in_link(bot, ANNA, "Anna")
    expect.set_options(timeout=15_000)
    async with other_site(link) as chat_url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(locale="de-DE")
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(chat_url)
            await page.get_by_role("link", name="Desk").click()

            await expect(page).to_have_url(re.compile(r"/desk/agenda$"))
            await expect(page.get_by_role("heading", level=1)).not_to_have_text(
                GERMAN.gettext("Please sign in")
            )
            await expect(page.get_by_role("link", name=GERMAN.gettext("Cases"))).to_be_visible()
            assert errors == []
        finally:
            await browser.close()
