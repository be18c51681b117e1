"""Shared desk test helpers: a staff member signs in through the bot's /desk link with httpx, and
forms are posted with the CSRF token parsed from the page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from storage import booking, consent, people
from storage.consent import Purpose
from storage.db import session_scope
from storage.models import Case, Role
from tests.support.harness import BotUnderTest

_LINK = re.compile(r"https?://\S+/signin/[A-Za-z0-9_-]+")
_TOKEN = re.compile(r'name="token" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def sign_in_link(bot: BotUnderTest, telegram_id: int, name: str = "Staff") -> str:
    """The link the bot answers to "/desk" (the person must already be staff)."""
    (reply,) = await bot.person(telegram_id, name, "de").send("/desk")
    found = _LINK.search(reply.text or "")
    assert found, f"no sign-in link in the bot's answer: {reply.text!r}"
    return found.group(0)


async def desk_client(
    bot: BotUnderTest, telegram_id: int, name: str, role: Role
) -> tuple[httpx.AsyncClient, str]:
    """Make the person staff, sign them in through the bot's link; returns the client (which keeps
    the session cookie; redirects are not followed) and the desk's base URL. Close the client."""
    await bot.make_staff(telegram_id, role, name)
    link = await sign_in_link(bot, telegram_id, name)
    client = httpx.AsyncClient(follow_redirects=False, timeout=15)
    response = await sign_in_with(client, link)
    assert response.status_code == 303, response.text
    return client, f"{bot.running.base_url}/desk"


async def sign_in_with(client: httpx.AsyncClient, link: str) -> httpx.Response:
    """Open the link's page and send its sign-in form, as the page's script does in a browser."""
    page = await client.get(link)
    if page.status_code != 200:
        return page
    found = _TOKEN.search(page.text)
    assert found, "no sign-in form on the link's page"
    return await client.post(link.split("/signin/")[0] + "/signin", data={"token": found.group(1)})


def csrf_of(html: str) -> str:
    """The CSRF token of a desk page (every POST form carries it)."""
    found = _CSRF.search(html)
    assert found, "no csrf field on the page"
    return found.group(1)


async def case_of(
    bot: BotUnderTest, telegram_id: int, first_name: str = "Amira", *, consented: bool = True
) -> Case:
    """A person's case as their first booking opens it (unassigned), with their consent to case
    management unless ``consented`` is false."""
    async with session_scope(bot.sessions) as session:
        person = await people.ensure_person(session, telegram_id, bot.clock.current)
        case = await booking.case_for(session, person.id, first_name, bot.clock.current)
        if consented:
            await consent.give_consent(session, person.id, Purpose.CASE_MANAGEMENT, "ar", bot.clock.current)
        return case


DeskClient = Callable[[int, str, Role], Awaitable[tuple[httpx.AsyncClient, str]]]


@pytest.fixture
async def desk(bot: BotUnderTest) -> AsyncIterator[DeskClient]:
    """``await desk(telegram_id, name, role)`` → a signed-in client and the base URL; every client
    is closed after the test."""
    clients: list[httpx.AsyncClient] = []

    async def open_desk(telegram_id: int, name: str, role: Role) -> tuple[httpx.AsyncClient, str]:
        client, base = await desk_client(bot, telegram_id, name, role)
        clients.append(client)
        return client, base

    yield open_desk
    for client in clients:
        await client.aclose()
