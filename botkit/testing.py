"""Testing bots: drive a bot through its real ASGI app, with the Messages API faked.

Example:
    async def test_echo() -> None:
        async with BotTestClient(bot) as client:
            replies = await client.send("hi", channel="sms")
            assert replies[0]["text"] == "hi"
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import math
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from botkit.bot import Bot
from botkit.clock import Clock, FakeClock, SystemClock
from botkit.context import MENU_KEY
from botkit.menu import ShownMenu
from botkit.preview import user_view
from botkit.retry import Sleeper
from botkit.signature import sign_webhook
from botkit.store.base import ConversationKey

if TYPE_CHECKING:
    from botkit.bot import RenderedTurn

__all__ = [
    "BotTestClient",
    "FakeClock",
    "FakeMessagesApi",
    "FakeSleeper",
    "SentReply",
    "inbound_webhook",
    "status_webhook",
]

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


class FakeSleeper:
    """A sleep on a :class:`FakeClock` that takes no real time: ``Bot(sleep=FakeSleeper(clock))``.

    Each ``await sleeper(seconds)`` registers a wake-up at ``clock.now() + seconds``. Once
    the event loop has had a moment with nothing else to do, the clock jumps to the
    earliest wake-up and wakes whoever is due. The clock never jumps past a pending
    wake-up, so whatever is timed by the clock sees time pass in the right order; a
    jump can only come early relative to work the loop does not see (a store thread),
    which then looks slower than it was.

    With ``autojump=False`` time moves only when the test calls :meth:`advance`, for
    tests that must decide what happens between two wake-ups.

    Args:
        clock: the bot's fake clock, moved by the jumps.
        autojump: jump by itself whenever the loop is otherwise idle.
        settle: real seconds the loop is left to run before each jump (work handed to
            threads, such as SQLite's, usually finishes meanwhile).

    Attributes:
        slept: every duration asked for, in order.
    """

    def __init__(self, clock: FakeClock, *, autojump: bool = True, settle: float = 0.001) -> None:
        self.clock = clock
        self.slept: list[float] = []
        self.autojump = autojump
        self._settle = settle
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._pending_jump: asyncio.Handle | None = None

    async def __call__(self, seconds: float, /) -> None:
        self.slept.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        now = self.clock.now()
        # At least one representable step on: a tiny wait must still move the clock, or
        # whoever checks the time after it would wait again forever.
        due = max(now + seconds, math.nextafter(now, math.inf))
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._heap, (due, next(self._order), future))
        self._schedule(loop)
        try:
            await future
        finally:
            future.cancel()  # no-op once woken; a cancelled sleeper is skipped by the jump

    @property
    def waiting(self) -> int:
        """Sleepers not yet woken."""
        return sum(1 for _, _, future in self._heap if not future.done())

    async def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` on, waking each sleeper at its time, in order."""
        target = self.clock.now() + seconds
        while True:
            for _ in range(20):  # let the woken run to their next wait
                await asyncio.sleep(0)
            heap = self._heap
            while heap and heap[0][2].done():
                heapq.heappop(heap)
            if not heap or heap[0][0] > target:
                break
            self._wake(heap[0][0])
        if self.clock.now() < target:
            self.clock.set(target)

    def _wake(self, due: float) -> None:
        """Set the clock to ``due`` (never back) and wake every sleeper due by then."""
        if self.clock.now() < due:
            self.clock.set(due)
        now, heap = self.clock.now(), self._heap
        while heap and heap[0][0] <= now:
            _, _, future = heapq.heappop(heap)
            if not future.done():
                future.set_result(None)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.autojump and self._pending_jump is None:
            self._pending_jump = loop.call_later(self._settle, self._settled, loop, 10)

    def _settled(self, loop: asyncio.AbstractEventLoop, rounds: int) -> None:
        if rounds > 0:
            # A few more turns of the loop after the pause: chains of ready callbacks
            # (a task waking another) run to their next real wait before time moves.
            self._pending_jump = loop.call_soon(self._settled, loop, rounds - 1)
            return
        self._pending_jump = None
        heap = self._heap
        while heap and heap[0][2].done():
            heapq.heappop(heap)
        if not heap:
            return
        self._wake(heap[0][0])
        if heap:
            self._schedule(loop)


@dataclass(frozen=True, slots=True)
class _Fault:
    status_code: int = 0  # 0: no HTTP answer (connection refused)
    body: dict[str, Any] | None = None
    retry_after: str | None = None
    delay: float = 0.0  # seconds before answering; with status_code 202, then accepted
    to: str | None = None  # only for sends to this address
    lost_answer: bool = False  # accepted, but the answer never arrives (a read timeout)

    def applies(self, body: dict[str, Any]) -> bool:
        return self.to is None or body.get("to") == self.to


class FakeMessagesApi:
    """The Messages API edge, faked with ``httpx.MockTransport``, with fault knobs.

    Records every request; answers 202 with a fresh message_uuid unless a fault was
    queued: :meth:`fail_next` (a status, a ``Retry-After``), :meth:`refuse_next` (no
    connection), :meth:`delay_next` (a slow answer), :meth:`lose_answer_next` (accepted,
    then a timeout: the ambiguous case). Faults apply to the next requests
    in the order they were queued, one request each; one queued with ``to=`` waits for
    a send to that address. :meth:`hold` keeps every request waiting until
    :meth:`release`.

    Args:
        clock: stamps :attr:`request_times` and :attr:`accepted_times`.
        sleep: how a delayed answer waits (a :class:`FakeSleeper` in tests).

    Attributes:
        requests: every request received, accepted or not.
        request_times: the clock's time at each of ``requests``.
        bodies: the bodies of accepted messages, in order.
        accepted_times: the clock's time at each of ``bodies``.
        duplicates: accepted messages whose ``client_ref`` was accepted before.
    """

    def __init__(self, *, clock: Clock | None = None, sleep: Sleeper | None = None) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.sleep: Sleeper = sleep if sleep is not None else asyncio.sleep
        self.requests: list[httpx.Request] = []
        self.request_times: list[float] = []
        self.bodies: list[dict[str, Any]] = []
        self.accepted_times: list[float] = []
        self.duplicates = 0
        self._refs: set[str] = set()
        self._faults: list[_Fault] = []
        self._gate: asyncio.Event | None = None
        self.held = 0
        """Requests waiting for :meth:`release`."""

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def fail_next(
        self,
        status_code: int,
        body: dict[str, Any] | None = None,
        *,
        times: int = 1,
        retry_after: float | str | None = None,
        to: str | None = None,
    ) -> None:
        """Answer the next ``times`` sends with ``status_code`` and a problem-details ``body``.

        ``retry_after`` adds a ``Retry-After`` header (seconds, or an HTTP date as text);
        ``to`` limits the fault to sends to that address.
        """
        header = None if retry_after is None else str(retry_after)
        fault = _Fault(status_code, body or {"title": "Error"}, header, to=to)
        self._faults.extend([fault] * times)

    def refuse_next(self, times: int = 1, *, to: str | None = None) -> None:
        """Fail the next ``times`` sends without an answer, as a refused connection does."""
        self._faults.extend([_Fault(to=to)] * times)

    def delay_next(
        self, seconds: float, times: int = 1, *, status_code: int = 202, to: str | None = None
    ) -> None:
        """Answer the next ``times`` sends after ``seconds`` (accepted, or ``status_code``)."""
        fault = _Fault(status_code, {"title": "Error"}, delay=seconds, to=to)
        self._faults.extend([fault] * times)

    def lose_answer_next(self, times: int = 1, *, to: str | None = None) -> None:
        """Accept the next ``times`` sends but fail them with a read timeout, as when the
        answer is lost on the way back: the sender cannot tell, and a retry duplicates."""
        self._faults.extend([_Fault(202, to=to, lost_answer=True)] * times)

    def hold(self) -> None:
        """Keep every request waiting, unanswered, until :meth:`release`."""
        if self._gate is None:
            self._gate = asyncio.Event()

    def release(self) -> None:
        """Let held requests (and later ones) through."""
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.set()

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.request_times.append(self.clock.now())
        body = json.loads(request.content)
        if self._gate is not None:
            self.held += 1
            try:
                await self._gate.wait()
            finally:
                self.held -= 1
        fault = next((f for f in self._faults if f.applies(body)), None)
        if fault is not None:
            self._faults.remove(fault)
        if fault is not None and fault.delay > 0:
            await self.sleep(fault.delay)
        if fault is not None and fault.status_code == 0:
            raise httpx.ConnectError("connection refused (FakeMessagesApi)", request=request)
        if fault is not None and fault.status_code != 202:
            headers = {} if fault.retry_after is None else {"Retry-After": fault.retry_after}
            return httpx.Response(fault.status_code, json=fault.body, headers=headers)
        ref = body.get("client_ref")
        if isinstance(ref, str):
            if ref in self._refs:
                self.duplicates += 1
            self._refs.add(ref)
        self.bodies.append(body)
        self.accepted_times.append(self.clock.now())
        if fault is not None and fault.lost_answer:
            raise httpx.ReadTimeout("no answer (FakeMessagesApi)", request=request)
        return httpx.Response(202, json={"message_uuid": str(uuid.uuid4())})


class SentReply(dict[str, Any]):
    """A request body the bot sent (it compares equal to the plain dict), and what it shows.

    Attributes:
        message_uuid: what the fake Messages API answered.
        decisions: the renderer's decisions for this body (downgrades, splits, SMS
            encoding); None for a body sent outside a rendered turn.
    """

    def __init__(self, body: dict[str, Any], *, message_uuid: str,
                 decisions: list[str] | None = None) -> None:
        super().__init__(body)
        self.message_uuid = message_uuid
        self.decisions = decisions

    @property
    def seen(self) -> str:
        """What the user reads on the channel, e.g. ``What size?\n1. Small\n2. Large``."""
        return user_view(self)

    @property
    def channel(self) -> str:
        """The channel it was sent on."""
        to = self.get("to")
        if isinstance(to, dict):  # v0.1: {"type": ..., "number"|"id": ...}
            kind = str(to.get("type", ""))
            return "viber_service" if kind == "viber_service_msg" else kind
        return str(self.get("channel", ""))

    @property
    def user(self) -> str:
        """The address it was sent to."""
        to = self.get("to")
        return str(to.get("number") or to.get("id")) if isinstance(to, dict) else str(to)


class _Recording(httpx.AsyncBaseTransport):
    """Wraps the fake API: each accepted body becomes a :class:`SentReply`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, client: BotTestClient) -> None:
        self._inner, self._client = inner, client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if response.status_code == 202:
            await response.aread()
            body = json.loads(request.content)
            ref = body.get("client_ref")
            decisions = self._client._decisions.pop(ref, None) if isinstance(ref, str) else None
            self._client._sent.append(
                SentReply(body, message_uuid=response.json()["message_uuid"], decisions=decisions)
            )
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
            self._lines.append((str(body.get("channel")), ">", _said(body)))
        await self.bot.idle()
        sent = self.replies[before:]
        self._lines.extend((reply.channel, "<", reply.seen) for reply in sent)
        return sent

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

    async def advance(self, seconds: float) -> list[SentReply]:
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
        """The user read ``reply`` (WhatsApp, Messenger and Viber report it)."""
        return await self.status(reply, "read")

    async def send_image(
        self,
        url: str,
        *,
        caption: str | None = None,
        channel: str = "whatsapp",
        user: str | None = None,
    ) -> list[SentReply]:
        """The user sends an image (MMS, WhatsApp, Messenger and Viber users can)."""
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
        given, _, family = name.partition(" ")
        card: dict[str, Any] = {"name": {"formatted_name": name, "first_name": given}}
        if family:
            card["name"]["last_name"] = family
        if phones:
            card["phones"] = [{"phone": p} for p in phones]
        if emails:
            card["emails"] = [{"email": e} for e in emails]
        return await self.deliver(self._inbound(channel, "contacts", {"contacts": [card]}, user))

    def _inbound(
        self, channel: str, message_type: str, content: dict[str, Any], user: str | None
    ) -> dict[str, Any]:
        return inbound_webhook(
            channel, message_type, content, user=user, timestamp=self.bot.clock.now()
        )


def _said(body: dict[str, Any]) -> str:
    """What the user did, in words, for the transcript."""
    kind = body.get("message_type", "text")
    content = body.get(kind)
    if kind == "text":
        return str(content)
    if kind == "reply" and isinstance(content, dict):
        return f"[tap] {content.get('title') or content.get('id')}"
    if kind == "location" and isinstance(content, dict):
        return f"[location] {content.get('lat')}, {content.get('long')}"
    if isinstance(content, dict) and "url" in content:
        return f"[{kind}] {content['url']}"
    if "contacts" in body:
        return "[contact] " + ", ".join(c["name"]["formatted_name"] for c in body["contacts"])
    return f"[{kind}]"


def __getattr__(name: str) -> Any:
    # ``bot_client`` imports pytest only when asked for, so botkit never needs it to run.
    if name == "bot_client":
        return _bot_client_fixture()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _bot_client_fixture() -> Any:
    """The ``bot_client`` pytest fixture: a running :class:`BotTestClient` for ``bot``.

    Define a ``bot`` fixture returning the bot under test, then in ``conftest.py``::

        from botkit.testing import bot_client  # noqa: F401  (registers the fixture)
    """
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def bot_client(bot: Bot) -> AsyncIterator[BotTestClient]:
        """A running test client for the ``bot`` fixture's bot."""
        async with BotTestClient(bot) as client:
            yield client

    return bot_client
