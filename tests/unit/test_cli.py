"""The ``wegweiser`` command as an operator uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.support.cli import without_database_line


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("WEGWEISER_TELEGRAM_TOKEN", "WEGWEISER_DATABASE_URL", "WEGWEISER_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEGWEISER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_run_without_a_token_explains_botfather_and_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "@BotFather" in err and "wegweiser demo" in err


def test_a_wrong_setting_gets_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEGWEISER_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("WEGWEISER_DEFAULT_LANGUAGE", "xx")

    assert main(["run"]) == 2

    err = capsys.readouterr().err
    assert "WEGWEISER_TIMEZONE: 'Mars/Olympus' is not a known time zone" in err
    assert "WEGWEISER_DEFAULT_LANGUAGE: 'xx' is not one of" in err
    assert "Traceback" not in err


def test_staff_are_added_listed_and_removed(
    capsys: pytest.CaptureFixture[str], isolated_settings: Path
) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["staff", "add", "424242", "--role", "advisor", "--name", "Anna Berger"]) == 0
    assert main(["staff", "add", "515151", "--role", "admin", "--name", "Jonas"]) == 0
    capsys.readouterr()

    assert main(["staff", "list"]) == 0
    listed = capsys.readouterr().out
    assert "424242\tadvisor\tAnna Berger" in listed and "515151\tadmin\tJonas" in listed

    assert main(["staff", "remove", "424242"]) == 0
    assert main(["staff", "remove", "424242"]) == 1
    assert "is not a staff member" in capsys.readouterr().err
    assert (isolated_settings / "data" / "wegweiser.sqlite3").exists()


def test_an_unknown_role_is_refused_by_the_parser() -> None:
    with pytest.raises(SystemExit):
        main(["staff", "add", "1", "--role", "superuser", "--name", "X"])


@pytest.mark.parametrize("telegram_id", ["0", "-1001234567890"])
def test_staff_add_refuses_ids_that_are_not_people(
    capsys: pytest.CaptureFixture[str], telegram_id: str
) -> None:
    assert main(["staff", "add", telegram_id, "--role", "admin", "--name", "A group"]) == 2
    err = capsys.readouterr().err
    assert "a Telegram user id is a positive number" in err and "nothing was changed" in err

    assert main(["staff", "list"]) == 0
    assert "No staff yet" in capsys.readouterr().out


def test_staff_add_says_when_it_changes_a_member_s_role(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "add", "424242", "--role", "advisor", "--name", "Anna Berger"]) == 0
    assert capsys.readouterr().out.strip() == "424242 is now advisor: Anna Berger"

    assert main(["staff", "add", "424242", "--role", "admin", "--name", "Anna Berger"]) == 0
    assert capsys.readouterr().out.strip() == "424242 was advisor and is now admin: Anna Berger"


def test_offers_import_reads_german_excel_and_refuses_an_unreadable_file_in_one_line(
    capsys: pytest.CaptureFixture[str], isolated_settings: Path
) -> None:
    excel = isolated_settings / "angebote.csv"
    excel.write_bytes(
        "slug;category;name_de;summary_de\r\ntreff;leisure;Begegnungscafé;Für alle\r\n".encode("cp1252")
    )
    unreadable = isolated_settings / "kaputt.csv"
    unreadable.write_bytes(b"slug,category\n\x81\x8d,health\n")

    assert main(["offers", "import", str(excel)]) == 0
    assert "1 new" in capsys.readouterr().out
    assert main(["offers", "import", str(unreadable)]) == 1
    err = without_database_line(capsys.readouterr().err)
    assert err.count("\n") == 1 and "neither UTF-8 nor Windows-1252" in err and "Traceback" not in err


def test_run_without_an_audit_key_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEGWEISER_TELEGRAM_TOKEN", "123:abc")
    monkeypatch.setenv("WEGWEISER_CASE_DATA_KEY", "0Hn1MHk7nZq5Xk3b7aQ8mJ8b3n0pD0Wg2h1mYxk3QeU=")
    monkeypatch.delenv("WEGWEISER_AUDIT_KEY", raising=False)

    assert main(["run"]) == 2
    assert "WEGWEISER_AUDIT_KEY is not set" in capsys.readouterr().err

    monkeypatch.setenv("WEGWEISER_AUDIT_KEY", "too-short")
    assert main(["run"]) == 2
    assert "WEGWEISER_AUDIT_KEY: each key needs at least 32 characters" in capsys.readouterr().err
