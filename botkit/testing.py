"""Testing bots: drive a bot through its real ASGI app, with the Messages API faked.

Example:
    async def test_echo() -> None:
        async with BotTestClient(bot) as client:
            replies = await client.send("hi", channel="sms")
            assert replies[0]["text"] == "hi"
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections import deque
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx

from botkit.bot import Bot
from botkit.clock import FakeClock
from botkit.context import MENU_KEY
from botkit.menu import ShownMenu
from botkit.signature import sign_webhook
from botkit.store.base import ConversationKey

__all__ = ["BotTestClient", "FakeClock", "FakeMessagesApi", "inbound_webhook", "status_webhook"]

# Plausible addresses per channel: numbers for phone channels, ids for pages and PSIDs.
DEFAULT_USER = {
    "sms": "447700900001",
    "mms": "14155550101",
    "whatsapp": "447700900001",
    "messenger": "8411652412345678",
    "viber_service": "447700900001",
}
DEFAULT_BOT = {
    "sms": "447700900000",
    "mms": "14155550100",
    "whatsapp": "447700900000",
    "messenger": "1234567890123456",
    "viber_service": "16273",
}


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def inbound_webhook(
    channel: str,
    message_type: str,
    content: dict[str, Any],
    *,
    user: str | None = None,
    bot: str | None = None,
    timestamp: float,
    message_uuid: str | None = None,
) -> dict[str, Any]:
    """A v1 inbound webhook body as the Messages API sends it.

    ``content`` holds the type's fields, e.g. ``{"text": "hi"}`` or
    ``{"location": {"lat": 51.5, "long": -0.1}}``.
    """
    body: dict[str, Any] = {
        "channel": channel,
        "message_uuid": message_uuid or str(uuid.uuid4()),
        "to": bot or DEFAULT_BOT[channel],
        "from": user or DEFAULT_USER[channel],
        "timestamp": _iso(timestamp),
    }
    if channel != "sms":  # v1 SMS inbound carries no message_type
        body["message_type"] = message_type
    if channel == "whatsapp":
        body["profile"] = {"name": "Test User"}
    body.update(content)
    return body


def status_webhook(
    channel: str,
    message_uuid: str,
    status: str,
    *,
    user: str | None = None,
    bot: str | None = None,
    timestamp: float,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A v1 status webhook body: the message was ours, so ``to`` is the user."""
    body: dict[str, Any] = {
        "message_uuid": message_uuid,
        "to": user or DEFAULT_USER[channel],
        "from": bot or DEFAULT_BOT[channel],
        "timestamp": _iso(timestamp),
        "status": status,
        "channel": channel,
    }
    if error is not None:
        body["error"] = error
    return body


class FakeMessagesApi:
    """The Messages API edge, faked with ``httpx.MockTransport``.

    Records every request; answers 202 with a fresh message_uuid unless a failure was
    queued with :meth:`fail_next`.
    """

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.bodies: list[dict[str, Any]] = []
        self._failures: deque[httpx.Response] = deque()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def fail_next(self, status_code: int, body: dict[str, Any] | None = None) -> None:
        """Answer the next send with ``status_code`` and a problem-details ``body``."""
        self._failures.append(httpx.Response(status_code, json=body or {"title": "Error"}))

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self._failures:
            return self._failures.popleft()
        self.bodies.append(json.loads(request.content))
        return httpx.Response(202, json={"message_uuid": str(uuid.uuid4())})


class BotTestClient:
    """Drives ``bot`` through its real webhook routes; the Messages API is faked.

    Each ``send``/``tap``/``share_location`` posts a v1 webhook (signed when the bot has
    a signature secret), waits until the bot has processed it and sent its replies,
    and returns the request bodies sent in response.

    Args:
        bot: the bot under test. Its transport must be unset; the client supplies the fake.
        clock: defaults to a ``FakeClock`` when the bot has one, else the bot's clock.
    """

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.api = FakeMessagesApi()
        if bot._transport is not None:
            raise ValueError(
                "BotTestClient supplies the Messages API transport; create the Bot without one"
            )
        bot._transport = self.api.transport()
        self._http: httpx.AsyncClient | None = None
        self._running: contextlib.AbstractAsyncContextManager[Bot] | None = None

    @property
    def replies(self) -> list[dict[str, Any]]:
        """Every request body the bot sent and the fake API accepted, in order."""
        return self.api.bodies

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("use 'async with BotTestClient(bot) as client:'")
        return self._http

    async def __aenter__(self) -> BotTestClient:
        self._running = self.bot.running()
        await self._running.__aenter__()
        transport = httpx.ASGITransport(app=self.bot.asgi())
        self._http = httpx.AsyncClient(transport=transport, base_url="http://botkit.test")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.aclose()
        if self._running is not None:
            await self._running.__aexit__(exc_type, exc, tb)
        self.bot._transport = None

    # -- raw webhooks ------------------------------------------------------------------------

    async def post(
        self,
        path: str,
        body: dict[str, Any] | bytes,
        *,
        sign: bool = True,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST a webhook body to ``path``; signed when the bot has a signature secret."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {"content-type": "application/json"}
        secret = self.bot.settings.signature_secret
        if sign and secret:
            sent["authorization"] = sign_webhook(raw, secret, now=self.bot.clock.now())
        sent.update(headers or {})
        return await self.http.post(path, content=raw, headers=sent)

    async def deliver(self, body: dict[str, Any], *, status: bool = False) -> list[dict[str, Any]]:
        """Post a webhook, wait for the bot, and return the bodies it sent in response."""
        before = len(self.replies)
        response = await self.post("/webhooks/status" if status else "/webhooks/inbound", body)
        if response.status_code != 200:
            raise AssertionError(f"webhook answered {response.status_code}: {response.text}")
        await self.bot.idle()
        return self.replies[before:]

    # -- what a user does ----------------------------------------------------------------------

    async def send(
        self, text: str, *, channel: str = "sms", user: str | None = None
    ) -> list[dict[str, Any]]:
        """The user sends ``text``."""
        return await self.deliver(self._inbound(channel, "text", {"text": text}, user))

    async def tap(
        self,
        payload_or_title: str,
        *,
        title: str | None = None,
        channel: str = "whatsapp",
        user: str | None = None,
    ) -> list[dict[str, Any]]:
        """The user picks a button by its payload or its title, as the channel allows.

        On WhatsApp, a button or list row the bot showed natively is tapped (a ``reply``
        webhook with its id and title). Where the buttons became a text menu, the user
        types the choice's label ("2", "B"), as a person would. A WhatsApp tap on a
        payload that was never shown is still delivered (with ``title``, if given), to test
        stale buttons.

        Raises:
            AssertionError: on a channel without native buttons, no pending menu offers it.
        """
        user = user or DEFAULT_USER[channel]
        native = self._shown_native(payload_or_title, channel, user)
        if native is not None:
            reply = {"id": native[0], "title": native[1]}
            return await self.deliver(self._inbound(channel, "reply", {"reply": reply}, user))
        menu = await self._pending_menu(channel, user)
        if menu is not None:
            for choice in menu.choices:
                if payload_or_title in (choice.payload, choice.title):
                    return await self.send(choice.label, channel=channel, user=user)
        if channel != "whatsapp":
            shown = [c.title for c in menu.choices] if menu else []
            raise AssertionError(f"no choice {payload_or_title!r} is shown on {channel}: {shown}")
        reply = {"id": payload_or_title, "title": title or payload_or_title}
        return await self.deliver(self._inbound(channel, "reply", {"reply": reply}, user))

    async def advance(self, seconds: float) -> list[dict[str, Any]]:
        """Move the bot's ``FakeClock`` on, fire the timers now due, and return the replies."""
        clock = self.bot.clock
        if not isinstance(clock, FakeClock):
            raise TypeError("advance() needs a Bot built with clock=FakeClock(...)")
        before = len(self.replies)
        clock.advance(seconds)
        await self.bot.fire_due_timers()
        await self.bot.idle()
        return self.replies[before:]

    def _shown_native(self, wanted: str, channel: str, user: str) -> tuple[str, str] | None:
        """The (id, title) of the latest native button or list row matching ``wanted``."""
        for body in reversed(self.replies):
            if body.get("channel") != channel or body.get("to") != user:
                continue
            interactive = (body.get("custom") or {}).get("interactive")
            if not isinstance(interactive, dict):
                continue
            action = interactive.get("action", {})
            options = [b.get("reply", {}) for b in action.get("buttons", [])]
            options += [row for s in action.get("sections", []) for row in s.get("rows", [])]
            for option in options:
                if wanted in (option.get("id"), option.get("title")):
                    return str(option["id"]), str(option["title"])
            return None  # only the latest interactive message can be tapped sensibly
        return None

    async def _pending_menu(self, channel: str, user: str) -> ShownMenu | None:
        key = ConversationKey(channel, user, DEFAULT_BOT[channel])
        stored = (await self.bot.store.load(key)).meta.get(MENU_KEY)
        return ShownMenu.from_dict(stored) if isinstance(stored, dict) else None

    async def menu(self, *, channel: str = "sms", user: str | None = None) -> ShownMenu | None:
        """The text menu the user currently has pending, as it was shown."""
        return await self._pending_menu(channel, user or DEFAULT_USER[channel])

    async def share_location(
        self,
        latitude: float,
        longitude: float,
        *,
        name: str | None = None,
        address: str | None = None,
        channel: str = "whatsapp",
        user: str | None = None,
    ) -> list[dict[str, Any]]:
        """The user shares a location."""
        location: dict[str, Any] = {"lat": latitude, "long": longitude}
        if name is not None:
            location["name"] = name
        if address is not None:
            location["address"] = address
        return await self.deliver(self._inbound(channel, "location", {"location": location}, user))

    async def status(
        self,
        message_uuid: str,
        status: str,
        *,
        channel: str = "sms",
        user: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """A status webhook for one of the bot's messages."""
        body = status_webhook(
            channel, message_uuid, status, user=user, timestamp=self.bot.clock.now(), error=error
        )
        return await self.deliver(body, status=True)

    def _inbound(
        self, channel: str, message_type: str, content: dict[str, Any], user: str | None
    ) -> dict[str, Any]:
        return inbound_webhook(
            channel, message_type, content, user=user, timestamp=self.bot.clock.now()
        )
