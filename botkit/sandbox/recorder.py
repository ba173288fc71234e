"""The sandbox's fake Messages API and its timeline.

With no Vonage credentials the bot sends through :class:`SandboxRecorder`'s httpx
transport instead of the network, so it runs exactly the code it runs in production. The
fake API checks each request body with botkit's strict wire models
(:func:`botkit.wire.check_body`): a body with violations is refused with 422 and
``invalid_parameters``, as Vonage refuses one; any other is accepted with 202 and a
``message_uuid``, and then, like Vonage, the sandbox sends ``delivered`` (and ``read``
where the channel has read receipts) status webhooks back through the bot's real
``/webhooks/status`` route.

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
from typing import TYPE_CHECKING, Any

import httpx

from botkit.sandbox.entries import READ_RECEIPTS, Direction, SandboxEntry, parties_of
from botkit.signature import sign_webhook
from botkit.wire import check_body

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from botkit.bot import Bot, RenderedTurn

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
        tick_delays: seconds before the ``delivered`` and the ``read`` status webhooks.
    """

    def __init__(
        self,
        bot: Bot | None = None,
        limit: int = 1000,
        *,
        tick_delays: tuple[float, float] = (0.4, 1.0),
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
        self._ticks: set[asyncio.Task[None]] = set()
        self.closing = False
        """Set when the server is stopping: live event streams end (a signal may set it)."""

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

    def _touch(self, entry: SandboxEntry) -> None:
        self.rev += 1
        entry.rev = self.rev
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def _add(self, direction: Direction, body: dict[str, Any], status: str,
             **fields: Any) -> SandboxEntry:
        channel, user, bot = parties_of(body)
        if direction == "in":  # a webhook: the user is ``from``, we are ``to``
            user, bot = bot, user
        self._next_id += 1
        now = self.bot.clock.now() if self.bot is not None else 0.0
        entry = SandboxEntry(self._next_id, 0, direction, channel, user, bot, now, body,
                             status, **fields)
        self.entries.append(entry)
        self._touch(entry)
        return entry

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
        """Check and record one send; answer as the Messages API would."""
        if request.method == "PATCH":  # revoke or mark read: accepted, nothing to draw
            log.info("sandbox: %s %s", request.url.path, request.content.decode("utf-8", "replace"))
            return httpx.Response(202)
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
            self._add("out", body, "rejected", answer=422, violations=check.violations,
                      **common)
            log.warning("sandbox: refused a %s message (%s): %s", body.get("channel"),
                        "; ".join(check.violations), json.dumps(body, ensure_ascii=False))
            return httpx.Response(422, json={
                "type": "https://developer.nexmo.com/api-errors/messages-olympus#1150",
                "title": "Invalid params",
                "detail": "The value of one or more parameters is invalid (botkit sandbox: "
                          + "; ".join(check.violations) + ")",
                "invalid_parameters": [
                    {"name": v.split(":", 1)[0], "reason": v.split(":", 1)[-1].strip()}
                    for v in check.violations
                ],
            })
        message_uuid = str(uuid.uuid4())
        entry = self._add("out", body, "submitted", answer=202, message_uuid=message_uuid,
                          **common)
        log.info("sandbox: %s -> %s: %s", entry.channel, entry.user,
                 json.dumps(body, ensure_ascii=False))
        self._start_ticks(entry)
        return httpx.Response(202, json={"message_uuid": message_uuid})

    # -- status webhooks ------------------------------------------------------------------------

    def _start_ticks(self, entry: SandboxEntry) -> None:
        if self.bot is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._tick(entry))
        self._ticks.add(task)
        task.add_done_callback(self._ticks.discard)

    async def _tick(self, entry: SandboxEntry) -> None:
        from botkit.testing import status_webhook

        assert self.bot is not None and entry.message_uuid is not None
        statuses = ("delivered", "read") if entry.channel in READ_RECEIPTS else ("delivered",)
        for status, delay in zip(statuses, self.tick_delays, strict=False):
            await asyncio.sleep(delay)
            if not self.bot.is_running:
                return
            body = status_webhook(entry.channel, entry.message_uuid, status, user=entry.user,
                                  bot=entry.bot, timestamp=self.bot.clock.now())
            if entry.client_ref:
                body["client_ref"] = entry.client_ref
            try:
                response = await self.deliver_webhook("/webhooks/status", body)
            except Exception as exc:  # the page must learn why a tick is missing
                entry.problem = f"the {status} status webhook failed: {exc}"
                self._touch(entry)
                return
            if response.status_code != 200:
                entry.problem = (f"the {status} status webhook was refused "
                                 f"({response.status_code}): {_detail(response)}")
                self._touch(entry)
                return
            entry.status = status
            entry.statuses.append(status)
            self._touch(entry)

    async def settle(self) -> None:
        """Wait until every pending status webhook has been delivered."""
        while self._ticks:
            await asyncio.gather(*list(self._ticks), return_exceptions=True)

    async def stop_ticks(self) -> None:
        """Cancel the status webhooks not yet sent (the bot is stopping)."""
        tasks = list(self._ticks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- webhooks into the bot ---------------------------------------------------------------

    def attach(self, app: ASGIApp, base_url: str) -> None:
        """Deliver webhooks to ``app`` (the app serving the page) at ``base_url``."""
        self.app, self.base_url = app, base_url.rstrip("/")

    def record_inbound(self, body: dict[str, Any]) -> SandboxEntry:
        """Add a webhook the page is about to deliver (before the bot can answer it)."""
        return self._add("in", body, "sending")

    def settle_inbound(self, entry: SandboxEntry, response: httpx.Response) -> None:
        """Record how the webhook route answered."""
        entry.answer = response.status_code
        if response.status_code == 200:
            entry.status = "accepted"
        else:
            entry.status, entry.problem = "refused", _detail(response)
        self._touch(entry)

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


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        return str(data.get("detail") or data.get("title") or data)
    return str(data)
