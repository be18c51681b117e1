"""The printed poster: its QR code decodes to the bot's deep link for the source, and it carries
every language's line, in its own script (checked in the PDF's text, after real text shaping)."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image

from bot.cli import main
from bot.posters import poster_line, poster_pdf
from locales import ENDONYMS, SUPPORTED_LANGUAGES, Translator

BERLIN = ZoneInfo("Europe/Berlin")
LINK = "https://t.me/HemmingenWegweiserBot?start=p_rathaus-eingang"
# Text extracted from a PDF splits Arabic ligatures (lam-alef, alef maksura after lam) into their
# letters in visual order; the comparison leaves those letters out on both sides.
LIGATURE_LETTERS = str.maketrans("", "", "لاىيی")


def rendered_page(pdf: Path, out: Path) -> Image.Image:
    subprocess.run(["pdftoppm", "-r", "110", "-png", "-singlefile", pdf, out], check=True)
    return Image.open(out.with_suffix(".png"))


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", pdf, "-"], check=True, capture_output=True, text=True).stdout


def comparable(text: str) -> str:
    """Letters only: no spaces, punctuation, bidi controls or line breaks; ligatures unfolded."""
    letters = "".join(
        ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch)[0] in "LMN"
    )
    return letters.translate(LIGATURE_LETTERS)


@pytest.fixture(scope="module")
def poster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert shutil.which("pdftoppm"), "tests/run.sh installs poppler-utils"
    path = tmp_path_factory.mktemp("poster") / "poster.pdf"
    path.write_bytes(poster_pdf("HemmingenWegweiserBot", "rathaus-eingang", "Hemmingen", BERLIN))
    return path


def test_the_qr_code_decodes_to_the_deep_link_of_the_source(poster: Path, tmp_path: Path) -> None:
    page = rendered_page(poster, tmp_path / "page")

    codes = zxingcpp.read_barcodes(page)

    assert [(code.format, code.text) for code in codes] == [(zxingcpp.BarcodeFormat.QRCode, LINK)]
    assert page.size[0] < page.size[1], "A4 portrait"


def test_the_poster_carries_every_language_in_its_own_script(poster: Path) -> None:
    text = comparable(pdf_text(poster))

    # Word by word: extraction may order the runs of a right-to-left line around a comma differently.
    missing = {
        language: word
        for language in SUPPORTED_LANGUAGES
        for word in [*poster_line(Translator(language, BERLIN)).split(), ENDONYMS[language]]
        if comparable(word) not in text
    }

    assert missing == {}
    assert "Hemmingen" in text


def test_every_language_line_is_translated() -> None:
    english = poster_line(Translator("en", BERLIN))
    untranslated = [
        language
        for language in SUPPORTED_LANGUAGES
        if language != "en" and poster_line(Translator(language, BERLIN)) == english
    ]
    assert untranslated == []


def test_the_command_writes_the_pdf_and_refuses_a_malformed_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("WEGWEISER_TELEGRAM_TOKEN", raising=False)
    monkeypatch.setenv("WEGWEISER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "aushang.pdf"

    assert main(["poster", "--source", "rathaus", "--bot-username", "@WegweiserBot", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert "https://t.me/WegweiserBot?start=p_rathaus" in capsys.readouterr().out

    for bad in ("Rathaus", "rat haus", "x" * 33, "-start", "ünter"):
        assert main(["poster", f"--source={bad}", "--bot-username", "WegweiserBot"]) == 2
        assert "--source" in capsys.readouterr().err
    assert main(["poster", "--source", "rathaus"]) == 2, "no token to ask Telegram for the bot's name"
    assert "--bot-username" in capsys.readouterr().err
