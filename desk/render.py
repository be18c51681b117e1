"""Rendering desk pages: the Jinja2 environment and what every template gets."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from desk.auth import Visitor, services_of
from desk.i18n import DeskTexts

if TYPE_CHECKING:
    from starlette.templating import Jinja2Templates


@cache
def templates() -> Jinja2Templates:
    """The desk's templates (``.html`` escaped), made by the first page shown: Jinja2 takes ~2 MB
    that a bot whose desk nobody opens does not need."""
    from starlette.templating import Jinja2Templates

    return Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def page(
    request: Request,
    template: str,
    texts: DeskTexts,
    who: Visitor | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page in the visitor's language, with the layout's navigation and the CSRF token."""
    services = services_of(request)
    return templates().TemplateResponse(
        request,
        template,
        {
            "_": texts.gettext,
            "ngettext": texts.ngettext,
            "t": texts,
            "who": who,
            "csrf": who.csrf_token if who else "",
            "municipality": services.municipality,
            **context,
        },
        status_code=status,
    )
