"""Importing and exporting the offer directory as a file (YAML or CSV, see docs/offers-format.md):
every offer in an upload is checked first, and all are imported or none (``storage.offer_files``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from desk.auth import admin, checked_form, services_of
from desk.i18n import DeskTexts
from desk.pages.common import local_today, redirect
from desk.pages.offers import offers_page
from storage.db import session_scope

MAX_UPLOAD = 2 * 1024 * 1024
UPLOAD_SUFFIXES = (".yaml", ".yml", ".csv")


def unreadable_text(texts: DeskTexts, reason: str) -> str:
    """Why a file could not be read at all, in one line."""
    if reason == "encoding":
        return texts.gettext(
            "The file cannot be read: it is neither UTF-8 nor Windows-1252 text. In Excel, save it as "
            "“CSV UTF-8” or “CSV (semicolon separated)”. Nothing was imported."
        )
    return texts.gettext(
        "The file cannot be read as a table: columns must be separated by commas, semicolons or "
        "tabs. Nothing was imported."
    )


async def import_file(request: Request) -> Response:
    """Upload a directory file: every offer in it is checked first, and all are imported or none."""
    from storage import offer_files  # with its YAML reader, loaded by the first upload or download

    who = await admin(request)
    await checked_form(request, who)
    upload = (await request.form()).get("file")
    texts = who.texts
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await offers_page(request, who, status=400, problem=texts.gettext("Please choose a file."))
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        problem = texts.gettext("Please upload a .yaml, .yml or .csv file.")
        return await offers_page(request, who, status=400, problem=problem)
    content = await upload.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        problem = texts.gettext("The file is too large: at most 2 MB.")
        return await offers_page(request, who, status=400, problem=problem)
    services = services_of(request)
    try:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / f"upload{suffix}"
            path.write_bytes(content)
            async with session_scope(services.sessions) as session:
                result = await offer_files.import_offers(
                    session, path, services.clock(), source="desk import", changed_by=who.person.id
                )
    except offer_files.ImportRejected as rejected:
        problem = texts.ngettext(
            "The file has {n} problem. Nothing was imported.",
            "The file has {n} problems. Nothing was imported.",
            len(rejected.problems),
        )
        return await offers_page(request, who, status=400, problem=problem, import_problems=rejected.problems)
    except offer_files.UnreadableFile as unreadable:
        problem = unreadable_text(texts, unreadable.reason)
        return await offers_page(request, who, status=400, problem=problem)
    return redirect(
        request,
        "/offers",
        done="import",
        new=len(result.created),
        changed=len(result.updated),
        same=len(result.unchanged),
    )


async def export_file(request: Request) -> Response:
    """The whole directory, archived offers too, as the file format the import reads."""
    from storage import offer_files

    await admin(request)
    suffix = request.path_params["suffix"]
    if suffix not in ("yaml", "csv"):
        raise HTTPException(404)
    services = services_of(request)
    today = local_today(request)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"offers.{suffix}"
        async with session_scope(services.sessions) as session:
            await offer_files.export_offers(session, path, today)
        content = path.read_bytes()
    media_type = "text/csv; charset=utf-8" if suffix == "csv" else "application/yaml; charset=utf-8"
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="wegweiser-offers-{today.isoformat()}.{suffix}"'
        },
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/offers/import", import_file, methods=["POST"]),
        Route("/offers/export.{suffix}", export_file),
    ]
