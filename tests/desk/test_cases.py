"""The advisors' case pages over HTTP: taking a case on, the needs assessment, the plan, reviews and
notes (stored encrypted, audited, shown back), and every refusal: another advisor, an admin, a
form without its CSRF token, a person without consent, a desk without the case-data key."""

from __future__ import annotations

import dataclasses
import html
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select

from bot.app import desk_services
from desk.app import create_desk
from desk.i18n import DeskTexts
from desk.pages.case_texts import consent_first, no_key, notices, problems
from storage import people
from storage.models import (
    AuditEntry,
    Case,
    CaseNote,
    Consent,
    DeskSession,
    Goal,
    NeedAssessment,
    Review,
    Role,
)
from tests.desk.conftest import DeskClient, case_of, csrf_of, sign_in_link, sign_in_with
from tests.support.harness import BotUnderTest

GERMAN = DeskTexts("de", ZoneInfo("Europe/Berlin"))
ANNA, BEN, JONAS = 8800, 8801, 8802  # two advisors and an admin
AMIRA = 8850  # the person whose case it is


async def person_id(bot: BotUnderTest, telegram_id: int) -> int:
    async with bot.sessions() as session:
        person = await people.person_by_telegram_id(session, telegram_id)
        assert person is not None
        return person.id


async def stored_case(bot: BotUnderTest, case_id: int) -> Case:
    async with bot.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        return case


async def count(bot: BotUnderTest, model: type, *where: object) -> int:
    async with bot.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def audited(bot: BotUnderTest, actor_id: int) -> list[str]:
    async with bot.sessions() as session:
        rows = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_id == actor_id).order_by(AuditEntry.id)
        )
        return list(rows)


def text_of(response: httpx.Response) -> str:
    return html.unescape(response.text)


async def post(client: httpx.AsyncClient, url: str, page_url: str, **fields: str) -> httpx.Response:
    """Post a form as the browser would: with the CSRF token of the page it is on."""
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    return await client.post(url, data={"csrf": csrf_of(page.text), **fields})


async def test_an_advisor_takes_a_case_on_and_writes_its_plan(bot: BotUnderTest, desk: DeskClient) -> None:
    case = await case_of(bot, AMIRA)
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    anna = await person_id(bot, ANNA)
    page_url = f"{base}/cases/{case.id}"

    unassigned = await client.get(f"{base}/cases?show=unassigned")
    assert unassigned.status_code == 200
    assert case.number in unassigned.text and "Amira" in unassigned.text
    taken = await client.post(f"{base}/cases/{case.id}/take", data={"csrf": csrf_of(unassigned.text)})
    assert taken.status_code == 303
    assert taken.headers["location"] == f"/desk/cases/{case.id}?done=taken#status"
    mine = await client.get(f"{base}/cases")
    assert case.number in mine.text

    need = await post(
        client, f"{page_url}/needs", page_url, area="language", status="need", note="Braucht einen B1-Kurs."
    )
    assert need.status_code == 303
    goal = await post(
        client,
        f"{page_url}/goals",
        page_url,
        area="language",
        goal="B1-Kurs anfangen",
        steps="Anmeldung bei der VHS",
        due_on="2026-06-30",
    )
    assert goal.status_code == 303
    async with bot.sessions() as session:
        goal_id = await session.scalar(select(Goal.id).where(Goal.case_id == case.id))
    changed = await post(
        client,
        f"{base}/goals/{goal_id}",
        page_url,
        case=str(case.id),
        goal="B1-Kurs abschließen",
        steps="Anmeldung bei der VHS\r\nPrüfung im Herbst",
        due_on="2026-11-30",
        status="in_progress",
    )
    assert changed.status_code == 303
    assert changed.headers["location"].endswith(f"/cases/{case.id}?done=goal_changed#plan")
    review = await post(
        client,
        f"{page_url}/reviews",
        page_url,
        held_on="2026-03-02",
        summary="Kurs läuft gut.",
        next_review_on="",
    )
    assert review.status_code == 303
    note = await post(client, f"{page_url}/notes", page_url, text="Erstgespräch mit Dolmetscherin.")
    assert note.status_code == 303

    shown = text_of(await client.get(f"{page_url}?done=note"))
    for typed in (
        "Braucht einen B1-Kurs.",
        "B1-Kurs abschließen",
        "Prüfung im Herbst",
        "Kurs läuft gut.",
        "Erstgespräch mit Dolmetscherin.",
        notices(GERMAN)["note"],
        GERMAN.date(date(2026, 11, 30)),
        GERMAN.date(date(2026, 3, 2) + timedelta(days=91)),  # the next review, three months on
    ):
        assert typed in shown, typed
    assert "B1-Kurs anfangen" not in shown

    async with bot.sessions() as session:
        stored_need = await session.scalar(select(NeedAssessment).where(NeedAssessment.case_id == case.id))
        stored_goal = await session.get(Goal, goal_id)
        stored_review = await session.scalar(select(Review).where(Review.case_id == case.id))
        stored_note = await session.scalar(select(CaseNote).where(CaseNote.case_id == case.id))
        stored_case = await session.get(Case, case.id)
    assert stored_need is not None and stored_goal is not None
    assert stored_review is not None and stored_note is not None and stored_case is not None
    assert stored_case.advisor_id == anna and stored_case.status == "active"
    assert (stored_goal.status, stored_goal.due_on) == ("in_progress", date(2026, 11, 30))
    assert bot.application is not None
    cipher = bot.application.bot_data.runtime.cipher
    assert cipher is not None
    for token, plain in (
        (stored_need.note, "Braucht einen B1-Kurs."),
        (stored_goal.goal, "B1-Kurs abschließen"),
        (stored_goal.steps, "Anmeldung bei der VHS\nPrüfung im Herbst"),
        (stored_review.summary, "Kurs läuft gut."),
        (stored_note.text, "Erstgespräch mit Dolmetscherin."),
    ):
        assert token is not None and token.startswith("gAAAAA") and plain not in token
        assert cipher.decrypt(token) == plain

    actions = await audited(bot, anna)
    for action in (
        "cases.list",
        "case.take",
        "need.write",
        "goal.add",
        "goal.update",
        "review.add",
        "note.add",
    ):
        assert action in actions, action
    assert actions.count("case.read") >= 6
    async with bot.sessions() as session:
        numbers = set(
            await session.scalars(
                select(AuditEntry.case_number).where(
                    AuditEntry.actor_id == anna, AuditEntry.action != "cases.list"
                )
            )
        )
    assert numbers == {case.number}


async def test_another_advisor_is_refused_a_case_by_its_address(bot: BotUnderTest, desk: DeskClient) -> None:
    case = await case_of(bot, AMIRA)
    anna_client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    ben_client, _ = await desk(BEN, "Ben Krause", Role.ADVISOR)
    await post(anna_client, f"{base}/cases/{case.id}/take", f"{base}/cases/{case.id}")
    ben = await person_id(bot, BEN)
    ben_cases = await ben_client.get(f"{base}/cases")
    entries_before = await count(bot, AuditEntry)

    refused = await ben_client.get(f"{base}/cases/{case.id}")
    by_form = await ben_client.post(
        f"{base}/cases/{case.id}/notes", data={"csrf": csrf_of(ben_cases.text), "text": "Ben war hier."}
    )
    taken_over = await ben_client.post(f"{base}/cases/{case.id}/take", data={"csrf": csrf_of(ben_cases.text)})

    assert refused.status_code == by_form.status_code == taken_over.status_code == 403
    assert GERMAN.gettext("Not allowed") in text_of(refused)
    assert "Amira" not in refused.text and case.number not in refused.text
    assert await count(bot, AuditEntry) == entries_before  # a refusal reads nothing, so audits nothing
    assert await audited(bot, ben) == ["cases.list"]
    assert await count(bot, CaseNote) == 0
    anna = await person_id(bot, ANNA)
    assert (await stored_case(bot, case.id)).advisor_id == anna


async def test_an_admin_is_refused_every_case_page(bot: BotUnderTest, desk: DeskClient) -> None:
    case = await case_of(bot, AMIRA)
    client, base = await desk(JONAS, "Jonas Wolf", Role.ADMIN)
    home = await client.get(f"{base}/nowhere")  # any page of the desk gives the admin's token...
    assert home.status_code == 404
    async with bot.sessions() as session:
        csrf = await session.scalar(select(DeskSession.csrf_token))  # ...which is in the database

    for response in (
        await client.get(f"{base}/cases"),
        await client.get(f"{base}/cases?show=unassigned"),
        await client.get(f"{base}/cases/{case.id}"),
        await client.post(f"{base}/cases/{case.id}/take", data={"csrf": csrf}),
        await client.post(f"{base}/cases/{case.id}/notes", data={"csrf": csrf, "text": "x"}),
    ):
        assert response.status_code == 403
        assert "Amira" not in response.text
    assert await count(bot, AuditEntry) == 0
    assert await count(bot, CaseNote) == 0
    assert (await stored_case(bot, case.id)).advisor_id is None


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    case = await case_of(bot, AMIRA)
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    page_url = f"{base}/cases/{case.id}"
    await post(client, f"{page_url}/take", page_url)
    entries_before = await count(bot, AuditEntry)

    missing = await client.post(f"{page_url}/notes", data={"text": "ohne Token"})
    wrong = await client.post(f"{page_url}/notes", data={"csrf": "guessed", "text": "falsches Token"})
    closing = await client.post(f"{page_url}/close", data={})

    assert missing.status_code == wrong.status_code == closing.status_code == 403
    assert "Traceback" not in missing.text
    assert await count(bot, CaseNote) == 0
    assert await count(bot, AuditEntry) == entries_before
    assert (await stored_case(bot, case.id)).status == "new"


async def test_without_consent_the_page_explains_and_nothing_is_stored(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    case = await case_of(bot, AMIRA, consented=False)
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    page_url = f"{base}/cases/{case.id}"
    await post(client, f"{page_url}/take", page_url)

    shown = await client.get(page_url)
    need = await post(client, f"{page_url}/needs", page_url, area="work", status="need", note="Sucht Arbeit.")
    goal = await post(client, f"{page_url}/goals", page_url, area="work", goal="Arbeit finden", steps="")
    note = await post(client, f"{page_url}/notes", page_url, text="Notiz")

    assert consent_first(GERMAN) in text_of(shown)
    assert f'action="/desk/cases/{case.id}/needs"' not in shown.text
    for refused in (need, goal, note):
        assert refused.status_code == 403
        assert consent_first(GERMAN) in text_of(refused)
        assert "Sucht Arbeit." not in text_of(refused)
    for model in (NeedAssessment, Goal, CaseNote):
        assert await count(bot, model) == 0

    unconfirmed = await post(client, f"{page_url}/consents", page_url, purpose="case", language="ar")
    assert unconfirmed.status_code == 400
    assert await count(bot, Consent) == 0
    recorded = await post(
        client, f"{page_url}/consents", page_url, purpose="case", language="ar", confirmed="yes"
    )
    assert recorded.status_code == 303
    async with bot.sessions() as session:
        given = await session.scalar(select(Consent))
    assert given is not None
    assert (given.purpose, given.language, given.given_how) == ("case", "ar", "in_person")
    assert given.recorded_by == await person_id(bot, ANNA)
    assert "consent.record" in await audited(bot, given.recorded_by)
    opened = text_of(await client.get(page_url))
    assert consent_first(GERMAN) not in opened
    assert "Arabisch" in opened, "staff read language names in German"
    assert f'action="/desk/cases/{case.id}/needs"' in opened


async def test_invalid_input_is_explained_and_what_was_typed_is_kept(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    case = await case_of(bot, AMIRA)
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    page_url = f"{base}/cases/{case.id}"
    await post(client, f"{page_url}/take", page_url)

    empty = await post(
        client, f"{page_url}/goals", page_url, area="work", goal="  ", steps="Lebenslauf schreiben"
    )
    bad_date = await post(client, f"{page_url}/goals", page_url, area="work", goal="Job", due_on="31.02.2026")
    bad_area = await post(client, f"{page_url}/needs", page_url, area="moon", status="need", note="")
    backwards = await post(
        client,
        f"{page_url}/reviews",
        page_url,
        held_on="2026-03-02",
        summary="ok",
        next_review_on="2026-03-01",
    )

    assert empty.status_code == bad_date.status_code == bad_area.status_code == backwards.status_code == 400
    assert problems(GERMAN)["empty"] in text_of(empty)
    assert "Lebenslauf schreiben" in text_of(empty)  # kept in the form
    assert problems(GERMAN)["bad_date"] in text_of(bad_date)
    assert problems(GERMAN)["area"] in text_of(bad_area)
    assert problems(GERMAN)["date"] in text_of(backwards)
    for model in (Goal, NeedAssessment, Review):
        assert await count(bot, model) == 0


async def test_the_period_is_extended_once_and_the_case_closes_and_reopens(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    case = await case_of(bot, AMIRA)
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    page_url = f"{base}/cases/{case.id}"
    await post(client, f"{page_url}/take", page_url)

    extended = await post(client, f"{page_url}/extend", page_url, reason="Ausbildung läuft noch.")
    again = await post(client, f"{page_url}/extend", page_url, reason="Noch einmal.")
    reopen_open = await post(client, f"{page_url}/reopen", page_url)
    closed = await post(client, f"{page_url}/close", page_url)
    closed_page = text_of(await client.get(page_url))
    reopened = await post(client, f"{page_url}/reopen", page_url)

    assert extended.status_code == 303
    assert again.status_code == 400 and problems(GERMAN)["extended"] in text_of(again)
    assert reopen_open.status_code == 400 and problems(GERMAN)["not_closed"] in text_of(reopen_open)
    assert closed.status_code == reopened.status_code == 303
    assert GERMAN.gettext("Reopen the case") in closed_page
    async with bot.sessions() as session:
        stored = await session.get(Case, case.id)
    assert stored is not None
    assert (stored.period_start, stored.period_end) == (date(2026, 3, 2), date(2030, 3, 2))
    assert stored.status == "new" and stored.closed_at is None
    page = text_of(await client.get(page_url))
    assert "Ausbildung läuft noch." in page and "Noch einmal." not in page
    assert GERMAN.date(date(2030, 3, 2)) in page


async def test_the_filters_show_cases_whose_review_is_due(bot: BotUnderTest, desk: DeskClient) -> None:
    case = await case_of(bot, AMIRA)
    quiet = await case_of(bot, AMIRA + 1)
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    for each in (case, quiet):
        await post(client, f"{base}/cases/{each.id}/take", f"{base}/cases/{each.id}")
    await post(
        client, f"{base}/cases/{case.id}/goals", f"{base}/cases/{case.id}", area="housing", goal="Wohnung"
    )

    bot.clock.advance(timedelta(days=92))
    client, _ = await desk(ANNA, "Anna Berger", Role.ADVISOR)  # the old session is long idle
    due = await client.get(f"{base}/cases?show=review_due")
    ending = await client.get(f"{base}/cases?show=period_ending")
    unknown = await client.get(f"{base}/cases?show=everything")

    assert case.number in due.text and quiet.number not in due.text
    assert GERMAN.gettext("Review due") in text_of(due)
    assert case.number not in ending.text
    assert case.number in unknown.text and quiet.number in unknown.text  # an unknown filter shows "mine"


async def test_without_the_case_data_key_texts_stay_sealed_and_are_not_written(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    case = await case_of(bot, AMIRA)
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    page_url = f"{base}/cases/{case.id}"
    await post(client, f"{page_url}/take", page_url)
    await post(client, f"{page_url}/notes", page_url, text="Vertraulich.")
    assert bot.application is not None
    runtime = bot.application.bot_data.runtime
    keyless = dataclasses.replace(desk_services(runtime, bot.application.bot.username), cipher=None)
    bot.running.mount("/keyless", create_desk(keyless))
    link = (await sign_in_link(bot, ANNA)).replace("/desk/signin/", "/keyless/signin/")
    async with httpx.AsyncClient(timeout=15) as keyless_client:
        assert (await sign_in_with(keyless_client, link)).status_code == 303
        keyless_url = f"{bot.running.base_url}/keyless/cases/{case.id}"

        sealed = await keyless_client.get(keyless_url)
        refused = await post(keyless_client, f"{keyless_url}/notes", keyless_url, text="Ohne Schlüssel.")
        closed = await post(keyless_client, f"{keyless_url}/close", keyless_url)

    assert sealed.status_code == 200
    assert no_key(GERMAN) in text_of(sealed)
    assert "Vertraulich." not in text_of(sealed)
    assert refused.status_code == 400 and no_key(GERMAN) in text_of(refused)
    assert await count(bot, CaseNote) == 1
    assert closed.status_code == 303  # what holds no text still works


async def test_unknown_case_ids_are_refused_and_impossible_ones_not_found(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    client, base = await desk(ANNA, "Anna Berger", Role.ADVISOR)
    cases_page = await client.get(f"{base}/cases")

    missing = await client.get(f"{base}/cases/4242")
    huge = await client.get(f"{base}/cases/99999999999999999999999")
    goal = await client.post(f"{base}/goals/4242", data={"csrf": csrf_of(cases_page.text), "case": "4242"})

    assert missing.status_code == 403  # unknown and not allowed look the same
    assert huge.status_code == 404
    assert goal.status_code == 403
