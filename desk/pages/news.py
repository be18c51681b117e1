"""News (admins): write a news item in German and optionally other languages, attach an offer,
preview it as each language will see it, send it now or at a set time to every subscriber or the
speakers of chosen languages, cancel it while it is queued, and follow queued / sent / blocked."""

from __future__ import annotations

import html
from datetime import datetime

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from desk.auth import Visitor, admin, checked_form, services_of
from desk.i18n import DeskTexts
from desk.render import page
from locales import ENDONYMS, SUPPORTED_LANGUAGES
from storage import news, offers
from storage.db import session_scope
from storage.news import NewsContent, NewsProblem

MAX_ID = 2**31 - 1


def _base(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def problem_text(texts: DeskTexts, reason: str) -> str:
    """Why the news cannot be sent as it is, for the admin."""
    problems = {
        "german_missing": texts.gettext("Please write the news in German; other languages are optional."),
        "too_long": texts.gettext("Each text may have at most {n} characters.").format(n=news.MAX_BODY),
        "unknown_language": texts.gettext("One of the languages is not supported."),
        "no_audience": texts.gettext("Please choose at least one language, or send it to everyone."),
        "offer_unknown": texts.gettext("This offer does not exist or is archived."),
        "in_the_past": texts.gettext("The sending time has already passed."),
        "bad_time": texts.gettext("Please give the sending time as a date and a time."),
    }
    return problems.get(reason, problems["german_missing"])


def _content(form: FormData) -> NewsContent:
    texts = {language: str(form.get(f"text_{language}", "")).strip() for language in SUPPORTED_LANGUAGES}
    offer = str(form.get("offer", "")).strip()
    audience = None
    if form.get("audience") == "languages":
        audience = frozenset(str(value) for value in form.getlist("language"))
    return NewsContent(
        texts={language: body for language, body in texts.items() if body},
        offer_id=int(offer) if offer.isdigit() and 0 < int(offer) <= MAX_ID else None,
        languages=audience,
    )


def _send_at(form: FormData, request: Request) -> datetime:
    services = services_of(request)
    if form.get("when") != "later":
        return services.clock()
    try:
        local = datetime.fromisoformat(str(form.get("send_at", "")))
    except ValueError:
        raise NewsProblem("bad_time") from None
    return local.replace(tzinfo=services.zone) if local.tzinfo is None else local


async def _page(request: Request, who: Visitor, *, status: int = 200, **context: object) -> Response:
    services = services_of(request)
    async with session_scope(services.sessions) as session:
        items = await news.recent_news(session)
        subscribers = await news.subscriber_count(session)
        choices = [
            (offer.id, offers.text_in(offer, "de").text.name if offers.text_in(offer, "de") else offer.slug)
            for offer in await offers.all_offers(session)
            if offer.status == "active"
        ]
    return page(
        request,
        "news.html",
        who.texts,
        who,
        status=status,
        section="news",
        title=who.texts.gettext("News"),
        items=items,
        subscribers=subscribers,
        offers=sorted(choices, key=lambda choice: choice[1].casefold()),
        languages=[(code, ENDONYMS[code]) for code in SUPPORTED_LANGUAGES],
        **context,
    )


async def news_page(request: Request) -> Response:
    who = await admin(request)
    return await _page(request, who, done=request.query_params.get("done", ""))


async def submit_news(request: Request) -> Response:
    """Preview the draft in every language, or schedule it."""
    who = await admin(request)
    await checked_form(request, who)
    form = await request.form()  # the same parsed form, with the language checkboxes' several values
    services = services_of(request)
    content = _content(form)
    draft = {key: str(value) for key, value in form.items() if key not in ("csrf", "language")}
    try:
        news.check_content(content, SUPPORTED_LANGUAGES)
        send_at = _send_at(form, request)
        if form.get("action") != "send":
            async with session_scope(services.sessions) as session:
                audience = await news.subscriber_count(session, content.languages)
            render = services.news_preview or (
                lambda _language, texts: html.escape(texts[news.SOURCE_LANGUAGE])
            )
            previews = [
                (code, ENDONYMS[code], render(code, content.texts))
                for code in sorted(content.languages or SUPPORTED_LANGUAGES, key=SUPPORTED_LANGUAGES.index)
            ]
            return await _page(
                request,
                who,
                draft=draft,
                selected_languages=sorted(content.languages or ()),
                previews=previews,
                audience=audience,
            )
        async with session_scope(services.sessions) as session:
            await news.create_news(
                session, content, who.person.id, send_at, services.clock(), SUPPORTED_LANGUAGES
            )
    except NewsProblem as problem:
        return await _page(
            request,
            who,
            status=400,
            draft=draft,
            selected_languages=sorted(content.languages or ()),
            problem=problem_text(who.texts, problem.reason),
        )
    return RedirectResponse(f"{_base(request)}/news?done=scheduled", status_code=303)


async def cancel(request: Request) -> Response:
    """Stop an item that is still scheduled or sending."""
    who = await admin(request)
    await checked_form(request, who)
    news_id = request.path_params["news_id"]
    services = services_of(request)
    async with session_scope(services.sessions) as session:
        stopped = await news.cancel_news(session, news_id, services.clock())
    return RedirectResponse(
        f"{_base(request)}/news?done={'cancelled' if stopped else 'not_cancelled'}", status_code=303
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/news", news_page),
        Route("/news", submit_news, methods=["POST"]),
        Route("/news/{news_id:id}/cancel", cancel, methods=["POST"]),
    ]
