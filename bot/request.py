"""The Bot API transport: a ``telegram.request.BaseRequest`` on aiohttp.

Chosen by measurement (benchmarks/README.md, "transport"): on the same stand-in it costs a fraction
of the CPU per request of PTB's default httpx client. It behaves like PTB's ``HTTPXRequest``:

- the same default timeouts (connect 5 s, read 5 s, write 5 s, pool 1 s; 20 s to write an
  upload), overridable per call as PTB does;
- proxies: an explicit ``proxy`` URL, or else the environment (``HTTPS_PROXY``/``HTTP_PROXY``,
  ``NO_PROXY``), read once per host as httpx reads it once per client (aiohttp's own ``trust_env``
  would read the environment and ``~/.netrc`` again on a worker thread for every request);
- errors: PTB's ``BaseRequest`` maps the Bot API's answers (429 → ``RetryAfter``, 403 →
  ``Forbidden``, 400 → ``BadRequest``, 409 → ``Conflict``, 401/404 → ``InvalidToken``, other
  failures → ``NetworkError``); a timeout here becomes ``TimedOut``, any other transport failure
  ``NetworkError``.

aiohttp has no separate write timeout; a request as a whole is bounded by the sum of its pool,
connect, write and read timeouts instead.
"""

from __future__ import annotations

from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

# aiohttp comes from here, imported with its CA certificates loaded on a thread (see there).
from bot.ca_certificates import aiohttp, certificates_loaded

DEFAULT_TIMEOUTS = {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 1.0}
MEDIA_WRITE_TIMEOUT = 20.0


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a pool of ``connection_pool_size`` connections."""

    __slots__ = ("_env_proxies", "_pool_size", "_proxy", "_session", "_timeouts")

    def __init__(
        self,
        connection_pool_size: int = 256,
        *,
        proxy: str | None = None,
        read_timeout: float | None = DEFAULT_TIMEOUTS["read"],
        write_timeout: float | None = DEFAULT_TIMEOUTS["write"],
        connect_timeout: float | None = DEFAULT_TIMEOUTS["connect"],
        pool_timeout: float | None = DEFAULT_TIMEOUTS["pool"],
    ) -> None:
        self._pool_size = connection_pool_size
        self._proxy = proxy
        self._timeouts = {
            "read": read_timeout,
            "write": write_timeout,
            "connect": connect_timeout,
            "pool": pool_timeout,
        }
        self._session: aiohttp.ClientSession | None = None
        self._env_proxies: dict[tuple[str, str], tuple[str | None, aiohttp.BasicAuth | None]] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds the long-polling time to it for ``getUpdates``)."""
        return self._timeouts["read"]

    async def initialize(self) -> None:
        """Open the session (once), when aiohttp's TLS contexts hold their certificates."""
        await certificates_loaded()
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; (HTTP status, body)."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        read = self._timeouts["read"] if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._timeouts["connect"] if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._timeouts["pool"] if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = MEDIA_WRITE_TIMEOUT if files else self._timeouts["write"]
        else:
            write = write_timeout
        parts = (pool, connect, write, read)
        timeout = aiohttp.ClientTimeout(
            total=None if None in parts else sum(parts),  # type: ignore[arg-type]
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        proxy, proxy_auth = (self._proxy, None) if self._proxy is not None else self._proxy_from_env(url)
        try:
            async with self._session.request(
                method,
                url,
                data=_body(request_data),
                timeout=timeout,
                proxy=proxy,
                proxy_auth=proxy_auth,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error

    def _proxy_from_env(self, url: str) -> tuple[str | None, aiohttp.BasicAuth | None]:
        """The proxy the environment names for this URL's scheme and host (``NO_PROXY`` honoured),
        looked up once per scheme and host."""
        parsed = URL(url)
        key = (parsed.scheme, parsed.host or "")
        found = self._env_proxies.get(key)
        if found is None:
            try:
                proxy, auth = aiohttp.helpers.get_env_proxy_for_url(parsed)
                found = (str(proxy), auth)
            except LookupError:
                found = (None, None)
            self._env_proxies[key] = found
        return found


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """The parameters as a form, with files as multipart (as PTB's httpx client sends them)."""
    if request_data is None:
        return None
    files = request_data.multipart_data
    if not files:
        return request_data.json_parameters
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, upload in files.items():
        filename, content, *rest = upload
        form.add_field(name, content, filename=filename, content_type=rest[0] if rest else None)
    return form
