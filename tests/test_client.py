"""Tests for botkit.client.MessagesClient and botkit.transports.

Two kinds of test: ``httpx.MockTransport`` stands in for the Vonage API to check the
exact request and the mapping of every documented answer; a real HTTP server on
127.0.0.1 (aiohttp.web, or a raw asyncio socket server for misbehaving peers) checks
the round trip through both real transports.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from httpx_aiohttp import AiohttpTransport
from vonage_http_client import Auth as VonageAuth  # type: ignore[import-untyped]

from botkit.auth import ApplicationJwtAuth, BasicAuth
from botkit.client import DEFAULT_MESSAGES_URL, USER_AGENT, MessagesClient
from botkit.clock import FakeClock
from botkit.errors import ConfigError, MessagesApiError
from botkit.transports import DEFAULT_TRANSPORT, TRANSPORT_KINDS, make_transport

from .reference import EXAMPLES, VONAGE

SDK_FIXTURES = VONAGE / "sdk-fixtures" / "python"

UUID = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"
T0 = 1_700_000_000.0
BODY: dict[str, Any] = {
    "to": "447700900001",
    "from": "447700900000",
    "channel": "whatsapp",
    "message_type": "text",
    "text": "Grüße, ça va? 👋",
    "client_ref": "order-42",
}
BASIC = BasicAuth("a1b2c3d", "s3cr3tS3cr3t")


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@dataclass
class Recorder:
    """A MockTransport handler that records requests and replays scripted responses."""

    responses: list[httpx.Response] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.responses:
            return self.responses.pop(0)
        return httpx.Response(202, json={"message_uuid": UUID})


def mock_client(
    recorder: Recorder | Callable[[httpx.Request], httpx.Response],
    **kwargs: Any,
) -> MessagesClient:
    kwargs.setdefault("auth", BASIC)
    return MessagesClient(transport=httpx.MockTransport(recorder), **kwargs)


async def _send_error(client: MessagesClient) -> MessagesApiError:
    with pytest.raises(MessagesApiError) as info:
        await client.send(BODY)
    return info.value


# --- The request on the wire ---------------------------------------------------------


async def test_sends_exact_headers_and_body() -> None:
    recorder = Recorder()
    async with mock_client(recorder) as client:
        assert await client.send(BODY) == UUID
    (request,) = recorder.requests
    assert request.method == "POST"
    assert str(request.url) == DEFAULT_MESSAGES_URL
    assert dict(request.headers) == {
        "host": "api.nexmo.com",
        "content-type": "application/json",
        "accept": "application/json",
        "user-agent": USER_AGENT,
        "authorization": VonageAuth(
            api_key="a1b2c3d", api_secret="s3cr3tS3cr3t"
        ).create_basic_auth_string(),
        "content-length": str(len(request.content)),
    }
    assert USER_AGENT.startswith("botkit/")
    assert json.loads(request.content) == BODY
    # Compact and UTF-8, not \u-escaped.
    expected = json.dumps(BODY, separators=(",", ":"), ensure_ascii=False).encode()
    assert request.content == expected


async def test_any_mapping_is_a_body() -> None:
    from types import MappingProxyType

    recorder = Recorder()
    async with mock_client(recorder) as client:
        await client.send(MappingProxyType(BODY))
    assert json.loads(recorder.requests[0].content) == BODY


async def test_no_authorization_header_without_auth() -> None:
    recorder = Recorder()
    async with mock_client(recorder, auth=None) as client:
        await client.send(BODY)
    assert "authorization" not in recorder.requests[0].headers


async def test_jwt_header_is_asked_for_on_every_send() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    clock = FakeClock(T0)
    auth = ApplicationJwtAuth("app-id", pem, clock=clock)
    recorder = Recorder()
    async with mock_client(recorder, auth=auth) as client:
        await client.send(BODY)
        await client.send(BODY)
        clock.advance(900)
        await client.send(BODY)
    first, second, third = (r.headers["authorization"] for r in recorder.requests)
    assert first.startswith("Bearer ")
    assert first == second
    assert third != first


async def test_url_override_for_a_regional_host() -> None:
    recorder = Recorder()
    url = "https://api-eu.vonage.com/v1/messages"
    async with mock_client(recorder, url=url) as client:
        assert client.url == url
        await client.send(BODY)
    assert str(recorder.requests[0].url) == url
    assert recorder.requests[0].headers["host"] == "api-eu.vonage.com"


async def test_body_that_is_not_json_serialisable_sends_nothing() -> None:
    recorder = Recorder()
    async with mock_client(recorder) as client:
        with pytest.raises(TypeError):
            await client.send({"when": object()})
        with pytest.raises(ValueError):
            await client.send({"lat": float("nan")})
    assert recorder.requests == []


# --- Success -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture",
    [
        EXAMPLES / "response-v1-202.json",
        EXAMPLES / "response-v1-202-failover.json",
        SDK_FIXTURES / "send_message.json",
    ],
    ids=lambda p: p.name,
)
async def test_202_returns_the_message_uuid(fixture: Path) -> None:
    data = _load(fixture)
    recorder = Recorder([httpx.Response(202, json=data)])
    async with mock_client(recorder) as client:
        assert await client.send(BODY) == data["message_uuid"]


async def test_any_2xx_is_success() -> None:
    recorder = Recorder([httpx.Response(200, json={"message_uuid": UUID})])
    async with mock_client(recorder) as client:
        assert await client.send(BODY) == UUID


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b'{"uuid": "x"}'])
async def test_2xx_without_message_uuid_is_an_error_that_is_not_retried(content: bytes) -> None:
    recorder = Recorder([httpx.Response(202, content=content)])
    async with mock_client(recorder) as client:
        error = await _send_error(client)
    assert error.status_code == 202
    assert error.title == "Unexpected response"
    assert not error.retryable  # the message may have been accepted: never send it twice


# --- Errors --------------------------------------------------------------------------


ERROR_FILES = [
    (EXAMPLES / "error-v1-401.json", 401, False),
    (EXAMPLES / "error-v1-402.json", 402, False),
    (EXAMPLES / "error-v1-422.json", 422, False),
    (EXAMPLES / "error-v1-429.json", 429, True),
    (EXAMPLES / "error-v1-500.json", 500, True),
    (EXAMPLES / "error-v01-400.json", 400, False),
    (SDK_FIXTURES / "invalid_error.json", 422, False),
    (SDK_FIXTURES / "low_balance_error.json", 402, False),
    (SDK_FIXTURES / "not_found.json", 404, False),
]


@pytest.mark.parametrize(
    ("fixture", "status", "retryable"), ERROR_FILES, ids=lambda v: getattr(v, "name", None)
)
async def test_error_examples(fixture: Path, status: int, retryable: bool) -> None:
    problem = _load(fixture)
    recorder = Recorder([httpx.Response(status, json=problem)])
    async with mock_client(recorder) as client:
        error = await _send_error(client)
    assert error.status_code == status
    assert error.type == problem["type"]
    assert error.title == problem["title"]
    assert error.detail == problem["detail"]
    assert error.instance == problem["instance"]
    assert error.invalid_parameters == problem.get("invalid_parameters", [])
    assert error.retry_after is None
    assert error.retryable is retryable
    assert error.request is recorder.requests[0]
    assert error.response is not None
    assert error.response.status_code == status
    assert problem["title"] in str(error)


async def test_422_invalid_parameters() -> None:
    problem = _load(EXAMPLES / "error-v1-422.json")
    recorder = Recorder([httpx.Response(422, json=problem)])
    async with mock_client(recorder) as client:
        error = await _send_error(client)
    assert error.invalid_parameters == [{"name": "image.url", "reason": "is required."}]
    assert "image.url (is required.)" in str(error)


async def test_429_retry_after_seconds() -> None:
    problem = _load(EXAMPLES / "error-v1-429.json")
    recorder = Recorder([httpx.Response(429, json=problem, headers={"Retry-After": "30"})])
    async with mock_client(recorder) as client:
        error = await _send_error(client)
    assert error.retry_after == 30.0
    assert error.retryable
    assert error.title == "Rate Limit Hit"


async def test_429_retry_after_http_date_against_the_clock() -> None:
    problem = _load(EXAMPLES / "error-v1-429.json")
    headers = {"Retry-After": formatdate(T0 + 120, usegmt=True)}
    recorder = Recorder([httpx.Response(429, json=problem, headers=headers)])
    async with mock_client(recorder, clock=FakeClock(T0)) as client:
        error = await _send_error(client)
    assert error.retry_after == 120.0


async def test_429_retry_after_http_date_against_the_response_date() -> None:
    # The server's own Date wins over a local clock that is an hour off.
    server_now = T0 + 3600
    headers = {
        "Date": formatdate(server_now, usegmt=True),
        "Retry-After": formatdate(server_now + 45, usegmt=True),
    }
    recorder = Recorder([httpx.Response(429, json={}, headers=headers)])
    async with mock_client(recorder, clock=FakeClock(T0)) as client:
        error = await _send_error(client)
    assert error.retry_after == 45.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        (" 5 ", 5.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        (formatdate(T0 - 60, usegmt=True), 0.0),  # a date in the past: retry now
        ("Wed, 21 Oct 2015 07:28:00 -0000", 0.0),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("", None),
    ],
)
async def test_retry_after_edge_cases(value: str, expected: float | None) -> None:
    recorder = Recorder([httpx.Response(503, headers={"Retry-After": value})])
    async with mock_client(recorder, clock=FakeClock(T0)) as client:
        error = await _send_error(client)
    assert error.retry_after == expected


async def test_non_json_error_body() -> None:
    html = "<html><body>502 Bad Gateway</body></html>"
    recorder = Recorder([httpx.Response(502, text=html, headers={"Content-Type": "text/html"})])
    async with mock_client(recorder) as client:
        error = await _send_error(client)
    assert error.status_code == 502
    assert error.title == "Bad Gateway"
    assert error.detail == html
    assert error.type is None
    assert error.instance is None
    assert error.retryable


async def test_long_non_json_error_body_is_clipped() -> None:
    recorder = Recorder([httpx.Response(500, text="x" * 5000)])
    async with mock_client(recorder) as client:
        error = await _send_error(client)
    assert error.detail is not None
    assert error.detail.startswith("xxx")
    assert len(error.detail) < 1100
    assert error.response is not None
    assert len(error.response.text) == 5000


@pytest.mark.parametrize("content", [b"", b"[1, 2]", b'"oops"'])
async def test_error_body_that_is_not_a_problem_object(content: bytes) -> None:
    recorder = Recorder([httpx.Response(503, content=content)])
    async with mock_client(recorder) as client:
        error = await _send_error(client)
    assert error.status_code == 503
    assert error.title == "Service Unavailable"
    assert error.detail == (content.decode() or None)


async def test_odd_problem_fields_do_not_break_the_error() -> None:
    problem = {"title": 1000, "detail": {"x": 1}, "invalid_parameters": "nope"}
    recorder = Recorder([httpx.Response(422, json=problem)])
    async with mock_client(recorder) as client:
        error = await _send_error(client)
    assert error.title == "1000"
    assert error.detail is None
    assert error.invalid_parameters == []


async def test_redirect_is_an_error() -> None:
    headers = {"Location": "https://elsewhere.example/v1/messages"}
    recorder = Recorder([httpx.Response(301, headers=headers)])
    async with mock_client(recorder) as client:
        error = await _send_error(client)
    assert error.status_code == 301
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("exc", "detail"),
    [
        (httpx.ConnectError("All connection attempts failed"), "All connection attempts failed"),
        (httpx.ReadTimeout(""), "ReadTimeout"),
        (httpx.RemoteProtocolError("Server disconnected"), "Server disconnected"),
    ],
)
async def test_transport_error_is_status_0_and_retryable(
    exc: httpx.TransportError, detail: str
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc

    async with mock_client(fail) as client:
        error = await _send_error(client)
    assert error.status_code == 0
    assert error.title == "Connection error"
    assert error.detail == detail
    assert error.retryable
    assert error.__cause__ is exc
    assert error.request is not None
    assert error.response is None


# --- Lifecycle and transports --------------------------------------------------------


async def test_aclose_closes_the_transport_and_is_idempotent() -> None:
    transport = make_transport("aiohttp")
    client = MessagesClient(auth=None, transport=transport)
    assert not client.is_closed
    await client.aclose()
    await client.aclose()
    assert client.is_closed
    with pytest.raises(RuntimeError):
        await client.send(BODY)


def test_default_client_can_be_built_outside_an_event_loop() -> None:
    # AiohttpTransport opens its aiohttp session lazily, on first use in a loop.
    client = MessagesClient(auth=None)
    asyncio.run(client.aclose())
    assert client.is_closed


def test_make_transport() -> None:
    assert DEFAULT_TRANSPORT in TRANSPORT_KINDS
    assert isinstance(make_transport(), AiohttpTransport)
    assert isinstance(make_transport("aiohttp"), AiohttpTransport)
    assert type(make_transport("httpx")) is httpx.AsyncHTTPTransport


def test_unknown_transport_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"'curl'.*'aiohttp', 'httpx'"):
        make_transport("curl")


async def test_sniffio_is_importable() -> None:
    # httpcore re-tries the import on every request when it is missing.
    import sniffio

    assert sniffio.current_async_library() == "asyncio"


# --- A real HTTP server on 127.0.0.1, through both transports ------------------------


@dataclass
class Seen:
    headers: dict[str, str]
    body: bytes
    peer: tuple[str, int]


@dataclass
class LocalApi:
    """An aiohttp.web stand-in for the Messages API that records what it receives."""

    url: str
    seen: list[Seen] = field(default_factory=list)
    replies: list[web.Response] = field(default_factory=list)


@pytest.fixture
async def local_api() -> AsyncIterator[LocalApi]:
    api = LocalApi(url="")

    async def messages(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        api.seen.append(Seen(dict(request.headers), await request.read(), tuple(peer or ())))
        if api.replies:
            return api.replies.pop(0)
        return web.json_response({"message_uuid": UUID}, status=202)

    app = web.Application()
    app.router.add_post("/v1/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    api.url = f"http://127.0.0.1:{port}/v1/messages"
    try:
        yield api
    finally:
        await runner.cleanup()


@pytest.fixture(params=TRANSPORT_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


def real_client(kind: str, url: str, *, timeout: float = 5.0) -> MessagesClient:
    return MessagesClient(auth=BASIC, url=url, transport=make_transport(kind), timeout=timeout)


async def test_real_202_round_trip(kind: str, local_api: LocalApi) -> None:
    async with real_client(kind, local_api.url) as client:
        assert await client.send(BODY) == UUID
        assert await client.send(BODY) == UUID
    first, second = local_api.seen
    assert json.loads(first.body) == BODY
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["Accept"] == "application/json"
    assert first.headers["User-Agent"] == USER_AGENT
    assert first.headers["Authorization"] == BASIC.header()
    assert first.headers["Content-Length"] == str(len(first.body))
    # One pooled connection, kept alive between sends.
    assert first.peer == second.peer


async def test_real_429_round_trip(kind: str, local_api: LocalApi) -> None:
    problem = _load(EXAMPLES / "error-v1-429.json")
    local_api.replies.append(web.json_response(problem, status=429, headers={"Retry-After": "7"}))
    server_now = T0 + 86_400
    local_api.replies.append(
        web.json_response(
            problem,
            status=429,
            headers={
                "Date": formatdate(server_now, usegmt=True),
                "Retry-After": formatdate(server_now + 12, usegmt=True),
            },
        )
    )
    async with real_client(kind, local_api.url) as client:
        error = await _send_error(client)
        assert error.status_code == 429
        assert error.retry_after == 7.0
        assert error.title == problem["title"]
        assert error.instance == problem["instance"]
        assert error.retryable
        error = await _send_error(client)
        assert error.retry_after == 12.0
        # The connection survives an error answer.
        assert await client.send(BODY) == UUID


async def test_real_non_json_error(kind: str, local_api: LocalApi) -> None:
    local_api.replies.append(web.Response(status=503, text="upstream down"))
    async with real_client(kind, local_api.url) as client:
        error = await _send_error(client)
    assert (error.status_code, error.title, error.detail) == (
        503,
        "Service Unavailable",
        "upstream down",
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_real_connection_refused(kind: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1/messages"
    async with real_client(kind, url) as client:
        error = await _send_error(client)
    assert error.status_code == 0
    assert error.title == "Connection error"
    assert error.retryable
    # Both transports report "nothing was sent" the same way.
    assert isinstance(error.__cause__, httpx.ConnectError)


class RawServer:
    """A TCP server that reads one HTTP request and then misbehaves as told."""

    def __init__(self, reply: Callable[[asyncio.StreamWriter, asyncio.Event], Awaitable[None]]):
        self._reply = reply
        self._release = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.url = ""

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/v1/messages"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._release.set()
        self._server.close()
        await self._server.wait_closed()
        # Python 3.11's wait_closed does not wait for connection handlers.
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            await self._reply(writer, self._release)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _garbage(writer: asyncio.StreamWriter, release: asyncio.Event) -> None:
    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
    await writer.drain()


async def _hang_up(writer: asyncio.StreamWriter, release: asyncio.Event) -> None:
    return None


async def _truncated_body(writer: asyncio.StreamWriter, release: asyncio.Event) -> None:
    writer.write(
        b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"message_uuid"'
    )
    await writer.drain()


async def _never_answer(writer: asyncio.StreamWriter, release: asyncio.Event) -> None:
    await release.wait()


@pytest.mark.parametrize(
    ("reply", "cause"),
    [
        (_garbage, httpx.RemoteProtocolError),
        (_hang_up, httpx.RemoteProtocolError),
        (_truncated_body, httpx.RemoteProtocolError),
        (_never_answer, httpx.ReadTimeout),
    ],
    ids=["garbage", "hang-up", "truncated-body", "read-timeout"],
)
async def test_real_broken_server(
    kind: str,
    reply: Callable[[asyncio.StreamWriter, asyncio.Event], Awaitable[None]],
    cause: type[Exception],
) -> None:
    async with RawServer(reply) as server, real_client(kind, server.url, timeout=0.3) as client:
        error = await _send_error(client)
    assert error.status_code == 0
    assert error.retryable
    assert isinstance(error.__cause__, cause)
