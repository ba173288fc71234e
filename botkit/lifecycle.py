"""The running bot (a mixin of :class:`botkit.Bot`): starting and stopping the store,
client, worker and sender, the timer loop, waiting for idle, and the graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, cast

import httpx

from botkit.errors import StoreError
from botkit.timers import fire_due_timers

if TYPE_CHECKING:
    from botkit.bot import Bot
    from botkit.client import MessagesClient
    from botkit.clock import Clock
    from botkit.handoff.runtime import HandoffRuntime
    from botkit.media_download import MediaDownloader
    from botkit.metrics import Metrics
    from botkit.rendered import RenderedTurn
    from botkit.retry import Sleeper
    from botkit.sandbox import SandboxRecorder
    from botkit.sender import Sender
    from botkit.settings import Settings
    from botkit.store.base import Store
    from botkit.worker import Worker

__all__ = ["Lifecycle"]

log = logging.getLogger("botkit")


class Lifecycle:
    """``running``, ``idle``, ``fire_due_timers`` and the running parts (``client``,
    ``worker``, ``sender``, ``downloader``), for :class:`botkit.Bot`."""

    settings: Settings
    store: Store
    clock: Clock
    sleep: Sleeper
    metrics: Metrics
    startup_tasks: list[Callable[[], Awaitable[None]]]
    media_transport: httpx.AsyncBaseTransport | None
    sandbox: SandboxRecorder | None
    render_observers: list[Callable[[RenderedTurn], None]]
    timer_interval: float
    _transport: httpx.AsyncBaseTransport | None
    _client: MessagesClient | None
    _worker: Worker | None
    _sender: Sender | None
    _downloader: MediaDownloader | None
    _handoff: HandoffRuntime | None
    _running: bool
    _accepting: bool

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

        bot = cast("Bot", self)
        if self._running:
            raise RuntimeError("the bot is already running")
        timers: asyncio.Task[None] | None = None
        chores: asyncio.Task[None] | None = None  # sweep and prune (botkit.housekeeping)
        background: list[asyncio.Task[None]] = []  # the startup_tasks
        bot.check_flows()
        bot.check_templates()
        await self.store.open()
        try:
            self._client = MessagesClient(
                auth=auth_from_settings(self.settings, self.clock),
                url=self.settings.messages_url,
                transport=self._outbound_transport(),
                clock=self.clock,
            )
            self._worker, self._sender = Worker(bot), Sender(bot)
            self._handoff = open_handoff(bot)
            self._running = True
            queued = await self._sender.recover()
            recovered = await self._worker.recover()
            if recovered or queued:
                log.info(
                    "botkit: recovered %d unfinished events, %d unsent messages", recovered, queued
                )
            timers = asyncio.get_running_loop().create_task(self._timer_loop())
            chores = asyncio.get_running_loop().create_task(run_housekeeping(bot))
            self._accepting = True
            background = [asyncio.create_task(self._background(t)) for t in self.startup_tasks]
            yield bot
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
            await bot._running_handoff().settle(self.settings.shutdown_grace)
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
        """Commit every timer due now to the inbox, to be handled in conversation order,
        and queue the sends quiet hours deferred until now (:mod:`botkit.deferred_sends`).

        The running bot calls this every :attr:`timer_interval` seconds; tests with a
        ``FakeClock`` call it after moving the clock. Returns how many fired or were
        released.
        """
        from botkit.deferred_sends import release_deferred

        fired = await fire_due_timers(self.store, self.clock, self.worker.submit)
        return fired + await release_deferred(self)  # type: ignore[arg-type]

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
                self.sandbox = SandboxRecorder(cast("Bot", self))
                self.render_observers.append(self.sandbox.remember)
                log.info(  # once: a restart (the page's "restart", --watch) says nothing new
                    "botkit: sandbox mode (no Vonage credentials): replies are recorded and "
                    "logged, not sent"
                )
            return self.sandbox.transport()
        from botkit.transports import make_transport

        return make_transport(self.settings.http_transport)
