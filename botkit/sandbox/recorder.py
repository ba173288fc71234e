"""The sandbox's fake Messages API and its timeline.

With no Vonage credentials the bot sends through :class:`SandboxRecorder`'s httpx
transport instead of the network, so it runs exactly the code it runs in production. The
fake API checks each request body with botkit's strict wire models
(:func:`botkit.wire.check_body`): a body with violations is refused with 422 and
``invalid_parameters``, as Vonage refuses one; any other is accepted with 202 and a
``message_uuid`` (and a ``workflow_id`` for a body with failover), and then, like Vonage,
the sandbox sends status webhooks back through the bot's real ``/webhooks/status`` route
(:mod:`botkit.sandbox.deliveries`: ``delivered`` and ``read``, or ``rejected`` and the
next failover step). ``PATCH /v1/messages/{uuid}`` (mark read, typing, revoke) updates
the message it names (:mod:`botkit.sandbox.updates`).

The webhooks the sandbox page sends as the user go through :meth:`SandboxRecorder.
deliver_webhook`: signed when a signature secret is set, posted in-process to the bot's
own ASGI app, with every check the route makes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import OrderedDict, deque
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from botkit.channels import REGISTRY
from botkit.errors import OptedOut, OutboundSuppressed
from botkit.sandbox.deliveries import deliver, detail
from botkit.sandbox.entries import Direction, SandboxEntry, parties_of
from botkit.sandbox.updates import invalid_params, update
from botkit.signature import sign_webhook
from botkit.wire import check_body

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from botkit.bot import Bot, RenderedTurn
    from botkit.store.base import ConversationKey

__all__ = ["SandboxRecorder"]

log = logging.getLogger("botkit.sandbox")

_MAX_DECISIONS = 10_000


class _Transport(httpx.AsyncBaseTransport):
    """The fake Messages API as an httpx transport; closing it stops pending status ticks."""

    def __init__(self, recorder: SandboxRecorder) -> None:
        self._recorder = recorder

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return self._recorder.handle(request)

    async def aclose(self) -> None:
        await self._recorder.stop_ticks()


class SandboxRecorder:
    """Records what the bot sends and what the sandbox page sends, in one timeline.

    Args:
        bot: the bot whose webhook routes the status webhooks go to (None: no ticks).
        limit: how many entries the timeline keeps.
        tick_delays: seconds before the ``delivered`` and the ``read`` status webhooks
            (the first also before a ``rejected`` one).
        typing_seconds: how long the replying indicator shows at most.

    Attributes:
        failing: the channels whose messages the fake API rejects (with error 1300, as for
            a user the channel cannot reach), so that failover moves on to the next step.
    """

    def __init__(
        self,
        bot: Bot | None = None,
        limit: int = 1000,
        *,
        tick_delays: tuple[float, float] = (0.4, 1.0),
        typing_seconds: float = 25.0,
    ) -> None:
        self.bot = bot
        self.entries: deque[SandboxEntry] = deque(maxlen=limit)
        self.tick_delays = tick_delays
        self.rev = 0
        self.app: ASGIApp | None = None
        self.base_url = "http://127.0.0.1"
        self._own_app: ASGIApp | None = None
        self._next_id = 0
        self._decisions: OrderedDict[str, list[str]] = OrderedDict()
        self._changed: asyncio.Event | None = None
        self.typing_seconds = typing_seconds
        self.failing: set[str] = set()
        self._ticks: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.Task[None]] = set()  # typing indicators running out
        self.closing = False
        """Set when the server is stopping: live event streams end (a signal may set it)."""

    @property
    def senders(self) -> Mapping[str, str]:
        """Our address per channel: ``BOTKIT_SENDERS``, and each pane's bot address for the
        channels it does not name, so that a failover step reaches its channel's pane and
        a typed answer there comes back to the step's conversation."""
        own = self.bot.settings.senders if self.bot is not None else {}
        return {**{name: spec.sample_bot for name, spec in REGISTRY.items()}, **own}

    # -- what was recorded -----------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """What the bot sent, oldest first: each entry as JSON (``body``, ``message_uuid``...)."""
        return [e.to_json() for e in self.entries if e.direction == "out"]

    def changes(self, since: int) -> list[SandboxEntry]:
        """The entries added or changed after revision ``since``, in revision order."""
        return sorted((e for e in self.entries if e.rev > since), key=lambda e: e.rev)

    async def wait_for_change(self, since: int, timeout: float) -> None:
        """Return once the timeline is past revision ``since``, or after ``timeout`` s."""
        if self.rev > since:
            return
        if self._changed is None:
            self._changed = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    def find(self, message_uuid: str, channel: str | None = None) -> SandboxEntry | None:
        """The first entry of the message ``message_uuid`` (on ``channel`` if given): a
        failover step shares its message's uuid, so without a channel the primary one."""
        return next((e for e in self.entries if e.message_uuid == message_uuid
                     and (channel is None or e.channel == channel)), None)

    def entry(self, entry_id: int) -> SandboxEntry | None:
        """The entry with id ``entry_id``, if the timeline still holds it."""
        return next((e for e in self.entries if e.id == entry_id), None)

    def touch(self, entry: SandboxEntry) -> None:
        """Mark ``entry`` changed: the page redraws it."""
        self.rev += 1
        entry.rev = self.rev
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def add(self, direction: Direction, body: dict[str, Any], status: str,
            **fields: Any) -> SandboxEntry:
        """Append an entry for ``body``; a bot's message ends its replying indicator."""
        channel, user, bot = parties_of(body)
        if direction == "in":  # a webhook: the user is ``from``, we are ``to``
            user, bot = bot, user
        self._next_id += 1
        now = self.bot.clock.now() if self.bot is not None else 0.0
        entry = SandboxEntry(self._next_id, 0, direction, channel, user, bot, now, body,
                             status, **fields)
        if direction == "out":
            for earlier in self.entries:
                if earlier.typing and (earlier.channel, earlier.user) == (channel, user):
                    earlier.typing = False
                    self.touch(earlier)
        self.entries.append(entry)
        self.touch(entry)
        return entry

    def held(self, key: ConversationKey, error: OutboundSuppressed) -> SandboxEntry:
        """Show a message the outbound policy held back (opted out, window closed): a
        line in the conversation, status ``held``, with why as its decision."""
        why = "the user opted out" if isinstance(error, OptedOut) else "the window is closed"
        body = {"channel": key.channel, "to": key.user, "from": key.bot,
                "message_type": "text", "text": f"not sent: {why}"}
        return self.add("out", body, "held", decisions=[f"held back: {error}"])

    # -- decisions, from Bot.render_replies ------------------------------------------------

    def remember(self, turn: RenderedTurn) -> None:
        """Keep each rendered body's decisions until the body reaches the fake API."""
        for ref, decisions in turn.decisions_by_ref.items():
            self._decisions[ref] = list(decisions)
            self._decisions.move_to_end(ref)
        while len(self._decisions) > _MAX_DECISIONS:
            self._decisions.popitem(last=False)

    # -- the fake Messages API ---------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport answering like the Messages API (202, or 422 for violations)."""
        return _Transport(self)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Check and record one send (or update); answer as the Messages API would."""
        if request.method == "PATCH":  # mark read, typing, revoke
            return update(self, request)
        try:
            body = json.loads(request.content)
        except ValueError:
            return httpx.Response(
                422,
                json={"title": "Invalid JSON", "detail": "the sandbox got a body that is not JSON"},
            )
        if not isinstance(body, dict):
            return httpx.Response(422, json={"title": "Invalid JSON",
                                             "detail": "the body must be a JSON object"})
        check = check_body(body)
        ref = body.get("client_ref")
        decisions = self._decisions.pop(ref, None) if isinstance(ref, str) else None
        common: dict[str, Any] = {"client_ref": ref if isinstance(ref, str) else None,
                                  "decisions": decisions, "notes": check.notes}
        if not check.ok:
            self.add("out", body, "rejected", answer=422, violations=check.violations,
                     **common)
            log.warning("sandbox: refused a %s message (%s): %s", body.get("channel"),
                        "; ".join(check.violations), json.dumps(body, ensure_ascii=False))
            return invalid_params(check.violations)
        answer = {"message_uuid": str(uuid.uuid4())}
        steps = body.get("failover")
        if isinstance(steps, list) and steps:  # the API names the failover workflow too
            answer["workflow_id"] = uuid.uuid4().hex
            common["workflow"] = {"workflow_id": answer["workflow_id"], "items_number": "1",
                                  "items_total": str(1 + len(steps))}
        entry = self.add("out", body, "submitted", answer=202,
                         message_uuid=answer["message_uuid"], **common)
        log.info("sandbox: %s -> %s: %s", entry.channel, entry.user,
                 json.dumps(body, ensure_ascii=False))
        self._spawn(self._ticks, deliver(self, entry))
        return httpx.Response(202, json=answer)

    # -- status webhooks ------------------------------------------------------------------------

    def _spawn(self, tasks: set[asyncio.Task[None]], work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in the background (status webhooks need a bot and a running loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            work.close()
            return
        if self.bot is None:
            work.close()
            return
        task = loop.create_task(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def show_typing(self, entry: SandboxEntry) -> None:
        """Show the replying indicator on ``entry`` until the bot's next message there,
        or :attr:`typing_seconds`."""
        entry.typing = True
        self.touch(entry)

        async def run_out() -> None:
            await asyncio.sleep(self.typing_seconds)
            if entry.typing:
                entry.typing = False
                self.touch(entry)

        self._spawn(self._timers, run_out())

    async def settle(self) -> None:
        """Wait until every pending status webhook has been delivered."""
        while self._ticks:
            await asyncio.gather(*list(self._ticks), return_exceptions=True)

    async def stop_ticks(self) -> None:
        """Cancel the status webhooks not yet sent (the bot is stopping)."""
        tasks = [*self._ticks, *self._timers]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- webhooks into the bot ---------------------------------------------------------------

    def attach(self, app: ASGIApp, base_url: str) -> None:
        """Deliver webhooks to ``app`` (the app serving the page) at ``base_url``."""
        self.app, self.base_url = app, base_url.rstrip("/")

    def record_inbound(self, body: dict[str, Any]) -> SandboxEntry:
        """Add a webhook the page is about to deliver (before the bot can answer it)."""
        uuid_of = body.get("message_uuid")
        return self.add("in", body, "sending",
                        message_uuid=uuid_of if isinstance(uuid_of, str) else None)

    def settle_inbound(self, entry: SandboxEntry, response: httpx.Response) -> None:
        """Record how the webhook route answered."""
        entry.answer = response.status_code
        if response.status_code == 200:
            entry.status = "accepted"
        else:
            entry.status, entry.problem = "refused", detail(response)
        self.touch(entry)

    async def deliver_webhook(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST a webhook body to the bot's own route, signed when a secret is set."""
        if self.bot is None:
            raise RuntimeError("this recorder has no bot to deliver webhooks to")
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"content-type": "application/json"}
        secret = self.bot.settings.signature_secret
        if secret:
            headers["authorization"] = sign_webhook(raw, secret, now=self.bot.clock.now())
        app = self.app
        if app is None:
            if self._own_app is None:
                self._own_app = self.bot.asgi()
            app = self._own_app
        # The transport is driven directly: an httpx client would log each in-process post.
        request = httpx.Request("POST", self.base_url + path, content=raw, headers=headers)
        response = await httpx.ASGITransport(app=app).handle_async_request(request)
        await response.aread()
        return response
