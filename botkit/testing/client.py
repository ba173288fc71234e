"""BotTestClient: drives a bot through its real webhook routes, recording what it sends."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from botkit._rich_seen import chips_of
from botkit.bot import Bot
from botkit.channels import channel as channel_spec
from botkit.clock import FakeClock
from botkit.context import MENU_KEY
from botkit.menu import ShownMenu
from botkit.retry import Sleeper
from botkit.signature import sign_webhook
from botkit.store.base import ConversationKey
from botkit.testing.fake_api import FakeMessagesApi
from botkit.testing.replies import SentReply
from botkit.testing.sleeper import FakeSleeper
from botkit.testing.webhooks import (
    DEFAULT_BOT,
    DEFAULT_USER,
    contact_card,
    inbound_webhook,
    reaction_webhook,
    said,
    status_webhook,
)

if TYPE_CHECKING:
    from botkit.bot import RenderedTurn
    from botkit.handoff.events import HandoffEvent


class _Recording(httpx.AsyncBaseTransport):
    """Wraps the fake API: each accepted body becomes a :class:`SentReply`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, client: BotTestClient) -> None:
        self._inner, self._client = inner, client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if response.status_code == 202 and request.method == "POST":
            await response.aread()
            body = json.loads(request.content)
            ref = body.get("client_ref")
            decisions = self._client._decisions.pop(ref, None) if isinstance(ref, str) else None
            answer = response.json()
            self._client._sent.append(SentReply(
                body, message_uuid=answer["message_uuid"], decisions=decisions,
                workflow_id=answer.get("workflow_id")))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class BotTestClient:
    """Drives ``bot`` through its real webhook routes; the Messages API is faked.

    Each ``send``/``tap``/``share_location`` posts a v1 webhook (signed when the bot has
    a signature secret), waits until the bot has processed it and sent its replies,
    and returns the request bodies sent in response.

    Args:
        bot: the bot under test. Its transport must be unset; the client supplies the fake.
            A bot on a ``FakeClock`` that sleeps with ``asyncio.sleep`` gets a
            :class:`FakeSleeper` on that clock while the client runs.
        clock: defaults to a ``FakeClock`` when the bot has one, else the bot's clock.
    """

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        # A bot on a fake clock must wait on it too (send backoff, the send rate, the
        # shutdown grace): a real sleep would never see that clock move.
        self._real_sleep: Sleeper | None = None
        if isinstance(bot.clock, FakeClock) and bot.sleep is asyncio.sleep:
            self._real_sleep, bot.sleep = bot.sleep, FakeSleeper(bot.clock)
        self.api = FakeMessagesApi(clock=bot.clock, sleep=bot.sleep)
        if bot._transport is not None:
            raise ValueError(
                "BotTestClient supplies the Messages API transport; create the Bot without one"
            )
        bot._transport = _Recording(self.api.transport(), self)
        self._sent: list[SentReply] = []
        self._decisions: dict[str, list[str]] = {}
        self._lines: list[tuple[str, str, str]] = []  # (channel, "<" or ">", text)
        self._http: httpx.AsyncClient | None = None
        self._running: contextlib.AbstractAsyncContextManager[Bot] | None = None
        self._agent_side = _AgentSide()

    @property
    def replies(self) -> list[SentReply]:
        """Every request body the bot sent and the fake API accepted, in order."""
        return self._sent

    @property
    def transcript(self) -> str:
        """The conversation so far as the user saw it: ``> what they sent``, ``< replies``.

        A line ``--- whatsapp ---`` starts each run of turns on one channel.
        """
        out: list[str] = []
        channel = None
        for where, arrow, text in self._lines:
            if where != channel:
                out.append(f"--- {where} ---")
                channel = where
            first, *rest = text.split("\n")
            out.append(f"{arrow} {first}")
            out.extend(f"  {line}" for line in rest)
        return "\n".join(out)

    def _remember(self, turn: RenderedTurn) -> None:
        for ref, decisions in turn.decisions_by_ref.items():
            self._decisions[ref] = list(decisions)

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("use 'async with BotTestClient(bot) as client:'")
        return self._http

    async def __aenter__(self) -> BotTestClient:
        self.bot.render_observers.append(self._remember)
        self._running = self.bot.running()
        await self._running.__aenter__()
        self.bot._running_handoff().relay.sinks.append(self._agent_side)
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
        if self._real_sleep is not None:
            self.bot.sleep = self._real_sleep
        if self._remember in self.bot.render_observers:
            self.bot.render_observers.remove(self._remember)

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

    async def deliver(self, body: dict[str, Any], *, status: bool = False) -> list[SentReply]:
        """Post a webhook, wait for the bot, and return the bodies it sent in response.

        This is the raw form; for status webhooks see :meth:`delivered`, :meth:`read`
        and :meth:`status`.
        """
        before = len(self.replies)
        response = await self.post("/webhooks/status" if status else "/webhooks/inbound", body)
        if response.status_code != 200:
            raise AssertionError(f"webhook answered {response.status_code}: {response.text}")
        if not status:
            self._lines.append((str(body.get("channel")), ">", said(body)))
        return await self._settled(before)

    async def _settled(self, before: int) -> list[SentReply]:
        """Wait for the bot and the agent side; the replies sent since ``before``."""
        await self.bot.idle()
        await self.bot._running_handoff().relay.idle()
        sent = self.replies[before:]
        self._lines.extend((reply.channel, "<", reply.seen) for reply in sent)
        return sent

    # -- a person behind the bot ---------------------------------------------------------------

    @property
    def agent_events(self) -> list[dict[str, Any]]:
        """Every event the agent side was told (``handoff.started``, ``message.received``,
        ``message.status``, ``handoff.released``), as JSON, in order."""
        return self._agent_side.events

    async def agent(
        self,
        reply: str | dict[str, Any],
        *,
        channel: str = "sms",
        user: str | None = None,
        name: str | None = None,
    ) -> list[SentReply]:
        """An agent writes to the handed-off user (a text, or a reply as data); returns
        what the user received.

        Raises:
            DeskError: the user is not handed off (409), or the reply is bad (422).
        """
        before = len(self.replies)
        data = {"text": reply} if isinstance(reply, str) else reply
        await self.bot.desk.send(channel, user or DEFAULT_USER[channel], data, agent=name,
                                 source="test")
        return await self._settled(before)

    async def hand_back(
        self, state: str | None = None, *, channel: str = "sms", user: str | None = None
    ) -> list[SentReply]:
        """An agent hands the conversation back to the bot (to resume at ``state``);
        returns what the bot said as it resumed."""
        before = len(self.replies)
        await self.bot.desk.release(channel, user or DEFAULT_USER[channel], state,
                                    source="test")
        return await self._settled(before)

    # -- what a user does ----------------------------------------------------------------------

    async def send(
        self, text: str, *, channel: str = "sms", user: str | None = None
    ) -> list[SentReply]:
        """The user sends ``text``."""
        return await self.deliver(self._inbound(channel, "text", {"text": text}, user))

    async def tap(
        self,
        payload_or_title: str,
        *,
        title: str | None = None,
        channel: str = "whatsapp",
        user: str | None = None,
    ) -> list[SentReply]:
        """The user picks a button by its payload or its title, as the channel allows.

        On WhatsApp, a button or list row the bot showed natively is tapped (a ``reply``
        webhook with its id and title). Where the buttons became a text menu, the user
        types the choice's label ("2", "B"), as a person would. On RCS, a suggestion chip
        is tapped by its label, its postback data or the full title of the button it
        shows: a reply chip sends ``reply{id, title}``, an action chip (dial, open a link,
        ...) ``button{payload, text}``, as the phone does; a card's chips stay tappable
        after later messages. A tap on a payload that was never shown is still delivered
        (with ``title``, if given) where users tap natively, to test stale buttons.

        Raises:
            AssertionError: on a channel without native buttons, no pending menu offers it.
        """
        user = user or DEFAULT_USER[channel]
        native = self._shown_native(payload_or_title, channel, user)
        if native is not None:
            reply = {"id": native[0], "title": native[1]}
            return await self.deliver(self._inbound(channel, "reply", {"reply": reply}, user))
        menu = await self._pending_menu(channel, user)
        if menu is not None and menu.style != "native":  # the latest choices were text
            for choice in menu.choices:
                if payload_or_title in (choice.payload, choice.title):
                    return await self.send(choice.label, channel=channel, user=user)
        chip = self._shown_chip(payload_or_title, channel, user, menu)
        if chip is not None:
            return await self.tap_suggestion(chip, channel=channel, user=user)
        if "reply" not in channel_spec(channel).sandbox.sends:
            shown = [c.title for c in menu.choices] if menu else []
            raise AssertionError(f"no choice {payload_or_title!r} is shown on {channel}: {shown}")
        reply = {"id": payload_or_title, "title": title or payload_or_title}
        return await self.deliver(self._inbound(channel, "reply", {"reply": reply}, user))

    async def tap_suggestion(
        self, suggestion: dict[str, Any], *, channel: str = "rcs", user: str | None = None
    ) -> list[SentReply]:
        """The user taps this very chip (one of a reply's ``suggestions``, or a card's).

        A reply chip sends ``reply{id: postback_data, title: text}``, any other (dial,
        open a link, a map, a calendar event) ``button{payload: postback_data, text}``, as
        the phone does. Use it where two chips share a label (two cards' "Order").
        """
        postback = str(suggestion.get("postback_data", ""))
        text = str(suggestion.get("text", ""))
        if suggestion.get("type") == "reply":
            content = {"reply": {"id": postback, "title": text}}
            return await self.deliver(self._inbound(channel, "reply", content, user))
        content = {"button": {"payload": postback, "text": text}}
        return await self.deliver(self._inbound(channel, "button", content, user))

    async def advance(self, seconds: float) -> list[SentReply]:
        """Move the bot's ``FakeClock`` on, fire the timers now due, and return the replies."""
        clock = self.bot.clock
        if not isinstance(clock, FakeClock):
            raise TypeError("advance() needs a Bot built with clock=FakeClock(...)")
        before = len(self.replies)
        clock.advance(seconds)
        await self.bot.fire_due_timers()
        await self.bot.idle()
        await self.bot._running_handoff().relay.idle()
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

    def _shown_chip(self, wanted: str, channel: str, user: str,
                    menu: ShownMenu | None) -> dict[str, Any] | None:
        """The latest suggestion chip whose label or postback data is ``wanted``.

        A chip's label may be a shortened title: the full title is found through the
        pending native menu, which keeps the titles and payloads shown.
        """
        payloads = {wanted}
        if menu is not None and menu.style == "native":
            payloads |= {c.payload for c in menu.choices if c.title == wanted}
        for body in reversed(self.replies):
            if body.channel != channel or body.user != user:
                continue
            for chip in chips_of(body):
                if chip.get("text") == wanted or chip.get("postback_data") in payloads:
                    return chip
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
    ) -> list[SentReply]:
        """The user shares a location."""
        location: dict[str, Any] = {"lat": latitude, "long": longitude}
        if name is not None:
            location["name"] = name
        if address is not None:
            location["address"] = address
        return await self.deliver(self._inbound(channel, "location", {"location": location}, user))

    async def status(
        self,
        message: str | SentReply,
        status: str,
        *,
        channel: str = "sms",
        user: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> list[SentReply]:
        """A status webhook for one of the bot's messages: a reply, or a message_uuid.

        Given a reply, its channel, user and ``client_ref`` are used.
        """
        ref = None
        if isinstance(message, SentReply):
            channel, user, ref = message.channel, message.user, message.get("client_ref")
            message = message.message_uuid
        body = status_webhook(
            channel, message, status, user=user, timestamp=self.bot.clock.now(), error=error
        )
        if isinstance(ref, str):
            body["client_ref"] = ref
        return await self.deliver(body, status=True)

    async def delivered(self, reply: SentReply) -> list[SentReply]:
        """Vonage reports ``reply`` delivered (``@bot.on_status("delivered")`` runs)."""
        return await self.status(reply, "delivered")

    async def read(self, reply: SentReply) -> list[SentReply]:
        """The user read ``reply`` (RCS, WhatsApp, Messenger and Viber report it)."""
        return await self.status(reply, "read")

    async def send_image(
        self,
        url: str,
        *,
        caption: str | None = None,
        channel: str = "whatsapp",
        user: str | None = None,
    ) -> list[SentReply]:
        """The user sends an image (MMS, RCS, WhatsApp, Messenger and Viber users can)."""
        if channel == "sms":
            raise ValueError("an SMS user cannot send an image; use channel='mms'")
        image = {"url": url} if caption is None else {"url": url, "caption": caption}
        return await self.deliver(self._inbound(channel, "image", {"image": image}, user))

    async def share_contact(
        self,
        name: str,
        *,
        phones: Sequence[str] = (),
        emails: Sequence[str] = (),
        url: str | None = None,
        channel: str = "whatsapp",
        user: str | None = None,
    ) -> list[SentReply]:
        """The user shares a contact: a WhatsApp contact card, or an MMS vCard at ``url``."""
        if channel == "mms":
            if url is None:
                raise ValueError("an MMS contact is a vCard file: pass its url=")
            vcard = {"vcard": {"url": url}}
            return await self.deliver(self._inbound(channel, "vcard", vcard, user))
        if channel != "whatsapp":
            raise ValueError(
                f"a {channel} user cannot share a contact card (WhatsApp and MMS can)"
            )
        card = contact_card(name, phones=phones, emails=emails)
        return await self.deliver(self._inbound(channel, "contacts", {"contacts": [card]}, user))

    async def react(
        self,
        emoji: str,
        *,
        to: str | SentReply,
        channel: str = "whatsapp",
        user: str | None = None,
    ) -> list[SentReply]:
        """The user reacts with ``emoji`` to a message (a reply, or its ``message_uuid``);
        ``""`` takes their reaction back. WhatsApp users can (a ``reaction`` webhook, the
        message reacted to as its ``context``).

        Raises:
            ValueError: on a channel whose users cannot react.
        """
        if "reaction" not in channel_spec(channel).sandbox.sends:
            raise ValueError(f"a {channel} user cannot react to a message (WhatsApp users can)")
        if isinstance(to, SentReply):
            channel, user, to = to.channel, to.user, to.message_uuid
        body = reaction_webhook(emoji, to, channel=channel, user=user,
                                timestamp=self.bot.clock.now())
        return await self.deliver(body)

    def _inbound(
        self, channel: str, message_type: str, content: dict[str, Any], user: str | None
    ) -> dict[str, Any]:
        return inbound_webhook(
            channel, message_type, content, user=user, timestamp=self.bot.clock.now()
        )


class _AgentSide:
    """A sink that keeps every handoff event, for :attr:`BotTestClient.agent_events`."""

    name = "the test client"

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def deliver(self, event: HandoffEvent) -> None:
        self.events.append(event.to_json())

    async def aclose(self) -> None:
        pass
