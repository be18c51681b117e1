"""Getting into the desk and staying in: the bot's sign-in link works once and for ten minutes, a
session ends after 30 idle minutes, on sign-out and when the staff role goes; the cookie cannot be
read by scripts or sent from other sites; error pages say what happened, never how the code failed."""

from __future__ import annotations

import html
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.app import desk_services
from desk.app import create_desk
from desk.i18n import DeskTexts
from storage import people
from storage.db import session_scope
from storage.models import Role
from tests.desk.conftest import DeskClient, csrf_of, sign_in_link, sign_in_with
from tests.support.harness import BotUnderTest

GERMAN = DeskTexts("de", ZoneInfo("Europe/Berlin"))
ANNA = 8900
LINK_REFUSED = "Sign-in link not valid"
SIGN_IN_PLEASE = "Please sign in"


def text_of(response: httpx.Response) -> str:
    return html.unescape(response.text)


async def test_a_sign_in_link_works_once(bot: BotUnderTest) -> None:
    await bot.make_staff(ANNA, Role.ADVISOR, "Anna Berger")
    link = await sign_in_link(bot, ANNA)

    async with httpx.AsyncClient(timeout=15) as first, httpx.AsyncClient(timeout=15) as second:
        opened = await sign_in_with(first, link)
        reused = await sign_in_with(second, link)
        cases = await first.get(link.split("/signin/")[0] + "/cases")
        not_signed_in = await second.get(link.split("/signin/")[0] + "/cases")

    assert opened.status_code == 303 and opened.headers["location"] == "/desk/"
    assert reused.status_code == 403
    assert GERMAN.gettext(LINK_REFUSED) in text_of(reused)
    assert "set-cookie" not in reused.headers
    assert cases.status_code == 200
    assert not_signed_in.status_code == 401


async def test_an_expired_sign_in_link_is_refused(bot: BotUnderTest) -> None:
    await bot.make_staff(ANNA, Role.ADVISOR, "Anna Berger")
    link = await sign_in_link(bot, ANNA)
    bot.clock.advance(timedelta(minutes=11))

    async with httpx.AsyncClient(timeout=15) as client:
        refused = await sign_in_with(client, link)
        cases = await client.get(link.split("/signin/")[0] + "/cases")

    assert refused.status_code == 403
    assert GERMAN.gettext(LINK_REFUSED) in text_of(refused)
    assert cases.status_code == 401


async def test_an_idle_session_ends_after_thirty_minutes(bot: BotUnderTest, desk: DeskClient) -> None:
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    bot.clock.advance(timedelta(minutes=29))
    still = await client.get(f"{base}/cases")  # being active keeps the session open...
    bot.clock.advance(timedelta(minutes=29))
    again = await client.get(f"{base}/cases")
    bot.clock.advance(timedelta(minutes=31))  # ...idle for longer ends it
    ended = await client.get(f"{base}/cases")

    assert still.status_code == again.status_code == 200
    assert ended.status_code == 401
    assert GERMAN.gettext(SIGN_IN_PLEASE) in text_of(ended)


async def test_signing_out_ends_the_session(bot: BotUnderTest, desk: DeskClient) -> None:
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    cases = await client.get(f"{base}/cases")
    cookie = client.cookies.get("wegweiser_desk")

    signed_out = await client.post(f"{base}/signout", data={"csrf": csrf_of(cases.text)})
    after = await client.get(f"{base}/cases")
    async with httpx.AsyncClient(timeout=15, cookies={"wegweiser_desk": cookie or ""}) as copied:
        with_old_cookie = await copied.get(f"{base}/cases")

    assert signed_out.status_code == 200
    assert GERMAN.gettext("Signed out") in text_of(signed_out)
    assert after.status_code == with_old_cookie.status_code == 401


async def test_a_removed_staff_member_is_signed_out_at_once(bot: BotUnderTest, desk: DeskClient) -> None:
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    assert (await client.get(f"{base}/cases")).status_code == 200

    async with session_scope(bot.sessions) as session:
        await people.remove_staff(session, ANNA)
    after = await client.get(f"{base}/cases")
    (refused,) = await bot.person(ANNA, "Anna", "de").send("/desk")

    assert after.status_code == 401
    assert "/signin/" not in (refused.text or "")


async def test_the_session_cookie_is_http_only_and_same_site(bot: BotUnderTest) -> None:
    await bot.make_staff(ANNA, Role.ADVISOR, "Anna Berger")
    link = await sign_in_link(bot, ANNA)

    async with httpx.AsyncClient(timeout=15) as client:
        opened = await sign_in_with(client, link)

    cookie = opened.headers["set-cookie"].lower()
    assert cookie.startswith("wegweiser_desk=")
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/desk" in cookie
    assert opened.headers["referrer-policy"] == "no-referrer"


async def test_error_pages_never_show_a_traceback(bot: BotUnderTest, desk: DeskClient) -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("a bug with a secret in it")

    assert bot.application is not None
    services = desk_services(bot.application.bot_data.runtime, bot.application.bot.username)
    bot.running.mount("/failing", create_desk(services, page_routes=[Route("/boom", boom)]))
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    async with httpx.AsyncClient(timeout=15) as stranger:
        pages = [
            await stranger.get(f"{base}/cases"),  # 401
            await stranger.get(f"{base}/signin/not-a-token"),  # 403
            await client.get(f"{base}/cases/1"),  # 403
            await client.post(f"{base}/cases/1/notes", data={"text": "no token"}),  # 403
            await client.get(f"{base}/no/such/page"),  # 404
            await stranger.get(f"{bot.running.base_url}/failing/boom"),  # 500
        ]

    assert [response.status_code for response in pages] == [401, 403, 403, 403, 404, 500]
    for response in pages:
        assert "Traceback" not in response.text
        assert "secret" not in response.text
        assert response.headers["content-type"].startswith("text/html")
