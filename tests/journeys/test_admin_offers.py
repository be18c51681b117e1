"""Admins keep the directory current in the bot; everyone else is refused, whatever they tap."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers import admin
from handlers.durations import duration_text
from locales import Translator
from storage.models import Offer, OfferChange, Person, Role
from storage.offers import STALE_AFTER
from tests.support.harness import BotUnderTest

ADMIN_ID = 9100


def t(language: str) -> Translator:
    return Translator(language, ZoneInfo("Europe/Berlin"))


async def stored_offer(bot: BotUnderTest, slug: str) -> Offer:
    async with bot.sessions() as session:
        offer = await session.scalar(select(Offer).where(Offer.slug == slug))
        assert offer is not None
        return offer


async def changes(bot: BotUnderTest, slug: str) -> list[tuple[str, str | None, int | None]]:
    async with bot.sessions() as session:
        rows = await session.scalars(
            select(OfferChange).where(OfferChange.offer_slug == slug).order_by(OfferChange.id)
        )
        return [(row.action, row.field, row.changed_by) for row in rows]


async def admin_person_id(bot: BotUnderTest) -> int:
    async with bot.sessions() as session:
        return int(await session.scalar(select(Person.id).where(Person.telegram_id == ADMIN_ID)))


@pytest.fixture
async def directory(bot: BotUnderTest) -> BotUnderTest:
    await bot.load_offers()
    await bot.make_staff(ADMIN_ID, Role.ADMIN, "Jonas")
    return bot


async def test_an_admin_edits_a_field_and_the_change_is_recorded(directory: BotUnderTest) -> None:
    jonas = directory.person(ADMIN_ID, "Jonas", "de")
    german = t("de")
    tafel = await stored_offer(directory, "tafel")

    (overview,) = await jonas.send("/admin")
    assert overview.html == german.pgettext(
        "admin",
        "<b>Offer directory</b>\n{active} active, {archived} archived.\n"
        "{stale} not verified for {period}, {ended} ended.",
        period=duration_text(german, STALE_AFTER, months=False),
        active=4,
        archived=1,
        stale=1,
        ended=1,
    )
    await jonas.tap(admin.LIST.encode(0), overview)
    await jonas.tap(admin.CARD.encode(tafel.id))
    await jonas.tap(admin.EDIT.encode(tafel.id))
    await jonas.tap(admin.FIELD.encode(tafel.id, "phone"))
    assert german.pgettext("admin", "Phone") in jonas.last.text

    (refused,) = await jonas.send("not a number")
    assert german.pgettext("admin", "Please write a phone number like this: +49 7150 123456") in refused.text
    assert (await stored_offer(directory, "tafel")).phone is None

    (saved,) = await jonas.send("+49 7150 999999")

    assert saved.text == german.pgettext("admin", "✅ Saved.")
    assert (await stored_offer(directory, "tafel")).phone == "+49 7150 999999"
    assert (await changes(directory, "tafel"))[-1] == ("edit", "phone", await admin_person_id(directory))
    (search,) = await jonas.send("Lebensmittel")
    assert "Tafelladen" in [button["text"] for button in search.buttons], (
        "no longer waiting: text searches again"
    )


async def test_an_admin_edits_a_text_in_one_language_and_the_wait_survives_a_restart(
    directory: BotUnderTest,
) -> None:
    jonas = directory.person(ADMIN_ID, "Jonas", "de")
    tafel = await stored_offer(directory, "tafel")
    (overview,) = await jonas.send("/admin")
    await jonas.tap_data(overview, admin.FIELD.encode(tafel.id, "name"), forged=True)
    await jonas.tap(admin.TEXT_LANGUAGE.encode(tafel.id, "name", "en"))

    await directory.restart()
    await jonas.send("Food bank shop Hemmingen")

    async with directory.sessions() as session:
        from storage.models import OfferText

        names = dict(
            (
                await session.execute(
                    select(OfferText.language, OfferText.name).where(OfferText.offer_id == tafel.id)
                )
            ).all()
        )
    assert names == {"de": "Tafelladen", "en": "Food bank shop Hemmingen"}
    assert (await changes(directory, "tafel"))[-1][:2] == ("edit", "name:en")


async def test_archive_hides_an_offer_from_refugees_and_restore_brings_it_back(
    directory: BotUnderTest,
) -> None:
    jonas = directory.person(ADMIN_ID, "Jonas", "de")
    amira = directory.person(9101, "Amira", "ar")
    tafel = await stored_offer(directory, "tafel")
    (overview,) = await jonas.send("/admin")

    await jonas.tap_data(overview, admin.STATUS.encode(tafel.id, "archive"), forged=True)
    (search,) = await amira.send("Lebensmittel")
    assert f"offer:{tafel.id}:s" not in [button.get("callback_data") for button in search.buttons]

    await jonas.tap(admin.STATUS.encode(tafel.id, "restore"))
    await jonas.tap(admin.VERIFY.encode(tafel.id))
    (search,) = await amira.send("Lebensmittel")
    assert f"offer:{tafel.id}:s" in [button.get("callback_data") for button in search.buttons]
    assert (await stored_offer(directory, "tafel")).last_verified == date(2026, 3, 2)
    assert [change[0] for change in await changes(directory, "tafel")][-3:] == [
        "archive",
        "restore",
        "verify",
    ]


async def test_choices_are_set_with_buttons(directory: BotUnderTest) -> None:
    jonas = directory.person(ADMIN_ID, "Jonas", "de")
    tafel = await stored_offer(directory, "tafel")
    (overview,) = await jonas.send("/admin")

    await jonas.tap_data(overview, admin.FIELD.encode(tafel.id, "category"), forged=True)
    await jonas.tap(admin.CHOOSE.encode(tafel.id, "category", "families"))
    await jonas.tap(admin.EDIT.encode(tafel.id))
    await jonas.tap(admin.FIELD.encode(tafel.id, "barrier_free"))
    await jonas.tap(admin.CHOOSE.encode(tafel.id, "barrier_free", "yes"))

    offer = await stored_offer(directory, "tafel")
    assert (offer.category, offer.barrier_free) == ("families", True)


@pytest.mark.parametrize(
    "forged",
    [
        "astat:{id}:archive",
        "aver:{id}",
        "aset:{id}:category:work",
        "afield:{id}:phone",
        "acard:{id}",
        "alist:0",
        "adm",
    ],
)
async def test_people_without_the_admin_role_are_refused_and_nothing_changes(
    directory: BotUnderTest, forged: str
) -> None:
    await directory.make_staff(9102, Role.ADVISOR, "Anna")
    for person in (directory.person(9103, "Amira", "ar"), directory.person(9102, "Anna", "de")):
        tafel = await stored_offer(directory, "tafel")
        (menu,) = await person.send("/start")

        await person.tap_data(menu, forged.format(id=tafel.id), forged=True)

        language = "ar" if person.id == 9103 else "de"
        assert person.last_query.answer_text == t(language).pgettext(
            "admin", "Only admins can change the offer directory."
        )
        after = await stored_offer(directory, "tafel")
        assert (after.status, after.category, after.last_verified) == (
            "active",
            "everyday",
            tafel.last_verified,
        )
        assert await changes(directory, "tafel") == [("import", None, None)]


async def test_a_refugee_typing_admin_is_refused(directory: BotUnderTest) -> None:
    amira = directory.person(9104, "Amira", "ar")
    (reply,) = await amira.send("/admin")
    assert reply.text == t("ar").pgettext("admin", "Only admins can change the offer directory.")


async def test_the_weekly_digest_lists_stale_and_ended_offers_to_admins(directory: BotUnderTest) -> None:
    jonas = directory.person(ADMIN_ID, "Jonas", "de")
    await jonas.send("/start")
    (job,) = directory.application.job_queue.get_jobs_by_name("offer-freshness-digest")

    await job.run(directory.application)

    digest = jonas.last
    assert "Tafelladen" in digest.text, "not verified since June 2025"
    assert "Fußballtraining für Jugendliche" in digest.text, "ended in February"
    assert "Deutschkurs" not in digest.text
    assert len(digest.buttons) == 3
