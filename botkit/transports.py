"""HTTP transports for the outbound Messages API client.

botkit talks to the Messages API through one ``httpx.AsyncClient``; the transport
underneath is pluggable. Two are supported:

* ``"aiohttp"``: ``httpx_aiohttp.AiohttpTransport``, aiohttp's connection pool and
  HTTP parser under httpx's API. It costs 40 % (one send at a time) to 80 % (many in
  flight) less CPU per request than httpx's own transport (see
  ``docs/benchmarks.md``), so it is the default.
* ``"httpx"``: ``httpx.AsyncHTTPTransport`` (httpcore), httpx's own transport.

``AiohttpTransport`` can be constructed outside a running event loop: it opens its
``aiohttp.ClientSession`` lazily, on the first request, inside the loop that sends it.
That session then belongs to that loop, so a client must be used from one loop only.

botkit wraps ``AiohttpTransport`` to fix how it reports failures: it lets some aiohttp
errors (e.g. a malformed HTTP response) escape as ``aiohttp.ClientError`` instead of an
``httpx.TransportError``, and it reports a refused connection or a server that hung up
as ``httpx.ConnectTimeout``. The wrapper maps those to the httpx exception that
httpx's own transport raises in the same situation, so callers see the same errors
whichever transport is in use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Final, NamedTuple

import aiohttp
import httpx

# httpcore asks sniffio which async library is running on every request; when sniffio
# is missing it retries the failed import each time. Importing it here makes a missing
# install fail loudly at startup instead of silently slowing every send.
import sniffio  # noqa: F401
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import map_aiohttp_exceptions

from botkit.errors import ConfigError

__all__ = ["DEFAULT_TRANSPORT", "TRANSPORT_KINDS", "AiohttpBytes", "Answer", "make_transport"]

TRANSPORT_KINDS: Final = ("aiohttp", "httpx")
"""The values :func:`make_transport` accepts."""

DEFAULT_TRANSPORT: Final = "aiohttp"
"""The transport the Messages client uses unless told otherwise (the cheaper one)."""


def make_transport(kind: str = DEFAULT_TRANSPORT) -> httpx.AsyncBaseTransport:
    """Build a fresh transport for an ``httpx.AsyncClient``.

    Safe to call outside a running event loop for both kinds.

    Args:
        kind: ``"aiohttp"`` or ``"httpx"`` (see :data:`TRANSPORT_KINDS`).

    Returns:
        A new transport; the client that uses it closes it.

    Raises:
        ConfigError: for any other ``kind``.
    """
    # Both keep their library's pool limits (at most 100 connections). Keeping more
    # than httpx's default 20 idle connections makes httpx slower, not faster: httpcore
    # polls every idle socket on each request (see docs/benchmarks.md).
    if kind == "aiohttp":
        return AiohttpBytes()
    if kind == "httpx":
        return httpx.AsyncHTTPTransport()
    choices = ", ".join(repr(k) for k in TRANSPORT_KINDS)
    raise ConfigError(f"unknown HTTP transport {kind!r}: use one of {choices}")


class Answer(NamedTuple):
    """A response read whole by :meth:`AiohttpBytes.send_bytes`."""

    status: int
    reason: str | None
    headers: list[tuple[bytes, bytes]]
    content: bytes


class AiohttpBytes(AiohttpTransport):
    """``AiohttpTransport`` whose failures are all ``httpx.TransportError`` subclasses."""

    async def send_bytes(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes,
        timeout: Mapping[str, float | None],
    ) -> Answer:
        """Send a request whose body is in memory and read the response whole.

        What :meth:`handle_async_request` and reading its stream do, failures mapped the
        same way, without httpx's request, response and stream objects, which cost more
        than aiohttp's own work for a small JSON exchange.

        Raises:
            httpx.TransportError: as :meth:`handle_async_request` and the stream raise.
        """
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        try:
            async with self.client.request(
                method, url, headers=headers, data=content, allow_redirects=False,
                auto_decompress=False, compress=False,
                timeout=aiohttp.ClientTimeout(
                    sock_connect=timeout.get("connect"), sock_read=timeout.get("read"),
                    connect=timeout.get("pool"),
                ),
            ) as response:
                body = await response.read()
                return Answer(response.status, response.reason, list(response.raw_headers), body)
        except (aiohttp.ClientError, httpx.TransportError) as exc:
            request = httpx.Request(method, url, headers=headers, content=content)
            mapped = _mapped(exc, request)
            mapped.request = request
            raise mapped from _cause(exc)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response: httpx.Response = await super().handle_async_request(request)
        except httpx.TransportError as exc:
            mapped = _remap(exc, request)
            if mapped is exc:
                raise
            raise mapped from exc.__cause__
        except aiohttp.ClientError as exc:
            raise _unmapped(exc, request) from exc
        # The body is read later, through the stream; wrap it so that failures while
        # reading are mapped the same way.
        response.stream = _MappedStream(response.stream, request)
        return response


class _MappedStream(httpx.AsyncByteStream):
    """A response body stream that maps aiohttp failures like the headers phase does."""

    def __init__(self, inner: httpx.AsyncByteStream | httpx.SyncByteStream, request: httpx.Request):
        assert isinstance(inner, httpx.AsyncByteStream)
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpx.TransportError as exc:
            mapped = _remap(exc, self._request)
            if mapped is exc:
                raise
            raise mapped from exc.__cause__
        except aiohttp.ClientError as exc:
            raise _unmapped(exc, self._request) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


def _mapped(exc: Exception, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception the transport and its stream give for ``exc``."""
    if isinstance(exc, httpx.TransportError):
        return _remap(exc, request)
    try:
        with map_aiohttp_exceptions():
            raise exc
    except httpx.TransportError as mapped:
        return _remap(mapped, request)
    except aiohttp.ClientError as unmapped:
        return _unmapped(unmapped, request)


def _cause(exc: Exception) -> BaseException | None:
    # handle_async_request's errors carry the aiohttp error as their cause; so do these.
    return exc.__cause__ if isinstance(exc, httpx.TransportError) else exc


def _remap(exc: httpx.TransportError, request: httpx.Request) -> httpx.TransportError:
    """Correct the exception type ``AiohttpTransport`` chose, judging by the aiohttp cause."""
    cause = exc.__cause__
    message = str(exc)
    if isinstance(cause, aiohttp.ServerTimeoutError):
        # Genuine timeouts (connect or read) are already mapped correctly.
        return exc
    if isinstance(cause, aiohttp.ClientConnectorError):
        # Refused, unreachable or DNS failure: nothing was sent.
        return httpx.ConnectError(message, request=request)
    if isinstance(cause, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        # The server hung up after the request was (possibly) sent, or before the end of
        # the body it announced.
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(cause, aiohttp.ClientOSError):
        return httpx.NetworkError(message, request=request)
    return exc


def _unmapped(exc: aiohttp.ClientError, request: httpx.Request) -> httpx.TransportError:
    """Map an aiohttp error that ``AiohttpTransport`` lets through."""
    if isinstance(exc, aiohttp.ClientResponseError):
        # aiohttp reports an unparsable response this way; httpcore says RemoteProtocolError.
        return httpx.RemoteProtocolError(str(exc.message or exc), request=request)
    return httpx.TransportError(str(exc), request=request)
