"""The Bot: a router with a runtime (settings, store, Messages API client, worker, sender).

Its parts live by concept: YAML flows and their actions in :mod:`botkit.flows.registry`,
starting and stopping in :mod:`botkit.lifecycle`, sending outside a turn in
:mod:`botkit.proactive`, handoff in :mod:`botkit.handoff.bot`; this module holds the
constructor and one turn (middleware, errors, rendering)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import httpx

from botkit.clock import Clock, SystemClock
from botkit.compliance.bot import ComplianceMixin
from botkit.context import Context, ErrorContext
from botkit.errors import OutboundSuppressed
from botkit.flows.registry import FlowRegistry
from botkit.handoff.bot import HandoffMixin
from botkit.lifecycle import Lifecycle
from botkit.metrics import Metrics
from botkit.proactive import Proactive
from botkit.proactive_flows import ProactiveFlows
from botkit.rendered import RenderedTurn, render_turn
from botkit.replies import Reply
from botkit.routing import Router
from botkit.settings import Settings
from botkit.store import open_store
from botkit.store.base import ConversationKey, Store
from botkit.template_registry.bot import TemplatesMixin

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from botkit.client import MessagesClient
    from botkit.handoff.runtime import HandoffRuntime
    from botkit.media_download import MediaDownloader
    from botkit.ratelimit import RateLimiter
    from botkit.retry import RetryPolicy, Sleeper
    from botkit.sandbox import SandboxRecorder
    from botkit.sender import Sender
    from botkit.worker import Worker

__all__ = ["Bot", "Middleware", "RenderedTurn"]

log = logging.getLogger("botkit")


Middleware = Callable[[Context, Callable[[], Awaitable[bool]]], Awaitable[bool]]
"""``async def mw(ctx, call_next) -> bool``: run code around routing; return call_next()'s value."""


class Bot(FlowRegistry, TemplatesMixin, Lifecycle, Proactive, ProactiveFlows, ComplianceMixin,
          HandoffMixin, Router):
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
        self._init_flow_registry()
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

    def asgi(self) -> Starlette:
        """The Starlette app serving the webhooks: ``app = bot.asgi()``, ``uvicorn mybot:app``."""
        from botkit.app import create_app

        return create_app(self)

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
            if isinstance(ctx.error, OutboundSuppressed):  # counted and logged already
                return []
            log.error("botkit: unhandled error in %s", ctx.key, exc_info=ctx.error)
            return []
        try:
            await handler.handle(ctx)
        except Exception:
            log.exception("botkit: the on_error handler itself failed for %s", ctx.key)
            return []
        return list(ctx._replies)

    def render_replies(
        self, replies: Sequence[Reply], key: ConversationKey, ref_base: str, *, locale: str,
        notes: Mapping[int, Sequence[str]] | None = None,
    ) -> RenderedTurn:
        """Render ``replies`` for the conversation's channel and address them to its user.

        Each body gets a ``client_ref`` of ``ref_base`` and its index, so the same inbound
        always yields the same references. ``notes`` are decisions taken before rendering
        (the outbound policy's), by reply index, shown with the renderer's own.
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
            notes=notes,
        )
        if turn.decisions:
            log.debug("botkit: %s: %s", key, "; ".join(turn.decisions))
        for observe in self.render_observers:
            observe(turn)
        return turn
