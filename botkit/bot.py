"""The Bot: a router with a runtime (settings, store, Messages API client, worker, sender)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from botkit.clock import Clock, SystemClock
from botkit.context import Context, ErrorContext
from botkit.errors import ConfigError, StoreError
from botkit.handoff.bot import HandoffMixin
from botkit.metrics import Metrics
from botkit.rendered import RenderedTurn, render_turn
from botkit.replies import Reply, as_replies
from botkit.routing import CHANNELS, Router
from botkit.settings import Settings
from botkit.store import open_store
from botkit.store.base import ConversationKey, OutboundMessage, Store
from botkit.timers import fire_due_timers

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from botkit.client import MessagesClient
    from botkit.flows.runtime import FlowRoute
    from botkit.handoff.runtime import HandoffRuntime
    from botkit.media_download import MediaDownloader
    from botkit.ratelimit import RateLimiter
    from botkit.retry import RetryPolicy, Sleeper
    from botkit.sandbox import SandboxRecorder
    from botkit.sender import Sender
    from botkit.worker import Worker

__all__ = ["Bot", "Middleware", "RenderedTurn"]

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("botkit")


Middleware = Callable[[Context, Callable[[], Awaitable[bool]]], Awaitable[bool]]
"""``async def mw(ctx, call_next) -> bool``: run code around routing; return call_next()'s value."""


class Bot(HandoffMixin, Router):
    """A bot: handlers (it is a :class:`Router`) plus everything needed to run them.

    Example:
        bot = Bot()                      # settings from the environment

        @bot.on_text()
        async def echo(ctx: Context) -> None:
            await ctx.reply(ctx.message.text or "")

        app = bot.asgi()                 # uvicorn mybot:app

    Args:
        settings: defaults to ``Settings.from_env()``.
        store: a store instance; defaults to the one ``settings.store`` names.
        transport: the httpx transport for the Messages API (tests pass
            ``httpx.MockTransport``); defaults to the sandbox recorder in sandbox mode,
            else the fast HTTP transport.
        clock: the time source for signatures and timestamps (tests pass a ``FakeClock``).
        sleep: how botkit waits (send backoff, the send rate, the shutdown grace);
            ``asyncio.sleep`` by default, a ``FakeSleeper`` on the fake clock in tests.

    Attributes:
        retry_policy: backoff for refused sends; None builds one from the settings
            (``BOTKIT_SEND_ATTEMPTS``, ``BOTKIT_SEND_RETRY_BUDGET``). Set before running.
        rate_limiter: paces sends per sender number; None uses ``BOTKIT_RATE`` (shared by
            every process on a Redis or PostgreSQL store, per process otherwise). Set
            before running.
        startup_tasks: coroutine functions run in the background once the bot takes
            webhooks: the start never waits for them, an exception is logged, and those
            still running are cancelled when the bot stops (``botkit run`` checks the
            linked External Accounts this way).
        handoff_apology: what the bot says when it takes a handed-off conversation back
            because no agent answered in time; None: the conversation's locale's words.
        media_transport: the httpx transport media downloads (``ctx.download``) go
            through; None builds one of ``BOTKIT_HTTP_TRANSPORT``. Set before running.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: Store | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Sleeper | None = None,
        name: str = "bot",
    ) -> None:
        super().__init__(name=name)
        self.settings = settings if settings is not None else Settings.from_env()
        self.store: Store = store if store is not None else open_store(self.settings.store)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.sleep: Sleeper = sleep if sleep is not None else asyncio.sleep
        self.retry_policy: RetryPolicy | None = None
        self.rate_limiter: RateLimiter | None = None
        self.startup_tasks: list[Callable[[], Awaitable[None]]] = []
        self.media_transport: httpx.AsyncBaseTransport | None = None
        self._downloader: MediaDownloader | None = None
        self.metrics = Metrics()
        self._export_queue_gauges()
        self._accepting = False
        self.middleware: list[Middleware] = []
        self.sandbox: SandboxRecorder | None = None
        # Called with each RenderedTurn: the sandbox and the test client keep the decisions.
        self.render_observers: list[Callable[[RenderedTurn], None]] = []
        self.public_url: str | None = (self.settings.public_url or "").rstrip("/") or None
        self._transport = transport
        self._client: MessagesClient | None = None
        self._worker: Worker | None = None
        self._sender: Sender | None = None
        self._running = False
        self.timer_interval = 1.0
        self.watch_flows = False
        self.actions: dict[str, Callable[[Context], Any]] = {}
        self.conditions: dict[str, Callable[[Context], Any]] = {}
        self.flows: dict[str, FlowRoute] = {}
        self._flow_files: dict[str, Path] = {}
        self.handoff_apology: str | None = None
        self._handoff: HandoffRuntime | None = None

    # -- registration -------------------------------------------------------------------

    def use(self, middleware: Middleware) -> Middleware:
        """Add inbound middleware, run around routing in the order added.

        Example:
            @bot.use
            async def timing(ctx: Context, call_next) -> bool:
                started = time.perf_counter()
                try:
                    return await call_next()
                finally:
                    log.info("turn took %.1f ms", (time.perf_counter() - started) * 1e3)
        """
        self.middleware.append(middleware)
        return middleware

    def action(self, name: str) -> Callable[[F], F]:
        """Register a Python action that YAML flows run with ``do: name``.

        Example:
            @bot.action("place_order")
            async def place_order(ctx: Context) -> None:
                await orders.create(ctx.conversation.data)
        """

        def register(callback: F) -> F:
            if name in self.actions:
                raise ConfigError(f"an action named {name!r} is already registered")
            self.actions[name] = callback
            return callback

        return register

    def condition(self, name: str) -> Callable[[F], F]:
        """Register a condition that YAML flows test with ``when: name`` (or ``validate``).

        Example:
            @bot.condition("is_open")
            def is_open(ctx: Context) -> bool:
                return 11 <= datetime.now().hour < 23
        """

        def register(callback: F) -> F:
            if name in self.conditions:
                raise ConfigError(f"a condition named {name!r} is already registered")
            self.conditions[name] = callback
            return callback

        return register

    def add_flow(self, path: str | os.PathLike[str]) -> FlowRoute:
        """Load a YAML flow and add it to routing at this point of the order.

        The file is checked at once (syntax, shape, states); the actions, conditions and
        called flows it names are checked when the bot starts, so they may be registered
        after this call.

        Raises:
            FlowError: the file does not load, with every problem and its position.
        """
        from botkit.flows import load_flow
        from botkit.flows.engine import compile_flow
        from botkit.flows.runtime import FlowRoute

        spec = load_flow(path)
        if spec.name in self.flows:
            raise ConfigError(
                f"two flows are named {spec.name!r}: {self._flow_files[spec.name]} and {path}"
            )
        route = FlowRoute(compile_flow(spec), self)
        self.flows[spec.name] = route
        self._flow_files[spec.name] = Path(path)
        self.add(route)
        return route

    def flow(self, name: str) -> FlowRoute:
        """The flow named ``name`` (its ``flow:`` key)."""
        try:
            return self.flows[name]
        except KeyError:
            known = ", ".join(self.flows) or "none"
            raise ConfigError(f"no flow named {name!r} (flows: {known})") from None

    def check_flows(self) -> None:
        """Check that every action, condition and flow the flows name exists.

        Raises:
            FlowError: with each unknown name at its position in its file.
        """
        from botkit.errors import FlowError
        from botkit.flows import load_flow

        problems = []
        for path in self._flow_files.values():
            try:
                load_flow(path, actions=self.actions, conditions=self.conditions, flows=self.flows)
            except FlowError as exc:
                problems.extend(exc.problems)
        if problems:
            raise FlowError(problems)

    def asgi(self) -> Starlette:
        """The Starlette app serving the webhooks: ``app = bot.asgi()``, ``uvicorn mybot:app``."""
        from botkit.app import create_app

        return create_app(self)

    # -- runtime ------------------------------------------------------------------------

    @property
    def client(self) -> MessagesClient:
        if self._client is None:
            raise RuntimeError("the bot is not running; use 'async with bot.running():'")
        return self._client

    @property
    def worker(self) -> Worker:
        if self._worker is None:
            raise RuntimeError("the bot is not running; use 'async with bot.running():'")
        return self._worker

    @property
    def sender(self) -> Sender:
        if self._sender is None:
            raise RuntimeError("the bot is not running; use 'async with bot.running():'")
        return self._sender

    @property
    def downloader(self) -> MediaDownloader:
        """What ``ctx.download`` downloads media with: made at the first download, closed
        when the bot stops. It sends the application's JWT where the bot has one."""
        if self._downloader is None:
            from botkit.media_download import downloader_from_settings

            self._downloader = downloader_from_settings(
                self.settings, self.client.auth, self.media_transport
            )
        return self._downloader

    @property
    def is_running(self) -> bool:
        return self._running

    @property
    def accepting(self) -> bool:
        """True while webhooks are taken: running, and not shutting down."""
        return self._running and self._accepting

    def _export_queue_gauges(self) -> None:
        def turns() -> float:
            return self._worker.lanes.pending if self._worker is not None else 0

        def sends() -> float:
            return self._sender.pending if self._sender is not None else 0

        def retrying() -> float:
            return self._sender.retrying if self._sender is not None else 0

        gauge = self.metrics.gauge
        gauge("botkit_turns_pending", "Events accepted and not processed yet, here.", turns)
        gauge("botkit_sends_pending", "Messages queued or in flight, here.", sends)
        gauge("botkit_sends_retrying", "Messages waiting out a backoff, here.", retrying)
        gauge(
            "botkit_queue_max",
            "BOTKIT_QUEUE_MAX: pending sends at which webhooks are refused.",
            lambda: self.settings.queue_max,
        )
        gauge("botkit_accepting", "1 while webhooks are accepted.", lambda: float(self.accepting))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Bot]:
        """Open the store, start the worker and sender, and recover unfinished work.

        The ASGI app's lifespan uses this; so do the test client and ``botkit run``.
        Leaving the block shuts down gracefully: webhooks are refused (503, so Vonage
        retries them later), turns and sends under way get ``BOTKIT_SHUTDOWN_GRACE``
        seconds to finish, and whatever is left is cancelled; it stays in the store
        and is picked up at the next start. Leaving it with an exception skips the grace.
        """
        from botkit.auth import auth_from_settings
        from botkit.client import MessagesClient
        from botkit.handoff.runtime import open_handoff
        from botkit.housekeeping import run_housekeeping
        from botkit.sender import Sender
        from botkit.worker import Worker

        if self._running:
            raise RuntimeError("the bot is already running")
        timers: asyncio.Task[None] | None = None
        chores: asyncio.Task[None] | None = None  # sweep and prune (botkit.housekeeping)
        background: list[asyncio.Task[None]] = []  # the startup_tasks
        self.check_flows()
        await self.store.open()
        try:
            self._client = MessagesClient(
                auth=auth_from_settings(self.settings, self.clock),
                url=self.settings.messages_url,
                transport=self._outbound_transport(),
                clock=self.clock,
            )
            self._worker, self._sender = Worker(self), Sender(self)
            self._handoff = open_handoff(self)
            self._running = True
            queued = await self._sender.recover()
            recovered = await self._worker.recover()
            if recovered or queued:
                log.info(
                    "botkit: recovered %d unfinished events, %d unsent messages", recovered, queued
                )
            timers = asyncio.get_running_loop().create_task(self._timer_loop())
            chores = asyncio.get_running_loop().create_task(run_housekeeping(self))
            self._accepting = True
            background = [asyncio.create_task(self._background(t)) for t in self.startup_tasks]
            yield self
            self._accepting = False  # refuse webhooks first: nothing new while draining
            timers.cancel()
            chores.cancel()
            if not await self._drain(self.settings.shutdown_grace):
                log.warning(
                    "botkit: the shutdown grace (%.1f s) is over; %d events and %d messages "
                    "left unfinished stay in the store for the next start",
                    self.settings.shutdown_grace,
                    self.worker.lanes.pending,
                    self.sender.pending,
                )
            await self._running_handoff().settle(self.settings.shutdown_grace)
        finally:
            self._accepting = False
            self._running = False
            if timers is not None:
                timers.cancel()
                await asyncio.gather(timers, return_exceptions=True)
            if chores is not None:
                chores.cancel()
                await asyncio.gather(chores, return_exceptions=True)
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            if self._worker is not None:
                await self._worker.lanes.cancel()
            if self._handoff is not None:
                await self._handoff.close()
            if self._sender is not None:
                await self._sender.cancel()
            if self._client is not None:
                await self._client.aclose()
            if self._downloader is not None:
                await self._downloader.aclose()
                self._downloader = None
            self._client = self._worker = self._sender = self._handoff = None
            await self.store.close()

    @staticmethod
    async def _background(task: Callable[[], Awaitable[None]]) -> None:
        try:
            await task()
        except Exception:  # a startup task must never take the bot down
            log.exception("botkit: the startup task %s failed", getattr(task, "__name__", task))

    async def fire_due_timers(self) -> int:
        """Commit every timer due now to the inbox, to be handled in conversation order.

        The running bot calls this every :attr:`timer_interval` seconds; tests with a
        ``FakeClock`` call it after moving the clock. Returns how many fired.
        """
        return await fire_due_timers(self.store, self.clock, self.worker.submit)

    async def _timer_loop(self) -> None:
        while True:
            try:
                await self.fire_due_timers()
            except StoreError as exc:
                log.warning("botkit: cannot fire timers now: %s", exc)
            await asyncio.sleep(self.timer_interval)

    async def idle(self) -> None:
        """Wait until every accepted event is processed and every queued message sent."""
        while self.worker.lanes.pending or self.sender.lanes.pending:
            await self.worker.lanes.idle()
            await self.sender.lanes.idle()

    async def _drain(self, grace: float) -> bool:
        """Wait up to ``grace`` seconds (by :attr:`sleep`) for :meth:`idle`; True if reached."""
        if not (self.worker.lanes.pending or self.sender.pending):
            return True
        idle = asyncio.ensure_future(self.idle())
        deadline = asyncio.ensure_future(self.sleep(grace))
        try:
            await asyncio.wait({idle, deadline}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (idle, deadline):
                task.cancel()
            await asyncio.gather(idle, deadline, return_exceptions=True)
        return not (self.worker.lanes.pending or self.sender.pending)

    def _outbound_transport(self) -> httpx.AsyncBaseTransport | None:
        if self._transport is not None:
            return self._transport
        if self.settings.sandbox_enabled:
            from botkit.sandbox import SandboxRecorder

            if self.sandbox is None:  # kept across restarts, with the page's history
                self.sandbox = SandboxRecorder(self)
                self.render_observers.append(self.sandbox.remember)
            log.info(
                "botkit: sandbox mode (no Vonage credentials): messages are recorded, not sent"
            )
            return self.sandbox.transport()
        from botkit.transports import make_transport

        return make_transport(self.settings.http_transport)

    # -- one turn -------------------------------------------------------------------------

    async def run_middleware(
        self, ctx: Context, *, route: Callable[[Context], Awaitable[bool]] | None = None
    ) -> bool:
        """Run middleware around routing for ``ctx``; True when a route took the event.

        ``route`` replaces the bot's routing (a handed-off conversation's turn runs the
        middleware around a route that does nothing).
        """
        routing = self.dispatch if route is None else route

        async def call(index: int) -> bool:
            if index == len(self.middleware):
                return await routing(ctx)
            return await self.middleware[index](ctx, lambda: call(index + 1))

        # Real elapsed time, not the bot's clock: this measures, it decides nothing.
        started = time.perf_counter()
        try:
            return await call(0)
        finally:
            self.metrics.observe_turn(time.perf_counter() - started)

    async def report_error(self, ctx: ErrorContext) -> list[Reply]:
        """Give ``ctx.error`` to the first matching ``on_error`` handler; returns its replies."""
        handler = self.find_error_handler(ctx.error)
        if handler is None:
            log.error("botkit: unhandled error in %s", ctx.key, exc_info=ctx.error)
            return []
        try:
            await handler.handle(ctx)
        except Exception:
            log.exception("botkit: the on_error handler itself failed for %s", ctx.key)
            return []
        return list(ctx._replies)

    def render_replies(
        self, replies: Sequence[Reply], key: ConversationKey, ref_base: str, *, locale: str
    ) -> RenderedTurn:
        """Render ``replies`` for the conversation's channel and address them to its user.

        Each body gets a ``client_ref`` of ``ref_base`` and its index, so the same inbound
        always yields the same references.
        """
        turn = render_turn(
            replies,
            key,
            ref_base,
            locale=locale,
            api_version=self.settings.api_version,
            public_url=self.public_url,
            now=self.clock.now(),
            senders=self.settings.senders if self.sandbox is None else self.sandbox.senders,
        )
        if turn.decisions:
            log.debug("botkit: %s: %s", key, "; ".join(turn.decisions))
        for observe in self.render_observers:
            observe(turn)
        return turn

    async def queue(
        self, replies: Sequence[Reply], key: ConversationKey, *, ref_prefix: str = ""
    ) -> list[OutboundMessage]:
        """Queue replies to a conversation outside a turn; returns them as queued.

        Menus sent this way are not remembered for typed answers: the conversation is not
        touched (a turn is the place for menus).
        """
        turn = self.render_replies(
            replies, key, ref_prefix + uuid.uuid4().hex[:24], locale=self.settings.locale
        )
        now = self.clock.now()
        if turn.files:
            await self.store.put_files(turn.files, now=now)
        queued = await self.store.enqueue(turn.outbound, now=now)
        self.sender.submit(queued)
        return queued

    async def send(
        self, channel: str, to: str, *messages: Reply | str | list[Reply | str], sender: str
    ) -> list[str]:
        """Send messages outside a turn (notifications, reminders) and wait for the API.

        The messages are queued durably first, then sent in order after anything already
        queued for that conversation.

        Example:
            await bot.send("sms", "447700900001", "Table ready", sender="447700900000")

        Returns:
            The message_uuid Vonage gave each message.

        Raises:
            MessagesApiError: the Messages API refused a message.
        """
        if channel not in CHANNELS:
            raise ConfigError(f"unknown channel {channel!r}; channels are {', '.join(CHANNELS)}")
        queued = await self.queue(as_replies(messages), ConversationKey(channel, to, sender))
        # Futures are created after submit, but sending only starts at the next await.
        waiters = [self.sender.wait_for(m) for m in queued]
        return [await w for w in waiters]

    async def revoke(self, message_uuid: str) -> None:
        """Take back an RCS message the user has not received yet (best effort, 24 hours).

        Needs application JWT credentials and ``VONAGE_MESSAGES_URL`` on the region where
        the RCS agent was launched (``https://api-eu.vonage.com/v1/messages``...).

        Example:
            [uuid] = await bot.send("rcs", "447700900001", "Sale ends at 6", sender=agent)
            await bot.revoke(uuid)

        Raises:
            ConfigError: the credentials or the host cannot update messages.
            MessagesApiError: Vonage refused (already delivered, too old, ...).
        """
        from botkit.message_updates import revoke

        await revoke(self.client, message_uuid)
