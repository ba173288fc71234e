"""The agent webhook: each handoff event POSTed to ``BOTKIT_AGENT_WEBHOOK_URL``, signed.

The body is the event's JSON (see :mod:`botkit.handoff.events`) and the headers say what
it is and prove who sent it::

    Content-Type: application/json
    X-Botkit-Event: message.received
    X-Botkit-Delivery: evt_3f1c...          (the event's id: the same on a retry)
    X-Botkit-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with BOTKIT_AGENT_TOKEN>

A receiver computes the HMAC over the raw body bytes it received (before parsing them)
and compares it with the header in constant time (:func:`verify_signature` does both).
Any 2xx answer takes the event; 408, 429 and 5xx (and no answer at all) are retried
with backoff (see :mod:`botkit.handoff.relay`); any other status refuses it for good.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Final

import httpx

from botkit.client import USER_AGENT
from botkit.clock import Clock, SystemClock
from botkit.errors import _retry_after
from botkit.handoff.events import HandoffEvent
from botkit.handoff.relay import DeliveryError

__all__ = ["SIGNATURE_HEADER", "WebhookSink", "check_delivered", "sign", "verify_signature"]

SIGNATURE_HEADER: Final = "X-Botkit-Signature"
_RETRYABLE = frozenset({408, 425, 429})


def sign(body: bytes, token: str) -> str:
    """The ``X-Botkit-Signature`` value of ``body``: ``sha256=`` and the hex HMAC."""
    return "sha256=" + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, token: str) -> bool:
    """True when ``header`` is the signature of the raw ``body`` with ``token``.

    For receivers written in Python::

        if not verify_signature(await request.body(), request.headers.get(
                "X-Botkit-Signature"), os.environ["BOTKIT_AGENT_TOKEN"]):
            return Response(status_code=401)
    """
    if not header:
        return False
    return hmac.compare_digest(header.encode(), sign(body, token).encode())


def check_delivered(response: httpx.Response, what: str, *, clock: Clock) -> None:
    """Raise :class:`DeliveryError` unless ``response`` is a 2xx (retryable for 408,
    425, 429 and 5xx, with the ``Retry-After`` it gave)."""
    if response.is_success:
        return
    status = response.status_code
    retryable = status in _RETRYABLE or status >= 500
    raise DeliveryError(
        f"{what} answered {status}: {response.text[:200]}",
        retryable=retryable,
        retry_after=_retry_after(response, clock) if retryable else None,
    )


class WebhookSink:
    """POSTs each event, signed, to the agent webhook URL.

    Args:
        url: ``BOTKIT_AGENT_WEBHOOK_URL``.
        token: ``BOTKIT_AGENT_TOKEN``, the signing key.
        transport: the httpx transport (tests may pass one); the default opens real
            connections.
        timeout: seconds for each of connect, write, read and pool.
    """

    name = "the agent webhook"

    def __init__(
        self,
        url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        self.url = url
        self._token = token
        self._clock = clock or SystemClock()
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout)

    async def deliver(self, event: HandoffEvent) -> None:
        body = json.dumps(event.to_json(), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "x-botkit-event": event.type,
            "x-botkit-delivery": event.id,
            SIGNATURE_HEADER: sign(body, self._token),
        }
        try:
            response = await self._http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{self.url}: {type(exc).__name__}: {exc}",
                                retryable=True) from exc
        check_delivered(response, self.url, clock=self._clock)

    async def aclose(self) -> None:
        await self._http.aclose()
