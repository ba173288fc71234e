"""The outbound Messages API client: ``POST /v1/messages`` and ``PATCH /v1/messages/{id}``.

One :class:`MessagesClient` per bot wraps one ``httpx.AsyncClient``, so every send
reuses the same connection pool. A send either returns the ``message_uuid`` of an
accepted message or raises :class:`~botkit.errors.MessagesApiError` carrying the
API's problem-details fields; a failure to reach the API at all is reported the same
way with ``status_code=0``, so callers handle one exception type. Retrying is not
done here: ``MessagesApiError.retryable`` and ``retry_after`` tell the caller whether
and when to try again.

The per-send work is kept small because a busy bot sends thousands of messages a
minute on a small machine: the static headers are encoded once, the body is
serialised once to compact JSON bytes, and the request is built directly rather
than merged with client defaults on every call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import metadata
from types import TracebackType
from typing import Any, Final, NamedTuple, Self

import httpx

from botkit.auth import Auth
from botkit.clock import Clock, SystemClock
from botkit.errors import MessagesApiError, clip
from botkit.settings import DEFAULT_MESSAGES_URL
from botkit.transports import DEFAULT_TRANSPORT, AiohttpBytes, Answer, make_transport

__all__ = [
    "DEFAULT_MESSAGES_URL", "GLOBAL_HOSTS", "USER_AGENT", "Accepted", "MessagesClient",
    "is_regional",
]


class Accepted(NamedTuple):
    """What the API answered for an accepted message.

    Attributes:
        message_uuid: the message's id; a failover chain keeps it for every step.
        workflow_id: the failover workflow's id, when the message carried ``failover``;
            its status webhooks name it with the step (``StatusEvent.workflow``).
    """

    message_uuid: str
    workflow_id: str | None = None

GLOBAL_HOSTS: Final = frozenset({"api.nexmo.com", "api.vonage.com"})
"""The global API hosts. ``PATCH`` works only on the regional host that holds the message
(``api-eu``, ``api-us``, ``api-ap``, on ``nexmo.com`` or ``vonage.com``)."""


def is_regional(url: str) -> bool:
    """True unless ``url`` is on a global API host (a local or test server counts)."""
    return httpx.URL(url).host not in GLOBAL_HOSTS

"""The global v1 send endpoint. Regional hosts (``api-eu.vonage.com`` ...) use the same path."""


def _version() -> str:
    try:
        return metadata.version("botkit")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


USER_AGENT: Final = f"botkit/{_version()}"
"""The ``User-Agent`` sent with every request."""

class MessagesClient:
    """Send messages through the Vonage Messages API.

    The client owns its transport and closes it in :meth:`aclose`; use it as an async
    context manager or call :meth:`aclose` on shutdown. Use one instance from one
    event loop.

    Args:
        auth: credentials for the ``Authorization`` header, or None to send none (for
            a local sandbox or test server).
        url: the send endpoint, e.g. ``https://api-eu.vonage.com/v1/messages``.
        transport: the httpx transport to send through; by default a new one from
            :func:`botkit.transports.make_transport` with the default kind.
        timeout: seconds allowed for each of connect, write, read and pool acquisition.
        clock: used to turn a ``Retry-After`` HTTP date into seconds when the response
            has no ``Date`` header; the system clock by default.

    Example:
        async with MessagesClient(auth=BasicAuth(key, secret)) as client:
            uuid = await client.send({"channel": "sms", "message_type": "text", ...})
    """

    def __init__(
        self,
        *,
        auth: Auth | None,
        url: str = DEFAULT_MESSAGES_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        self._auth = auth
        self._url = httpx.URL(url)
        self._clock: Clock = clock if clock is not None else SystemClock()
        # Built once: the request below is created directly, so these are all the
        # headers it carries apart from Authorization, Host and Content-Length.
        self._headers: Final[list[tuple[bytes, bytes]]] = [
            (b"Content-Type", b"application/json"),
            (b"Accept", b"application/json"),
            (b"User-Agent", USER_AGENT.encode("ascii")),
        ]
        self._timeout: Final[dict[str, float | None]] = httpx.Timeout(timeout).as_dict()
        # The transport is driven directly rather than through httpx.AsyncClient: the
        # client's per-request cookie, auth and redirect machinery (none of which the
        # Messages API uses) cost about half of a send. Redirects are therefore never
        # followed: a 3xx surfaces as an error.
        self._transport = transport if transport is not None else make_transport(DEFAULT_TRANSPORT)
        # botkit's aiohttp transport takes the body and gives the answer as bytes: no
        # httpx request or response is built unless an error needs one.
        self._send_bytes = (
            self._transport.send_bytes if isinstance(self._transport, AiohttpBytes) else None
        )
        self._str_headers: Final[dict[str, str]] = {
            k.decode("ascii"): v.decode("ascii") for k, v in self._headers
        }
        self._closed = False

    @property
    def url(self) -> str:
        """The send endpoint this client posts to."""
        return str(self._url)

    @property
    def auth(self) -> Auth | None:
        """The credentials sent with each request (None: none)."""
        return self._auth

    @property
    def is_closed(self) -> bool:
        """True once :meth:`aclose` has run."""
        return self._closed

    async def send(self, body: Mapping[str, Any]) -> str:
        """POST one message and return its ``message_uuid``.

        Args:
            body: the v1 request body (``to``, ``from``, ``channel``, ``message_type``
                and the content), as a JSON-serialisable mapping.

        Returns:
            The ``message_uuid`` the API assigned to the accepted message.

        Raises:
            MessagesApiError: the API answered anything but 2xx (its problem-details
                fields, ``status_code`` and ``retry_after`` are filled in), answered 2xx
                without a ``message_uuid``, or could not be reached (``status_code=0``).
            TypeError, ValueError: ``body`` cannot be serialised to JSON.
        """
        return (await self.send_message(body)).message_uuid

    async def send_message(self, body: Mapping[str, Any]) -> Accepted:
        """POST one message; like :meth:`send`, with the failover ``workflow_id`` too."""
        if self._send_bytes is not None:
            answer = await self._request_bytes("POST", self._url, body)
            if 200 <= answer.status < 300:
                accepted = _accepted(answer.content)
                if accepted is not None:
                    return accepted
            response = self._response("POST", self._url, body, answer)
        else:
            response = await self._request("POST", self._url, body)
        if response.is_success:
            return self._accepted(response)
        raise self._error(response)

    async def update(self, message_uuid: str, body: Mapping[str, Any], *,
                     url: str | None = None) -> None:
        """PATCH one message: revoke an outbound RCS message, mark an inbound one read.

        Args:
            message_uuid: the message to update.
            body: the update, e.g. ``{"status": "revoked"}`` or ``{"status": "read"}``.
            url: the message's own URL when the webhook gave one (WhatsApp ``_self.href``);
                by default ``{send endpoint}/{message_uuid}``, which must then be the
                regional host that holds the message (see :func:`is_regional`).

        Raises:
            MessagesApiError: the API answered anything but 2xx, or could not be reached.
        """
        target = httpx.URL(url) if url else self._url.join(
            f"{self._url.path.rstrip('/')}/{message_uuid}")
        response = await self._request("PATCH", target, body)
        if not response.is_success:
            raise self._error(response)

    def _str_headers_with_auth(self) -> dict[str, str]:
        if self._auth is None:
            return self._str_headers
        # Asked every time because a JWT is renewed as it nears expiry.
        return {**self._str_headers, "Authorization": self._auth.header()}

    async def _request_bytes(self, method: str, url: httpx.URL,
                             body: Mapping[str, Any]) -> Answer:
        assert self._send_bytes is not None
        payload = _payload(body)
        headers = self._str_headers_with_auth()
        if self._closed:
            raise RuntimeError("the MessagesClient is closed")
        try:
            return await self._send_bytes(method, str(url), headers, payload, self._timeout)
        except httpx.TransportError as exc:
            raise MessagesApiError.unreachable(exc, exc.request) from exc

    def _response(self, method: str, url: httpx.URL, body: Mapping[str, Any],
                  answer: Answer) -> httpx.Response:
        """The httpx response (and request) an error report needs, from an answer."""
        extensions = {"http_version": b"HTTP/1.1"}
        if answer.reason:
            extensions["reason_phrase"] = answer.reason.encode()
        request = httpx.Request(method, url, headers=self._str_headers_with_auth(),
                                content=_payload(body))
        return httpx.Response(answer.status, headers=answer.headers, content=answer.content,
                              request=request, extensions=extensions)

    async def _request(self, method: str, url: httpx.URL,
                       body: Mapping[str, Any]) -> httpx.Response:
        payload = _payload(body)
        headers = self._headers
        if self._auth is not None:
            # Asked every time because a JWT is renewed as it nears expiry.
            headers = [*headers, (b"Authorization", self._auth.header().encode("ascii"))]
        request = httpx.Request(
            method,
            url,
            headers=headers,
            content=payload,
            extensions={"timeout": self._timeout},
        )
        if self._closed:
            raise RuntimeError("the MessagesClient is closed")
        try:
            response = await self._transport.handle_async_request(request)
            response.request = request
            try:
                await response.aread()
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            raise MessagesApiError.unreachable(exc, request) from exc
        return response

    async def aclose(self) -> None:
        """Close the connection pool and the transport. Safe to call twice."""
        if not self._closed:
            self._closed = True
            await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"MessagesClient(url={self.url!r})"

    @staticmethod
    def _accepted(response: httpx.Response) -> Accepted:
        accepted = _accepted(response.content)
        if accepted is not None:
            return accepted
        # Accepted, but we cannot tell which message it is. status_code stays 2xx, so
        # the error is not retryable: sending again could deliver the message twice.
        raise MessagesApiError(
            status_code=response.status_code,
            title="Unexpected response",
            detail=f"no message_uuid in the response body: {clip(response.text)!r}",
            request=response.request,
            response=response,
        )

    def _error(self, response: httpx.Response) -> MessagesApiError:
        return MessagesApiError.from_response(response, clock=self._clock)


def _payload(body: Mapping[str, Any]) -> bytes:
    # json only serialises dicts; other mappings are copied once. Compact separators keep
    # the payload small; bytes go straight to the transport instead of being re-encoded.
    data = body if isinstance(body, dict) else dict(body)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _accepted(content: bytes) -> Accepted | None:
    """The accepted message a 2xx body names, or None when it names none."""
    try:
        data = json.loads(content)
    except ValueError:
        return None
    uuid = data.get("message_uuid") if isinstance(data, dict) else None
    if isinstance(uuid, str) and uuid:
        workflow = data.get("workflow_id")
        return Accepted(uuid, workflow if isinstance(workflow, str) and workflow else None)
    return None
