"""The staff desk in real headless Chromium, against the real bot: an admin signs in with the bot's
link, invites an advisor (who accepts in the bot) and archives an offer; the new advisor signs in,
creates a calendar address and the calendar feed downloads.

The ``bot`` fixture is asynchronous, so this test drives Chromium with Playwright's async API."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy import select

from desk.i18n import DeskTexts
from locales import Translator
from storage import advisors, booking, consent, people
from storage.db import session_scope
from storage.models import Offer, OfferStatus, Role
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.desk.bookings import local
from tests.support.harness import BotUnderTest

pytestmark = pytest.mark.browser

JONAS, NINA, AMIRA = 9800, 9801, 9802
GERMAN = DeskTexts("de", ZoneInfo("Europe/Berlin"))
LINK = re.compile(r"https?://\S+/signin/[A-Za-z0-9_-]+")
SCREENSHOT = "/tmp/desk-admin-page.png"


async def sign_in(bot: BotUnderTest, browser: Browser, telegram_id: int, name: str) -> Page:
    """A laptop-sized page, signed in to the desk through the link the bot sends for /desk."""
    (reply,) = await bot.person(telegram_id, name, "de").send("/desk")
    found = LINK.search(reply.text or "")
    assert found, reply.text
    context = await browser.new_context(viewport={"width": 1280, "height": 820}, locale="de-DE")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(found.group(0))
    assert not errors
    return page


async def assert_every_field_is_labelled(page: Page) -> None:
    unlabelled = await page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
              .filter(field => field.labels.length === 0).map(field => field.name)"""
    )
    assert unlabelled == [], f"fields without a label on {page.url}"


async def test_an_admin_invites_an_advisor_and_archives_an_offer_and_the_advisors_feed_downloads(
    bot: BotUnderTest,
) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}", pytrace=False)
    await bot.load_offers()
    await bot.make_staff(JONAS, Role.ADMIN, "Jonas Admin")
    expect.set_options(timeout=15_000)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            admin = await sign_in(bot, browser, JONAS, "Jonas")
            await expect(admin).to_have_url(re.compile(r"/desk/offers$"))
            await expect(admin.get_by_role("heading", level=1)).to_have_text(GERMAN.gettext("Offers"))
            await assert_every_field_is_labelled(admin)

            # Invite an advisor; the link is shown once and works in the bot.
            await admin.get_by_role("link", name=GERMAN.gettext("Staff")).click()
            await admin.get_by_label(GERMAN.gettext("Name"), exact=True).fill("Nina Neu")
            await admin.locator("#invite-role").select_option("advisor")
            await admin.get_by_role("button", name=GERMAN.gettext("Create an invitation link")).click()
            invite = admin.locator("#invite-link")
            await expect(invite).to_have_value(
                re.compile(rf"^https://t\.me/{bot.world.username}\?start=invite_")
            )
            await assert_every_field_is_labelled(admin)
            token = (await invite.input_value()).split("start=invite_")[1]
            accepted = await bot.person(NINA, "Nina", "de").send(f"/start invite_{token}")
            assert accepted[0].text == Translator("de", ZoneInfo("Europe/Berlin")).pgettext(
                "start", "Welcome to the team! You can now use the staff commands, such as /desk."
            )

            # Archive an offer from its page.
            await admin.get_by_role("link", name=GERMAN.gettext("Offers")).click()
            await admin.get_by_role("link", name="Tafelladen").click()
            await assert_every_field_is_labelled(admin)
            await admin.get_by_role("button", name=GERMAN.gettext("Archive the offer")).click()
            await expect(admin.get_by_role("status")).to_have_text(
                GERMAN.gettext("The offer was archived: people no longer see it.")
            )
            await expect(
                admin.get_by_role("button", name=GERMAN.gettext("Restore the offer"))
            ).to_be_visible()
            await admin.screenshot(path=SCREENSHOT, full_page=True)
            async with bot.sessions() as session:
                tafel = await session.scalar(select(Offer).where(Offer.slug == "tafel"))
                assert tafel is not None and tafel.status == OfferStatus.ARCHIVED

            # The new advisor has an appointment, signs in and subscribes to her calendar.
            async with session_scope(bot.sessions) as session:
                nina = await people.person_by_telegram_id(session, NINA)
                assert nina is not None and nina.role == Role.ADVISOR
                await advisors.set_weekly_hours(session, nina.id, 1, "09:00-12:00")
                amira = await people.ensure_person(session, AMIRA, bot.clock.current)
                await consent.give_consent(
                    session, amira.id, consent.Purpose.BOOKING, "ar", bot.clock.current
                )
                appointment = await booking.book(
                    session,
                    bot.settings.booking_policy(),
                    bot.clock.current,
                    person=amira,
                    advisor_id=nina.id,
                    starts_at=local(3, 10),
                    topic="work",
                    language="ar",
                    interpreter=False,
                    first_name="Amira",
                )
                case = await booking.case_for(session, amira.id, None, bot.clock.current)
                assert appointment.case_id == case.id
            advisor = await sign_in(bot, browser, NINA, "Nina")
            await expect(advisor).to_have_url(re.compile(r"/desk/agenda$"))
            await expect(advisor.get_by_role("link", name=case.number)).to_be_visible()
            await assert_every_field_is_labelled(advisor)
            await advisor.get_by_role("button", name=GERMAN.gettext("Create a calendar address")).click()
            address = await advisor.get_by_label(GERMAN.gettext("Calendar address")).input_value()

            feed = await advisor.context.request.get(address)
            assert feed.ok and feed.headers["content-type"].startswith("text/calendar")
            (event,) = Calendar.from_ical(await feed.body()).walk("VEVENT")
            assert str(event["SUMMARY"]) == f"Beratung {case.number} (Erstberatung)"
            assert "Amira" not in await feed.text()
        finally:
            await browser.close()
