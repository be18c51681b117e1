"""Configuration that cannot be misread: which file, which database, one line and exit status 2 for
each wrong setting or unreachable service, never a traceback and never the token."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_settings
from bot.preflight import StartupProblem, wait_for_telegram
from storage.crypto import new_key
from tests.support.cli import (
    free_port,
    operator_environment,
    problem_lines,
    sandbox_in_a_thread,
)
from tests.support.databases import POSTGRES_ADMIN_DSN, postgres_available

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture(autouse=True)
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    operator_environment(monkeypatch, tmp_path)
    return tmp_path


def one_problem(capsys: pytest.CaptureFixture[str]) -> str:
    """The single problem line a failed command printed (besides the database line)."""
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    lines = problem_lines(captured.err)
    assert len(lines) == 1, lines
    return lines[0]


def postgres_server() -> str:
    """host:port of the test PostgreSQL server (the test is skipped without one)."""
    reason = postgres_available()
    if reason is not None:
        pytest.skip(reason)
    return POSTGRES_ADMIN_DSN.split("@", 1)[1].rsplit("/", 1)[0]


def ready_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEGWEISER_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("WEGWEISER_CASE_DATA_KEY", new_key())
    monkeypatch.setenv("WEGWEISER_AUDIT_KEY", new_key())
    monkeypatch.setenv("WEGWEISER_DESK_PORT", str(free_port()))
    monkeypatch.setenv("WEGWEISER_METRICS_PORT", "0")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("wegweiser 0.")


def test_every_database_command_names_the_database_and_the_settings_file(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["staff", "list"]) == 0

    err = capsys.readouterr().err
    database = workdir / "data" / "wegweiser.sqlite3"
    assert err.startswith(f"wegweiser: database SQLite file {database} (new: it does not exist yet);")
    assert "no env file" in err


@pytest.mark.parametrize("how", ["--env-file", "WEGWEISER_ENV_FILE"])
def test_an_explicit_env_file_is_read_wherever_the_command_runs(
    how: str, workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = workdir / "etc" / "wegweiser.env"
    config.parent.mkdir()
    config.write_text(f"WEGWEISER_DATA_DIR={workdir / 'srv'}\n", encoding="utf-8")
    (workdir / ".env").write_text(f"WEGWEISER_DATA_DIR={workdir / 'wrong'}\n", encoding="utf-8")
    monkeypatch.delenv("WEGWEISER_DATA_DIR")
    if how == "WEGWEISER_ENV_FILE":
        monkeypatch.setenv("WEGWEISER_ENV_FILE", str(config))
        arguments = ["db", "upgrade"]
    else:
        arguments = ["--env-file", str(config), "db", "upgrade"]

    assert main(arguments) == 0

    err = capsys.readouterr().err
    assert f"SQLite file {workdir / 'srv' / 'wegweiser.sqlite3'}" in err
    assert f"settings from {config}" in err
    assert (workdir / "srv" / "wegweiser.sqlite3").exists()
    assert not (workdir / "wrong").exists()


def test_a_missing_env_file_is_one_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--env-file", str(workdir / "nowhere.env"), "staff", "list"]) == 2
    assert "--env-file" in capsys.readouterr().err


def test_unknown_wegweiser_names_are_warned_about(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEGWEISER_DATABSE_URL", "postgresql://typo@db/wegweiser")
    (workdir / ".env").write_text("WEGWEISER_LOGLEVEL=DEBUG\n", encoding="utf-8")

    assert main(["staff", "list"]) == 0

    err = capsys.readouterr().err
    assert "WEGWEISER_DATABSE_URL is not a Wegweiser setting" in err
    assert "WEGWEISER_LOGLEVEL is not a Wegweiser setting" in err


def test_an_invalid_log_level_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEGWEISER_LOG_LEVEL", "LOUD")

    assert main(["run"]) == 2

    assert "WEGWEISER_LOG_LEVEL: 'LOUD' is not a log level" in one_problem_after_header(capsys)


def one_problem_after_header(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    header, *problems = captured.err.strip().splitlines()
    assert header == "wegweiser: invalid configuration" and len(problems) == 1
    return problems[0]


def test_a_malformed_case_key_stops_run_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ready_to_run(monkeypatch)
    monkeypatch.setenv("WEGWEISER_CASE_DATA_KEY", "my-secret-password")

    assert main(["run"]) == 2

    line = one_problem(capsys)
    assert "WEGWEISER_CASE_DATA_KEY" in line and "my-secret-password" not in line


def test_a_taken_desk_port_stops_run_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ready_to_run(monkeypatch)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        monkeypatch.setenv("WEGWEISER_DESK_PORT", str(port))

        assert main(["run"]) == 2

    assert one_problem(capsys).startswith(
        f"wegweiser: WEGWEISER_DESK_PORT: cannot listen on 127.0.0.1:{port}"
    )


def test_an_unreachable_postgresql_is_one_line_with_the_password_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEGWEISER_DATABASE_URL", f"postgresql://wegweiser:hunter2@127.0.0.1:{free_port()}/ww")

    assert main(["staff", "list"]) == 2

    captured = capsys.readouterr()
    assert "hunter2" not in captured.err + captured.out
    assert "postgresql://wegweiser:***@127.0.0.1" in captured.err
    (line,) = problem_lines(captured.err)
    assert line.startswith("wegweiser: WEGWEISER_DATABASE_URL: no PostgreSQL server answers at 127.0.0.1:")


def test_run_with_an_unreachable_postgresql_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ready_to_run(monkeypatch)
    monkeypatch.setenv("WEGWEISER_DATABASE_URL", f"postgresql://wegweiser@127.0.0.1:{free_port()}/ww")

    assert main(["run"]) == 2

    assert "WEGWEISER_DATABASE_URL: no PostgreSQL server answers" in one_problem(capsys)


def test_an_unknown_postgresql_database_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = postgres_server()
    monkeypatch.setenv("WEGWEISER_DATABASE_URL", f"postgresql://postgres@{server}/no_such_wegweiser_db")

    assert main(["db", "upgrade"]) == 2

    line = one_problem(capsys)
    assert "WEGWEISER_DATABASE_URL: the database 'no_such_wegweiser_db' does not exist" in line


def test_a_wrong_postgresql_user_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = postgres_server()
    monkeypatch.setenv("WEGWEISER_DATABASE_URL", f"postgresql://no_such_wegweiser_user@{server}/test")

    assert main(["staff", "list"]) == 2

    assert "refused user 'no_such_wegweiser_user'" in one_problem(capsys)


def test_an_invalid_token_is_one_line_and_never_shown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    ready_to_run(monkeypatch)
    with sandbox_in_a_thread() as (running, _world):
        monkeypatch.setenv("WEGWEISER_TELEGRAM_API_URL", running.api_url)

        assert main(["run"]) == 2

    captured = capsys.readouterr()
    everything = captured.out + captured.err + caplog.text
    assert TOKEN.split(":")[1] not in everything
    (line,) = problem_lines(captured.err)
    assert line.startswith("wegweiser: WEGWEISER_TELEGRAM_TOKEN: Telegram rejected the token")


async def test_telegram_unreachable_at_start_is_retried_with_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    settings = load_settings(telegram_token=TOKEN, telegram_api_url=f"http://127.0.0.1:{port}/bot")
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    with caplog.at_level(logging.WARNING), pytest.raises(StartupProblem) as problem:
        await wait_for_telegram(settings, attempts=4, sleep=pause)

    assert pauses == [1.0, 2.0, 4.0]
    attempts = [record.getMessage() for record in caplog.records if "did not answer" in record.getMessage()]
    assert len(attempts) == 3 and attempts[0].startswith("Telegram did not answer (attempt 1 of 4")
    assert "WEGWEISER_TELEGRAM_API_URL: Telegram did not answer after 4 attempts" in str(problem.value)
    assert TOKEN not in caplog.text


async def test_telegram_coming_back_during_the_retries_lets_the_bot_start() -> None:
    from bot.sandbox import Sandbox, new_world, serve

    port = free_port()
    world = new_world()
    settings = load_settings(telegram_token=world.token, telegram_api_url=f"http://127.0.0.1:{port}/bot")
    started = []

    async def telegram_comes_back(_seconds: float) -> None:
        started.append(await serve(Sandbox({world.token: world}), port=port))

    try:
        me = await wait_for_telegram(settings, sleep=telegram_comes_back)
    finally:
        for running in started:
            await running.stop()
    assert me.username and len(started) == 1
