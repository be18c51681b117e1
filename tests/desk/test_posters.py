"""Admins download posters on the desk and see how many people each one brought; advisors cannot."""

from __future__ import annotations

import subprocess
from pathlib import Path

import zxingcpp
from PIL import Image

from storage.models import Role
from tests.desk.conftest import DeskClient
from tests.support.harness import BotUnderTest

JONAS, ANNA = 9800, 9801


async def test_an_admin_downloads_a_poster_whose_code_opens_the_bot_from_that_place(
    bot: BotUnderTest, desk: DeskClient, tmp_path: Path
) -> None:
    client, base = await desk(JONAS, "Jonas", Role.ADMIN)

    response = await client.get(f"{base}/posters.pdf", params={"source": "tafel"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="wegweiser-poster-tafel.pdf"' in response.headers["content-disposition"]
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(response.content)
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", pdf, tmp_path / "page"], check=True)
    (code,) = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))
    assert code.text == f"https://t.me/{bot.application.bot.username}?start=p_tafel"


async def test_the_posters_page_counts_arrivals_and_explains_a_bad_place_name(
    bot: BotUnderTest, desk: DeskClient
) -> None:
    client, base = await desk(JONAS, "Jonas", Role.ADMIN)
    await bot.person(9810, "Amira", "ar").send("/start p_rathaus")
    await bot.person(9811, "Olena", "uk").send("/start p_rathaus")

    page = await client.get(f"{base}/posters")
    refused = await client.get(f"{base}/posters.pdf", params={"source": "Rathaus Eingang"})

    assert page.status_code == 200
    assert "<td>rathaus</td><td>2</td><td>2</td>" in page.text.replace("\n", "")
    assert refused.status_code == 400
    assert "Kleinbuchstaben" in refused.text, "the admin is told what a place name may contain"


async def test_advisors_are_refused_posters(bot: BotUnderTest, desk: DeskClient) -> None:
    client, base = await desk(ANNA, "Anna", Role.ADVISOR)

    for path in ("/posters", "/posters.pdf?source=rathaus"):
        assert (await client.get(f"{base}{path}")).status_code == 403
