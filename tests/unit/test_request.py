"""The Bot API transport (``bot.request.AiohttpRequest``) maps every answer and failure to the same
PTB error as PTB's own httpx client, checked side by side against the sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from telegram import Bot
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.request import BaseRequest, HTTPXRequest

from bot.request import AiohttpRequest
from bot.sandbox import RunningSandbox, Sandbox, World, new_world, serve
from bot.sandbox.world import Fault

TRANSPORTS: dict[str, Callable[..., BaseRequest]] = {"httpx": HTTPXRequest, "aiohttp": AiohttpRequest}


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[RunningSandbox, World]]:
    world = new_world()
    world.add_person(4242, "Amira", "ar").started = True
    running = await serve(Sandbox({world.token: world}))
    yield running, world
    await running.stop()


async def bot_for(api_url: str, token: str, transport: str, **timeouts: float) -> Bot:
    bot = Bot(token, base_url=api_url, request=TRANSPORTS[transport](**timeouts))
    await bot.initialize()
    return bot


@pytest.fixture(params=list(TRANSPORTS))
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_message_is_sent_and_its_answer_parsed(
    sandbox: tuple[RunningSandbox, World], transport: str
) -> None:
    running, world = sandbox
    bot = await bot_for(running.api_url, world.token, transport)
    message = await bot.send_message(4242, "<b>Hallo</b>", parse_mode="HTML")
    await bot.shutdown()
    assert message.text == "Hallo" and world.chats[4242][-1].html == "<b>Hallo</b>"


async def test_a_document_upload_arrives_as_multipart(
    sandbox: tuple[RunningSandbox, World], transport: str
) -> None:
    running, world = sandbox
    bot = await bot_for(running.api_url, world.token, transport)
    await bot.send_document(4242, b"BEGIN:VCALENDAR", filename="termin.ics", caption="Termin")
    await bot.shutdown()
    (stored,) = world.files.values()
    assert (stored.name, stored.content) == ("termin.ics", b"BEGIN:VCALENDAR")


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("retry_after", RetryAfter),
        ("blocked", Forbidden),
        ("not_modified", BadRequest),
        ("server_error", NetworkError),
    ],
)
async def test_an_injected_refusal_becomes_the_same_error(
    sandbox: tuple[RunningSandbox, World], transport: str, fault: str, error: type[Exception]
) -> None:
    running, world = sandbox
    bot = await bot_for(running.api_url, world.token, transport)
    world.faults.append(Fault("sendMessage", fault, retry_after=7))
    with pytest.raises(error) as raised:
        await bot.send_message(4242, "Hallo")
    await bot.shutdown()
    if fault == "retry_after":
        assert raised.value.retry_after == 7  # type: ignore[attr-defined]


async def test_a_conflict_with_a_webhook_becomes_conflict(
    sandbox: tuple[RunningSandbox, World], transport: str
) -> None:
    running, world = sandbox
    bot = await bot_for(running.api_url, world.token, transport)
    world.webhook_url = "https://example.invalid/hook"
    with pytest.raises(Conflict):
        await bot.get_updates(timeout=0)
    await bot.shutdown()


@pytest.mark.parametrize(
    "path", ["/bot123:WRONG/getMe", "/bot{token}/noSuchMethod"], ids=["wrong token 401", "unknown method 404"]
)
async def test_a_wrong_token_or_method_becomes_invalid_token(
    sandbox: tuple[RunningSandbox, World], transport: str, path: str
) -> None:
    running, world = sandbox
    request = TRANSPORTS[transport]()
    await request.initialize()
    with pytest.raises(InvalidToken):
        await request.post(running.base_url + path.format(token=world.token))
    await request.shutdown()


async def test_a_refused_connection_becomes_network_error(transport: str) -> None:
    listener = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    request = TRANSPORTS[transport]()
    await request.initialize()
    with pytest.raises(NetworkError) as raised:
        await request.post(f"http://127.0.0.1:{port}/bot1:X/getMe")
    await request.shutdown()
    assert not isinstance(raised.value, TimedOut)


async def test_a_server_that_never_answers_becomes_timed_out(transport: str) -> None:
    async def silent(reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(5)

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    request = TRANSPORTS[transport](read_timeout=0.3)
    await request.initialize()
    with pytest.raises(TimedOut):
        await request.post(f"http://127.0.0.1:{port}/bot1:X/getMe")
    await request.shutdown()
    listener.close()


async def test_the_proxy_from_the_environment_is_used(
    monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readline())
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    request = TRANSPORTS[transport]()
    await request.initialize()
    with pytest.raises(NetworkError):
        await request.post("http://api.telegram.invalid/bot1:X/getMe")
    await request.shutdown()
    listener.close()
    assert seen and seen[0].startswith(b"POST http://api.telegram.invalid/bot1:X/getMe")


async def test_no_request_waits_for_a_worker_thread(
    sandbox: tuple[RunningSandbox, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment's proxy settings are read once per host, not on a worker thread for every
    request (which costs each request a trip through the default executor)."""
    running, world = sandbox
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    handed_to_threads: list[object] = []
    loop = asyncio.get_running_loop()
    original = loop.run_in_executor

    def counting(executor: object, function: Callable[..., object], *args: object) -> asyncio.Future[object]:
        handed_to_threads.append(function)
        return original(executor, function, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "run_in_executor", counting)
    bot = await bot_for(running.api_url, world.token, "aiohttp")
    for number in range(5):
        await bot.send_message(4242, f"Nachricht {number}")
    await bot.shutdown()
    assert len(world.chats[4242]) == 5
    assert handed_to_threads == []


async def test_no_proxy_in_the_environment_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host named in ``NO_PROXY`` is reached directly although ``HTTP_PROXY`` is set."""
    seen: list[bytes] = []

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readline())
        body = b'{"ok": true, "result": true}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(server, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    request = AiohttpRequest()
    await request.initialize()
    assert await request.post(f"http://127.0.0.1:{port}/bot1:X/getMe") is True
    await request.shutdown()
    listener.close()
    assert seen == [b"POST /bot1:X/getMe HTTP/1.1\r\n"]
