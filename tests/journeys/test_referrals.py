"""Asking for help with an offer: consent to share, a referral on the case, the advisor told."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers import case_digest, referrals
from locales import Translator
from storage.models import Case, Consent, Offer, Referral, Role
from tests.support.harness import BotUnderTest
from tests.support.scripts import written_in


@pytest.fixture
async def directory(bot: BotUnderTest) -> BotUnderTest:
    await bot.load_offers()
    await bot.make_staff(8100, Role.ADVISOR, "Anna Berger")
    await bot.person(8100, "Anna", "de").send("/start")
    return bot


async def test_asking_for_help_with_an_offer_becomes_a_referral_and_the_advisor_is_told(
    directory: BotUnderTest,
) -> None:
    olena = directory.person(8101, "Olena", "uk")
    async with directory.sessions() as session:
        course = await session.scalar(select(Offer.id).where(Offer.slug == "deutschkurs-vhs"))
    (results,) = await olena.send("Deutschkurs")
    await olena.tap(f"offer:{course}:s", results)

    await olena.tap(referrals.ASK.encode(course))
    assert written_in(olena.last.text, "uk")
    await olena.tap(referrals.AGREE.encode(course, "yes"))

    async with directory.sessions() as session:
        (referral,) = (await session.scalars(select(Referral))).all()
        case = await session.get(Case, referral.case_id)
        (given,) = (await session.scalars(select(Consent))).all()
    assert (referral.offer_id, referral.status, given.purpose, given.language) == (
        course,
        "open",
        "referral",
        "uk",
    )
    notice = directory.world.chats[8100][-1].text
    assert case.number in notice and "Deutschkurs für Erwachsene" in notice
    assert "Olena" not in notice, "case number and offer only"

    await olena.tap_data(olena.last, referrals.ASK.encode(course), forged=True)
    async with directory.sessions() as session:
        assert len((await session.scalars(select(Referral))).all()) == 1, "asking twice notes it once"


async def test_saying_no_notes_nothing(directory: BotUnderTest) -> None:
    amira = directory.person(8102, "Amira", "ar")
    (menu,) = await amira.send("/start")
    await amira.tap_data(menu, referrals.AGREE.encode(1, "no"), forged=True)
    async with directory.sessions() as session:
        assert (await session.scalars(select(Referral))).all() == []
        assert (await session.scalars(select(Consent))).all() == []
    assert amira.last.text == Translator("ar", ZoneInfo("Europe/Berlin")).pgettext(
        "referrals", "All right, nothing was noted."
    )


async def test_the_weekly_case_digest_names_case_numbers_only(directory: BotUnderTest) -> None:
    german = Translator("de", ZoneInfo("Europe/Berlin"))
    assert (
        case_digest.digest_text(german, {"plan_missing": [], "review_due": [], "period_ending": []}) is None
    )
    text = case_digest.digest_text(
        german, {"plan_missing": ["W-ABC234"], "review_due": ["W-XYZ789", "W-QRS456"], "period_ending": []}
    )
    assert text is not None and "W-ABC234" in text and "W-QRS456" in text
    await directory.run_job(case_digest.JOB_ID)  # no flagged case: nothing is sent
    assert not any("W-" in message.text for message in directory.world.chats[8100])
