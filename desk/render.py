"""Rendering desk pages: the Jinja2 environment and what every template gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from desk.auth import Visitor, services_of
from desk.i18n import DeskTexts

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))  # escapes .html


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
    return TEMPLATES.TemplateResponse(
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
