"""Printable A4 posters that bring people to the bot: a QR code with the bot's deep link for one
poster source, and one line per supported language, each in its own script and direction.

Rendered with WeasyPrint (Pango shapes Arabic and Ethiopic script) in the Noto fonts; the QR code
is drawn by segno as SVG, so it stays sharp at any print size.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import TelegramError

from bot.config import Settings
from locales import ENDONYMS, SUPPORTED_LANGUAGES, Translator
from storage.posters import deep_link, valid_source

_TEMPLATE = """<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<title>Wegweiser – {{ municipality }}</title>
<style>
  @page { size: A4; margin: 14mm 16mm; }
  body { font-family: "Noto Sans", "Noto Sans Arabic", "Noto Naskh Arabic", "Noto Sans Ethiopic",
         sans-serif; color: #1d2733; margin: 0; }
  header { text-align: center; }
  h1 { font-size: 30pt; margin: 0 0 2mm; }
  .municipality { font-size: 15pt; margin: 0 0 6mm; color: #36597a; }
  .qr { display: block; margin: 0 auto 6mm; width: 78mm; height: 78mm; }
  .link { text-align: center; font-size: 10pt; margin: 0 0 6mm; color: #36597a; }
  ul { list-style: none; padding: 0; margin: 0; column-count: 2; column-gap: 10mm; }
  li { font-size: 12.5pt; line-height: 1.35; padding: 2.2mm 0; border-bottom: 0.3mm solid #cfd8e3;
       break-inside: avoid; }
  li[dir="rtl"] { text-align: right; font-size: 14pt; }
  .language { display: block; font-size: 9pt; color: #5b6b7c; }
</style>
</head>
<body>
<header>
  <h1>Wegweiser</h1>
  <p class="municipality">{{ heading }}</p>
</header>
<img class="qr" src="{{ qr_code }}" alt="">
<p class="link">{{ link }}</p>
<ul>
{% for line in lines %}
  <li lang="{{ line.language }}" dir="{{ line.direction }}">
    <span class="language">{{ line.name }}</span>{{ line.text }}
  </li>
{% endfor %}
</ul>
</body>
</html>
"""


def poster_line(t: Translator) -> str:
    """The one sentence a poster says in each language."""
    return t.pgettext("poster", "Scan the code with your phone to get help in your language.")


def poster_heading(t: Translator, municipality: str) -> str:
    return t.pgettext("poster", "Integration management {municipality}", municipality=municipality)


def poster_html(bot_username: str, source: str, municipality: str, zone: ZoneInfo) -> str:
    """The poster as an HTML page (the PDF is rendered from it)."""
    # Imported on use, like WeasyPrint below: `wegweiser run` builds its parser from this module.
    import segno
    from jinja2 import Environment, select_autoescape
    from markupsafe import Markup

    link = deep_link(bot_username, source)
    qr_code = segno.make(link, error="m").svg_data_uri(border=2)
    lines = []
    for language in SUPPORTED_LANGUAGES:
        t = Translator(language, zone)
        lines.append(
            {
                "language": language,
                "direction": "rtl" if t.rtl else "ltr",
                "name": ENDONYMS[language],
                # Translations are Telegram HTML already: values escaped, markup intended.
                "text": Markup(poster_line(t)),
            }
        )
    environment = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return environment.from_string(_TEMPLATE).render(
        municipality=municipality,
        heading=Markup(poster_heading(Translator("de", zone), municipality)),
        qr_code=qr_code,
        link=link,
        lines=lines,
    )


def poster_pdf(bot_username: str, source: str, municipality: str, zone: ZoneInfo) -> bytes:
    """A printable A4 PDF for one poster source."""
    from weasyprint import HTML  # imported on use: it loads Pango and fonts, which `run` never needs

    return HTML(string=poster_html(bot_username, source, municipality, zone)).write_pdf()


def add_poster_command(commands: argparse._SubParsersAction) -> None:
    """``wegweiser poster --source NAME [--out FILE.pdf] [--bot-username NAME]``."""
    poster = commands.add_parser("poster", help="write a printable A4 poster with the bot's QR code")
    poster.add_argument(
        "--source", required=True, metavar="NAME", help="where it hangs, e.g. rathaus (a-z, 0-9, -)"
    )
    poster.add_argument("--out", type=Path, metavar="FILE.pdf", help="default: wegweiser-poster-NAME.pdf")
    poster.add_argument(
        "--bot-username", metavar="NAME", help="the bot's @username (default: asked from Telegram)"
    )


async def write_poster(settings: Settings, args: argparse.Namespace) -> int:
    """Render the poster of one source to a PDF file; exit status 2 for a bad source or no bot name."""
    source: str = args.source
    if not valid_source(source):
        print(
            f"wegweiser: --source {source!r} must be 1-32 lowercase letters, digits or dashes",
            file=sys.stderr,
        )
        return 2
    username = (args.bot_username or "").lstrip("@") or await _bot_username(settings)
    if not username:
        print("wegweiser: give --bot-username, or configure WEGWEISER_TELEGRAM_TOKEN", file=sys.stderr)
        return 2
    out: Path = args.out or Path(f"wegweiser-poster-{source}.pdf")
    out.write_bytes(poster_pdf(username, source, settings.municipality, settings.zone))
    print(f"Wrote {out} with the link {deep_link(username, source)}")
    return 0


async def _bot_username(settings: Settings) -> str | None:
    """The bot's username from Telegram's getMe, or ``None`` without a token or an answer."""
    if settings.telegram_token is None:
        return None
    bot = Bot(settings.telegram_token.get_secret_value(), base_url=settings.telegram_api_url)
    try:
        async with bot:
            return bot.username
    except TelegramError as error:
        print(f"wegweiser: Telegram did not answer getMe ({type(error).__name__})", file=sys.stderr)
        return None
