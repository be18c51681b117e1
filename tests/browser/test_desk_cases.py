"""The advisor's case journey in real headless Chromium: sign in through the bot's link, take a case
on, add a goal and record a review through the forms; the admin sees those actions in the audit log.
Refused in the browser too: another advisor's case by its address, a reused sign-in link, and a
form sent without its CSRF token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from desk.i18n import DeskTexts
from desk.pages.case_texts import notices
from storage import cases, people
from storage.db import session_scope
from storage.models import AuditEntry, CaseNote, Goal, Review, Role
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.desk.conftest import case_of, sign_in_link
from tests.support.harness import BotUnderTest

pytestmark = pytest.mark.browser

GERMAN = DeskTexts("de", ZoneInfo("Europe/Berlin"))
ANNA, BEN, JONAS = 8700, 8701, 8702  # two advisors and an admin
AMIRA, OLENA = 8750, 8751
TIMEOUT_MS = 15_000


@pytest.fixture
async def chromium() -> AsyncIterator[object]:
    """Debian's headless Chromium through Playwright's async API (the bot runs in this event loop)."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; the browser tests need it.", pytrace=False)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def test_an_advisor_plans_a_case_in_the_browser_and_the_admin_sees_the_audit(
    bot: BotUnderTest, chromium: object
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    expect.set_options(timeout=TIMEOUT_MS)
    await bot.make_staff(ANNA, Role.ADVISOR, "Anna Berger")
    await bot.make_staff(BEN, Role.ADVISOR, "Ben Krause")
    await bot.make_staff(JONAS, Role.ADMIN, "Jonas Wolf")
    case = await case_of(bot, AMIRA, "Amira")
    bens_case = await case_of(bot, OLENA, "Olena")
    async with session_scope(bot.sessions) as session:
        ben = await people.person_by_telegram_id(session, BEN)
        assert ben is not None
        await cases.take_case(session, cases.Staff(ben.id, Role.ADVISOR), bens_case.id, bot.clock.current)
    base = f"{bot.running.base_url}/desk"
    page_errors: list[str] = []

    advisor_context = await chromium.new_context(viewport={"width": 1280, "height": 820}, locale="de-DE")
    page = await advisor_context.new_page()
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    link = await sign_in_link(bot, ANNA, "Anna")
    await page.goto(link)
    await page.wait_for_url(f"{base}/agenda")

    # Take the case on from the unassigned list.
    await page.goto(f"{base}/cases")
    await page.get_by_role("link", name=GERMAN.gettext("Unassigned")).click()
    await expect(page.get_by_role("link", name=case.number)).to_be_visible()
    await page.get_by_role("button", name=GERMAN.gettext("Take on case {number}", number=case.number)).click()
    await expect(page.get_by_role("status")).to_have_text(notices(GERMAN)["taken"])
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        GERMAN.gettext("Case {number}", number=case.number)
    )

    # Add a goal through the plan's form, then mark it in progress.
    await page.locator("#new-goal-area").select_option("language")
    await page.locator("#new-goal-goal").fill("Deutschkurs B1 beginnen")
    await page.locator("#new-goal-steps").fill("Anmeldung bei der Volkshochschule")
    await page.locator("#new-goal-due").fill("2026-06-30")
    await page.get_by_role("button", name=GERMAN.gettext("Add the goal")).click()
    await expect(page.get_by_role("status")).to_have_text(notices(GERMAN)["goal"])
    await expect(page.get_by_role("cell", name="Deutschkurs B1 beginnen", exact=True)).to_be_visible()
    async with bot.sessions() as session:
        goal_id = await session.scalar(select(Goal.id).where(Goal.case_id == case.id))
    await page.locator(f"#goal-{goal_id} + tr summary").click()
    await page.locator(f"#goal-{goal_id}-status").select_option("in_progress")
    await page.get_by_role("button", name=GERMAN.gettext("Save the goal")).click()
    await expect(page.get_by_role("status")).to_have_text(notices(GERMAN)["goal_changed"])
    await expect(page.locator(f"#goal-{goal_id}")).to_contain_text(GERMAN.gettext("In progress"))

    # Record a review (the date is prefilled with today).
    await page.locator("#review-summary").fill("Kurs gefunden, Anmeldung läuft.")
    await page.get_by_role("button", name=GERMAN.gettext("Record the review")).click()
    await expect(page.get_by_role("status")).to_have_text(notices(GERMAN)["review"])
    await expect(page.get_by_text("Kurs gefunden, Anmeldung läuft.")).to_be_visible()

    # Another advisor's case, by changing the address: not allowed.
    refused = await page.goto(f"{base}/cases/{bens_case.id}")
    assert refused is not None and refused.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text(GERMAN.gettext("Not allowed"))
    await expect(page.get_by_text("Olena")).to_have_count(0)

    # A form without its CSRF token: sent directly, or with the hidden field removed from the page.
    direct = await page.request.post(f"{base}/cases/{case.id}/notes", form={"text": "Ohne Token, direkt."})
    assert direct.status == 403
    await page.goto(f"{base}/cases/{case.id}")
    await page.locator("#note-text").fill("Ohne Token, im Formular.")
    await page.evaluate(
        "document.querySelector('#note-text').form.querySelector('input[name=csrf]').remove()"
    )
    await page.get_by_role("button", name=GERMAN.gettext("Save the note")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(GERMAN.gettext("Not allowed"))

    # The sign-in link, used a second time: refused.
    reused = await page.goto(link)
    assert reused is not None and reused.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text(GERMAN.gettext("Sign-in link not valid"))
    await advisor_context.close()

    # The admin, in a browser of their own, sees Anna's actions in the audit log.
    admin_context = await chromium.new_context(viewport={"width": 1280, "height": 820}, locale="de-DE")
    admin_page = await admin_context.new_page()
    admin_page.on("pageerror", lambda error: page_errors.append(str(error)))
    await admin_page.goto(await sign_in_link(bot, JONAS, "Jonas"))
    await admin_page.goto(f"{base}/audit?case={case.number}")
    log = admin_page.locator("main table")
    for action in ("case.take", "goal.add", "goal.update", "review.add", "case.read"):
        await expect(log.get_by_text(action, exact=True).first).to_be_visible()
    await expect(log.get_by_text("Anna Berger").first).to_be_visible()
    await expect(log.get_by_text("note.add", exact=True)).to_have_count(0)
    admin_case = await admin_page.goto(f"{base}/cases/{case.id}")
    assert admin_case is not None and admin_case.status == 403
    await admin_context.close()

    assert page_errors == []
    async with bot.sessions() as session:
        anna = await people.person_by_telegram_id(session, ANNA)
        assert anna is not None
        actions = set(
            await session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.actor_id == anna.id, AuditEntry.case_number == case.number
                )
            )
        )
        notes = await session.scalar(select(CaseNote.id))
        review = await session.scalar(select(Review).where(Review.case_id == case.id))
        goal = await session.get(Goal, goal_id)
    assert {"case.take", "case.read", "goal.add", "goal.update", "review.add"} <= actions
    assert notes is None
    assert review is not None and goal is not None and goal.status == "in_progress"
