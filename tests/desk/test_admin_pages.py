"""The admins' desk pages: offers (edit, archive, verify, import and export), staff (roles,
removal, invitations redeemed in the bot) and the audit log. Advisors are refused, as are forms
without the CSRF token."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from datetime import timedelta
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from sqlalchemy import func, select

from desk.i18n import DeskTexts
from locales import Translator
from locales.status import translation_status
from storage import audit
from storage.db import session_scope
from storage.models import Offer, OfferChange, OfferStatus, OfferText, Person, Role
from tests.desk.conftest import DeskClient, csrf_of
from tests.support.harness import BotUnderTest

JONAS, MARIA, ANNA = 9700, 9701, 9710  # two admins and an advisor
NINA, EVE = 9720, 9721  # invited later
GERMAN = DeskTexts("de", ZoneInfo("Europe/Berlin"))
BOT_GERMAN = Translator("de", ZoneInfo("Europe/Berlin"))
WELCOME = "Welcome to the team! You can now use the staff commands, such as /desk."
INVALID = "This invitation link is not valid (any more). Please ask for a new one."
INVITE = re.compile(r'value="(https://t\.me/[^"?]+\?start=invite_([A-Za-z0-9_-]+))"')

BROKEN_FILE = """\
offers:
  - slug: neues-angebot
    category: language
    texts:
      de:
        name: Neues Angebot
        summary: Gut.
  - slug: Kaputt Angebot
    category: cooking
    phone: nicht erreichbar
    texts:
      de:
        name: Kaputt
        summary: Schlecht.
"""

GOOD_FILE = """\
offers:
  - slug: neues-angebot
    category: language
    texts:
      de:
        name: Neues Angebot
        summary: Gut.
"""


async def offer(bot: BotUnderTest, slug: str) -> Offer:
    async with bot.sessions() as session:
        found = await session.scalar(select(Offer).where(Offer.slug == slug))
        assert found is not None
        return found


async def offer_id(bot: BotUnderTest, slug: str) -> int:
    return (await offer(bot, slug)).id


async def german_name(bot: BotUnderTest, slug: str) -> str:
    async with bot.sessions() as session:
        found = await session.scalar(select(Offer).where(Offer.slug == slug))
        assert found is not None
        await session.refresh(found, ["texts"])
        return next(text.name for text in found.texts if text.language == "de")


async def changes(bot: BotUnderTest, slug: str) -> list[tuple[str, str | None]]:
    async with bot.sessions() as session:
        rows = await session.scalars(
            select(OfferChange).where(OfferChange.offer_slug == slug).order_by(OfferChange.id)
        )
        return [(row.action, row.field) for row in rows]


async def count_offers(bot: BotUnderTest) -> int:
    async with bot.sessions() as session:
        return int(await session.scalar(select(func.count(Offer.id))) or 0)


async def role_of(bot: BotUnderTest, telegram_id: int) -> str:
    async with bot.sessions() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == telegram_id))
        assert person is not None
        return person.role


async def person_id(bot: BotUnderTest, telegram_id: int) -> int:
    async with bot.sessions() as session:
        return int(await session.scalar(select(Person.id).where(Person.telegram_id == telegram_id)))


# ---- who may use the admin pages ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/offers", "/staff", "/audit", "/offers/export.yaml"])
async def test_advisors_are_refused_the_admin_pages(bot: BotUnderTest, desk: DeskClient, path: str) -> None:
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)

    response = await client.get(f"{base}{path}")

    assert response.status_code == 403
    assert GERMAN.gettext("You are not allowed to open this page or send this form.") in response.text


async def test_advisors_cannot_post_admin_forms_even_with_their_own_csrf_token(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    await bot.load_offers()
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    csrf = csrf_of((await client.get(f"{base}/agenda")).text)
    target = await offer_id(bot, "tafel")

    archive = await client.post(f"{base}/offers/{target}/status", data={"csrf": csrf, "action": "archive"})
    invite = await client.post(f"{base}/staff/invite", data={"csrf": csrf, "role": "admin", "name": "Me"})

    assert (archive.status_code, invite.status_code) == (403, 403)
    assert (await offer(bot, "tafel")).status == OfferStatus.ACTIVE


# ---- offers ---------------------------------------------------------------------------------


async def test_the_offer_list_marks_archived_ended_and_unchecked_offers(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    await bot.load_offers()
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)

    response = await client.get(f"{base}/offers")

    assert response.status_code == 200
    html = response.text
    assert "Deutschkurs für Erwachsene" in html and "Tafelladen" in html
    assert f'href="/desk/offers/{await offer_id(bot, "tafel")}"' in html
    for mark in ("Archived", "Active", "Check due"):
        assert GERMAN.gettext(mark) in html
    edit = await client.get(f"{base}/offers/{await offer_id(bot, 'sprachcafe')}")
    assert "&lt;für alle&gt;" in edit.text and "<für alle>" not in edit.text, "texts are escaped"


async def test_the_offers_page_shows_which_languages_still_need_a_native_speakers_review(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)

    html = (await client.get(f"{base}/offers")).text
    section = html[html.index('id="translations"') :]

    assert GERMAN.gettext("Translations of the bot") in section
    for status in translation_status():
        assert GERMAN.language_names[status.language] in section, "language names in German"
    assert "Paschtu" in section and "پښتو" not in section
    assert GERMAN.gettext("machine-assisted, review needed") in section


async def test_an_admin_edits_texts_and_details_and_each_change_is_recorded(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    await bot.load_offers()
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    target = await offer_id(bot, "deutschkurs-vhs")
    page = await client.get(f"{base}/offers/{target}")
    assert page.status_code == 200
    assert 'for="text_de_name"' in page.text and 'id="text_de_name"' in page.text
    assert 'id="text_uk_name"' in page.text, "every language the offer has"
    assert 'value="mon 09:00-12:00, 14:00-16:00; thu 17:00-19:00"' in page.text
    form = form_fields(page.text)

    saved = await client.post(
        f"{base}/offers/{target}",
        data={**form, "text_de_name": "Deutschkurs (VHS)", "phone": "+49 7150 999999", "barrier_free": ""},
    )

    assert saved.status_code == 303 and saved.headers["location"] == f"/desk/offers/{target}?done=saved"
    stored = await offer(bot, "deutschkurs-vhs")
    assert (stored.phone, stored.barrier_free) == ("+49 7150 999999", None)
    assert await german_name(bot, "deutschkurs-vhs") == "Deutschkurs (VHS)"
    assert sorted(await changes(bot, "deutschkurs-vhs")) == sorted(
        [("import", None), ("edit", "phone"), ("edit", "barrier_free"), ("edit", "name:de")]
    ), "only the fields that changed"

    unchanged = await client.post(
        f"{base}/offers/{target}", data=form_fields((await client.get(f"{base}/offers/{target}")).text)
    )
    assert unchanged.headers["location"] == f"/desk/offers/{target}?done=unchanged"


async def test_an_invalid_value_changes_nothing_and_says_why(bot: BotUnderTest, desk: DeskClient) -> None:
    await bot.load_offers()
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    target = await offer_id(bot, "deutschkurs-vhs")
    form = form_fields((await client.get(f"{base}/offers/{target}")).text)

    refused = await client.post(
        f"{base}/offers/{target}",
        data={**form, "text_de_name": "Ganz neuer Name", "phone": "call me maybe", "hours": "mon 9-12"},
    )
    empty = await client.post(f"{base}/offers/{target}", data={**form, "text_en_summary": "  "})

    assert refused.status_code == 400
    assert GERMAN.gettext("Nothing was saved. Please correct the marked fields.") in refused.text
    phone = GERMAN.gettext(
        "“{field}” does not look like a phone number, for example +49 7150 123456.",
        field=GERMAN.gettext("Phone"),
    )
    hours = GERMAN.gettext(
        "“{field}” cannot be read. Write opening hours like: mon 09:00-12:00, 14:00-16:00; tue 10:00-12:00",
        field=GERMAN.gettext("Opening hours"),
    )
    assert phone in refused.text and hours in refused.text, "every problem at once"
    assert 'value="call me maybe"' in refused.text, "what was typed stays in the form"
    assert refused.text.count(' aria-invalid="true"') == 2
    assert empty.status_code == 400
    assert await german_name(bot, "deutschkurs-vhs") == "Deutschkurs für Erwachsene"
    assert (await offer(bot, "deutschkurs-vhs")).phone == "+49 7150 000001"
    assert await changes(bot, "deutschkurs-vhs") == [("import", None)]


async def test_an_admin_archives_restores_and_verifies_an_offer(bot: BotUnderTest, desk: DeskClient) -> None:
    await bot.load_offers()
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    target = await offer_id(bot, "tafel")
    csrf = csrf_of((await client.get(f"{base}/offers/{target}")).text)

    archived = await client.post(f"{base}/offers/{target}/status", data={"csrf": csrf, "action": "archive"})
    assert archived.headers["location"] == f"/desk/offers/{target}?done=archived"
    assert (await offer(bot, "tafel")).status == OfferStatus.ARCHIVED
    page = await client.get(f"{base}/offers/{target}?done=archived")
    assert GERMAN.gettext("Restore the offer") in page.text
    assert GERMAN.gettext("The offer was archived: people no longer see it.") in page.text

    restored = await client.post(f"{base}/offers/{target}/status", data={"csrf": csrf, "action": "restore"})
    verified = await client.post(f"{base}/offers/{target}/verify", data={"csrf": csrf})
    forged = await client.post(f"{base}/offers/{target}/status", data={"action": "archive"})
    missing = await client.post(f"{base}/offers/999999/verify", data={"csrf": csrf})

    assert restored.status_code == 303 and verified.status_code == 303
    stored = await offer(bot, "tafel")
    assert stored.status == OfferStatus.ACTIVE
    assert stored.last_verified == bot.clock.current.date()
    assert (forged.status_code, missing.status_code) == (403, 404)
    assert [action for action, _ in await changes(bot, "tafel")] == ["import", "archive", "restore", "verify"]


async def test_a_broken_import_file_shows_every_problem_and_imports_nothing(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    await bot.load_offers()
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    csrf = csrf_of((await client.get(f"{base}/offers")).text)
    before = await count_offers(bot)

    response = await client.post(
        f"{base}/offers/import",
        data={"csrf": csrf},
        files={"file": ("directory.yaml", BROKEN_FILE.encode(), "application/yaml")},
    )

    assert response.status_code == 400
    problems = re.findall(r"<li>(.*?)</li>", response.text)
    assert len(problems) == 3, problems
    assert any("8" in problem and "slug" in problem for problem in problems), "line and field"
    assert any("category" in problem for problem in problems)
    assert any("phone" in problem for problem in problems)
    assert await count_offers(bot) == before, "all or nothing: the good offer was not imported either"

    wrong_type = await client.post(
        f"{base}/offers/import",
        data={"csrf": csrf},
        files={"file": ("directory.txt", b"offers: []", "text/plain")},
    )
    not_text = await client.post(
        f"{base}/offers/import",
        data={"csrf": csrf},
        files={"file": ("directory.csv", b"\xff\xfe\x00\x81", "text/csv")},
    )
    forged = await client.post(
        f"{base}/offers/import", files={"file": ("directory.yaml", GOOD_FILE.encode(), "application/yaml")}
    )
    assert (wrong_type.status_code, not_text.status_code, forged.status_code) == (400, 400, 403)
    assert await count_offers(bot) == before


async def test_an_import_file_adds_offers_and_the_export_gives_the_directory_back(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    await bot.load_offers()
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    csrf = csrf_of((await client.get(f"{base}/offers")).text)
    before = await count_offers(bot)

    imported = await client.post(
        f"{base}/offers/import",
        data={"csrf": csrf},
        files={"file": ("directory.yaml", GOOD_FILE.encode(), "application/yaml")},
    )

    assert imported.status_code == 303
    assert imported.headers["location"] == "/desk/offers?done=import&new=1&changed=0&same=0"
    assert await count_offers(bot) == before + 1
    async with bot.sessions() as session:
        jonas = await session.scalar(select(Person.id).where(Person.telegram_id == JONAS))
        (change,) = (
            await session.scalars(select(OfferChange).where(OfferChange.offer_slug == "neues-angebot"))
        ).all()
    assert (change.action, change.source, change.changed_by) == ("import", "desk import", jonas)
    notice = await client.get(f"{base}/offers?done=import&new=1&changed=0&same=0")
    assert (
        GERMAN.gettext(
            "The file was imported: {new} new, {changed} changed, {same} unchanged.", new=1, changed=0, same=0
        )
        in notice.text
    )

    as_yaml = await client.get(f"{base}/offers/export.yaml")
    as_csv = await client.get(f"{base}/offers/export.csv")
    unknown = await client.get(f"{base}/offers/export.xlsx")

    assert as_yaml.status_code == 200
    assert as_yaml.headers["content-disposition"] == 'attachment; filename="wegweiser-offers-2026-03-02.yaml"'
    slugs = {item["slug"] for item in yaml.safe_load(as_yaml.text)["offers"]}
    assert "neues-angebot" in slugs and len(slugs) == before + 1
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {row["slug"] for row in rows} == slugs
    assert unknown.status_code == 404

    reimported = await client.post(
        f"{base}/offers/import",
        data={"csrf": csrf},
        files={"file": ("export.csv", as_csv.content, "text/csv")},
    )
    assert reimported.headers["location"] == f"/desk/offers?done=import&new=0&changed=0&same={before + 1}"


def form_fields(page: str) -> dict[str, str]:
    """The edit form's fields as the browser would send them (inputs, textareas, selects)."""
    found = re.search(r'<form method="post" action="/desk/offers/\d+">(.*?)</form>', page, re.S)
    assert found, "no edit form on the page"
    form = found.group(1)
    fields: dict[str, str] = {}
    for name, value in re.findall(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', form):
        fields[name] = unescape(value)
    for name, value in re.findall(r'<textarea[^>]*?name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        fields[name] = unescape(value)
    for name, options in re.findall(r'<select[^>]*?name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)"\s+selected', options)
        fields[name] = chosen.group(1) if chosen else ""
    return fields


# ---- staff ----------------------------------------------------------------------------------


async def test_an_invitation_link_makes_its_first_user_staff_and_refuses_the_second(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    csrf = csrf_of((await client.get(f"{base}/staff")).text)

    created = await client.post(
        f"{base}/staff/invite", data={"csrf": csrf, "role": "advisor", "name": "Nina Neu"}
    )

    assert created.status_code == 200
    found = INVITE.search(created.text)
    assert found, "the deep link is shown"
    link, token = found.groups()
    assert link.startswith(f"https://t.me/{bot.world.username}?start=invite_")
    listed = await client.get(f"{base}/staff")
    assert "Nina Neu" in listed.text and token not in listed.text, "listed as open, the link shown only once"

    nina = bot.person(NINA, "Nina", "de")
    accepted = await nina.send(f"/start invite_{token}")
    eve = bot.person(EVE, "Eve", "de")
    refused = await eve.send(f"/start invite_{token}")

    assert accepted[0].text == BOT_GERMAN.pgettext("start", WELCOME)
    assert len(accepted) == 2, "then the usual welcome"
    assert refused[0].text == BOT_GERMAN.pgettext("start", INVALID)
    assert (await role_of(bot, NINA), await role_of(bot, EVE)) == (Role.ADVISOR, Role.REFUGEE)
    (desk_link,) = await nina.send("/desk")
    assert "/signin/" in (desk_link.text or ""), "the new advisor signs in to the desk"


async def test_someone_whose_phone_language_the_bot_lacks_accepts_then_picks_a_language(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    csrf = csrf_of((await client.get(f"{base}/staff")).text)
    created = await client.post(
        f"{base}/staff/invite", data={"csrf": csrf, "role": "advisor", "name": "Nina"}
    )
    found = INVITE.search(created.text)
    assert found

    accepted, picker = await bot.person(NINA, "Nina", None).send(f"/start invite_{found.group(2)}")

    assert accepted.text == BOT_GERMAN.pgettext("start", WELCOME), "in the municipality's language"
    assert picker.buttons, "then the language picker, as for every first /start"
    assert await role_of(bot, NINA) == Role.ADVISOR


async def test_an_expired_or_withdrawn_invitation_is_refused_in_the_bot(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    csrf = csrf_of((await client.get(f"{base}/staff")).text)
    first = await client.post(f"{base}/staff/invite", data={"csrf": csrf, "role": "admin", "name": "Nina"})
    second = await client.post(f"{base}/staff/invite", data={"csrf": csrf, "role": "advisor", "name": "Eve"})
    first_match, second_match = INVITE.search(first.text), INVITE.search(second.text)
    assert first_match and second_match
    staff_page = (await client.get(f"{base}/staff")).text
    withdraw = re.search(r'action="(/desk/staff/invites/\d+/withdraw)"', staff_page)
    assert withdraw
    # The newest invitation (Eve's) is listed first.
    withdrawn = await client.post(f"{bot.running.base_url}{withdraw.group(1)}", data={"csrf": csrf})
    assert withdrawn.status_code == 303

    refused_withdrawn = await bot.person(EVE, "Eve", "de").send(f"/start invite_{second_match.group(2)}")
    bot.clock.advance(timedelta(days=7, minutes=1))
    refused_expired = await bot.person(NINA, "Nina", "de").send(f"/start invite_{first_match.group(2)}")

    assert refused_withdrawn[0].text == BOT_GERMAN.pgettext("start", INVALID)
    assert refused_expired[0].text == BOT_GERMAN.pgettext("start", INVALID)
    assert (await role_of(bot, NINA), await role_of(bot, EVE)) == (Role.REFUGEE, Role.REFUGEE)


async def test_an_invitation_needs_a_name_and_a_staff_role(bot: BotUnderTest, desk: DeskClient) -> None:
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    csrf = csrf_of((await client.get(f"{base}/staff")).text)

    no_name = await client.post(f"{base}/staff/invite", data={"csrf": csrf, "role": "advisor", "name": " "})
    refugee = await client.post(f"{base}/staff/invite", data={"csrf": csrf, "role": "refugee", "name": "X"})
    forged = await client.post(f"{base}/staff/invite", data={"role": "advisor", "name": "X"})

    assert (no_name.status_code, refugee.status_code, forged.status_code) == (400, 400, 403)
    assert INVITE.search(no_name.text) is None and INVITE.search(refugee.text) is None


async def test_an_admin_changes_a_role_and_removes_a_staff_member_whose_sessions_end(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    admin_client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    advisor_client, _ = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    await bot.make_staff(MARIA, Role.ADVISOR, "Maria Weber")
    page = await admin_client.get(f"{base}/staff")
    csrf = csrf_of(page.text)
    assert "Anna Berger" in page.text and "Maria Weber" in page.text
    maria, anna = await person_id(bot, MARIA), await person_id(bot, ANNA)

    promoted = await admin_client.post(f"{base}/staff/{maria}/role", data={"csrf": csrf, "role": "admin"})
    removed = await admin_client.post(f"{base}/staff/{anna}/remove", data={"csrf": csrf})

    assert (promoted.status_code, removed.status_code) == (303, 303)
    assert (await role_of(bot, MARIA), await role_of(bot, ANNA)) == (Role.ADMIN, Role.REFUGEE)
    assert (await advisor_client.get(f"{base}/agenda")).status_code == 401, "her desk session ended"
    again = await admin_client.post(f"{base}/staff/{anna}/remove", data={"csrf": csrf})
    assert again.status_code == 404, "no longer staff"


async def test_an_admin_cannot_change_or_remove_themselves(bot: BotUnderTest, desk: DeskClient) -> None:
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    csrf = csrf_of((await client.get(f"{base}/staff")).text)
    me = await person_id(bot, JONAS)

    demoted = await client.post(f"{base}/staff/{me}/role", data={"csrf": csrf, "role": "advisor"})
    removed = await client.post(f"{base}/staff/{me}/remove", data={"csrf": csrf})
    forged = await client.post(f"{base}/staff/{me}/remove")

    assert (demoted.status_code, removed.status_code, forged.status_code) == (400, 400, 403)
    assert await role_of(bot, JONAS) == Role.ADMIN


# ---- audit log ------------------------------------------------------------------------------


async def add_audit_entries(bot: BotUnderTest, count: int, case_number: str, action: str) -> None:
    async with session_scope(bot.sessions) as session:
        actor = await person_id(bot, ANNA)
        for n in range(count):
            await audit.record(
                session,
                actor_id=actor,
                actor_role="advisor",
                action=action,
                case_number=case_number,
                now=bot.clock.current + timedelta(seconds=n),
            )


async def test_the_audit_log_filters_pages_and_checks_its_chain(bot: BotUnderTest, desk: DeskClient) -> None:
    await bot.make_staff(ANNA, Role.ADVISOR, "Anna Berger")
    await add_audit_entries(bot, 130, "W-AAAAAA", "case.read")
    await add_audit_entries(bot, 3, "W-BBBBBB", "note.add")
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)

    newest = await client.get(f"{base}/audit")
    by_case = await client.get(f"{base}/audit", params={"case": "w-bbbbbb"})
    by_action = await client.get(f"{base}/audit", params={"action": "case.read", "page": "1"})
    other_day = await client.get(f"{base}/audit", params={"from": "2026-03-03"})

    assert newest.status_code == 200
    assert newest.text.count("<tr>") == 101, "100 entries and the heading"
    assert newest.text.index("W-BBBBBB") < newest.text.index("W-AAAAAA"), "newest first"
    assert "Anna Berger" in newest.text
    assert "page=1" in newest.text, "a link to older entries"
    assert by_case.text.count("W-BBBBBB</td>") == 3 and "W-AAAAAA</td>" not in by_case.text
    assert by_action.text.count("W-AAAAAA</td>") == 30
    assert GERMAN.gettext("No entries match.") in other_day.text

    csrf = csrf_of(newest.text)
    checked = await client.post(f"{base}/audit/check", data={"csrf": csrf})
    forged = await client.post(f"{base}/audit/check")

    assert checked.status_code == 200
    assert (
        GERMAN.ngettext(
            "The audit log is intact: {n} entry checked.",
            "The audit log is intact: {n} entries checked.",
            133,
        )
        in checked.text
    )
    assert forged.status_code == 403


async def test_a_tampered_audit_log_is_reported(bot: BotUnderTest, desk: DeskClient) -> None:
    await bot.make_staff(ANNA, Role.ADVISOR, "Anna Berger")
    await add_audit_entries(bot, 3, "W-AAAAAA", "case.read")
    database = Path(bot.settings.resolved_database_url().removeprefix("sqlite+aiosqlite:///"))
    with sqlite3.connect(database) as connection:  # an attacker with database access, past the triggers
        triggers = [
            row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        ]
        for trigger in triggers:
            connection.execute(f'DROP TRIGGER "{trigger}"')
        connection.execute("UPDATE audit_log SET case_number = 'W-ZZZZZZ' WHERE id = 2")
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    csrf = csrf_of((await client.get(f"{base}/audit")).text)

    checked = await client.post(f"{base}/audit/check", data={"csrf": csrf})

    assert (
        GERMAN.gettext(
            "The audit log was changed: entry {entry} does not fit the chain. "
            "Please tell the data protection officer.",
            entry=2,
        )
        in checked.text
    )


async def test_strangers_get_the_sign_in_page(bot: BotUnderTest) -> None:
    async with httpx.AsyncClient() as stranger:
        for path in ("/offers", "/staff", "/audit"):
            response = await stranger.get(f"{bot.running.base_url}/desk{path}")
            assert response.status_code == 401


async def test_a_csv_from_german_excel_is_imported_and_an_unreadable_file_refused_in_one_line(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    client, base = await desk(JONAS, "Jonas Admin", Role.ADMIN)
    csrf = csrf_of((await client.get(f"{base}/offers")).text)
    excel = "slug;category;name_de;summary_de\r\ntreff;leisure;Begegnungscafé;Für alle\r\n".encode("cp1252")

    imported = await client.post(
        f"{base}/offers/import", data={"csrf": csrf}, files={"file": ("angebote.csv", excel, "text/csv")}
    )
    refused = await client.post(
        f"{base}/offers/import",
        data={"csrf": csrf},
        files={"file": ("kaputt.csv", b"slug,category\n\x81\x8d,health\n", "text/csv")},
    )

    assert imported.status_code == 303
    async with bot.sessions() as session:
        names = (await session.scalars(select(OfferText.name).join(Offer).where(Offer.slug == "treff"))).all()
    assert names == ["Begegnungscafé"]
    assert refused.status_code == 400
    assert re.findall(r"<li>", refused.text) == []
    assert GERMAN.gettext(
        "The file cannot be read: it is neither UTF-8 nor Windows-1252 text. In Excel, save it as "
        "“CSV UTF-8” or “CSV (semicolon separated)”. Nothing was imported."
    ) in unescape(refused.text)
