"""The sender: delivers queued replies through the Messages API, in order per conversation.

Replies are already durable (queued by the store together with the turn) when they
reach the sender, so a crash before a send only delays it: the next start sends what
is still pending. A send in flight at a crash may therefore be repeated after the
restart (at least once); its ``client_ref`` is the same both times.

Refusals the API may lift (429, 5xx, no response at all) are retried with exponential
backoff and jitter (:class:`~botkit.retry.RetryPolicy`), never sooner than a
``Retry-After`` says, until the attempts or the time budget run out; any other refusal
is final at once. Either way a final failure is recorded in the store, counted
(``send_failed_terminal``) and reported once to ``@bot.on_error``. Attempts are counted
in memory: after a restart a pending message starts a fresh budget.

A message waiting to be retried holds up the later messages of its conversation (order
is kept) but nothing else: conversations have a lane each, and only the HTTP request
itself takes one of the ``BOTKIT_CONCURRENCY`` send slots.

Possible repeats are counted, never silent: ``send_ambiguous`` when a retry follows a
failure after which the API may have accepted the message anyway (a timeout or a
dropped connection once the request was out), ``send_recovered`` for messages found
pending at start (those in flight when the last process stopped may have been sent).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final

import httpx

from botkit.context import ErrorContext
from botkit.errors import MessagesApiError
from botkit.lanes import Lanes
from botkit.metrics import log_fields
from botkit.ratelimit import LocalRateLimiter, RateLimiter
from botkit.retry import RetryPolicy
from botkit.store.base import ConversationKey, OutboundMessage

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["FALLBACK_PREFIX", "Sender"]

log = logging.getLogger("botkit")

FALLBACK_PREFIX = "fallback-"
"""client_ref prefix of replies queued by an error handler for a failed send."""

# Lanes bound how many conversations run at once; here that would let conversations
# sleeping through a backoff or the send rate starve the others, so the bound is on
# HTTP requests instead (``_slots``) and lanes are effectively unbounded. A lane is a
# task per conversation with something to send, as before.
_UNBOUNDED: Final = 1 << 30

# Transport failures raised before the request left: the API cannot have the message.
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


_ORPHAN_MARGIN = 15.0
"""Seconds beyond the retry budget before another process takes a reply over: room for
the last attempt's request timeout (10 s)."""

class Sender:
    """Sends queued messages, retrying what may succeed later; reports final refusals.

    The policy comes from ``bot.retry_policy`` or, by default, from the settings
    (``BOTKIT_SEND_ATTEMPTS``, ``BOTKIT_SEND_RETRY_BUDGET``); the rate limiter from
    ``bot.rate_limiter`` or, when ``BOTKIT_RATE`` is set, a :class:`LocalRateLimiter`.
    """

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        settings = bot.settings
        self.lanes: Lanes[ConversationKey, OutboundMessage] = Lanes(self._send, limit=_UNBOUNDED)
        self.policy: RetryPolicy = bot.retry_policy or RetryPolicy(
            max_attempts=settings.send_attempts, budget=settings.send_retry_budget
        )
        self.limiter: RateLimiter | None = bot.rate_limiter
        if self.limiter is None and settings.rate is not None:
            self.limiter = LocalRateLimiter(settings.rate, clock=bot.clock, sleep=bot.sleep)
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._waiters: dict[int, asyncio.Future[str]] = {}
        self._queued: set[int] = set()
        self.retrying = 0
        """Messages waiting out a backoff before their next attempt."""

    @property
    def pending(self) -> int:
        """Messages queued or in flight in this process, retries included."""
        return self.lanes.pending

    def submit(self, messages: list[OutboundMessage]) -> None:
        """Send ``messages`` after those already queued for their conversations."""
        for message in messages:
            if message.id in self._queued:
                continue
            self._queued.add(message.id)
            self.lanes.submit(message.key, message)

    def wait_for(self, message: OutboundMessage) -> asyncio.Future[str]:
        """A future resolved with the message_uuid once ``message`` is sent (or its error)."""
        future = self._waiters.get(message.id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiters[message.id] = future
        return future

    async def sweep(self) -> int:
        """On a shared store, queue replies another process left unsent (see :meth:`recover`).

        Run every few seconds by the running bot; 0 on a store of one process.
        """
        if not self._bot.store.shared:
            return 0
        return await self.recover()

    async def recover(self) -> int:
        """Queue the messages left unsent in the store by a process that stopped.

        On a shared store another live process may be sending (or retrying) its own
        queued messages right now; taking those would send them twice. So only messages
        queued longer ago than the retry budget (and a margin for the last attempt) are
        taken there: by then their process has either sent them, failed them for good, or
        died. This is a time bound, not a claim: a process whose backlog delays a
        message's first attempt past the budget could see it sent twice.
        """
        bot = self._bot
        pending = await bot.store.pending_outbound(limit=100_000)
        if bot.store.shared:
            cutoff = bot.clock.now() - self.policy.budget - _ORPHAN_MARGIN
            pending = [m for m in pending if m.created_at <= cutoff and m.id not in self._queued]
        bot.metrics.count("send_recovered", len(pending))
        self.submit(pending)
        return len(pending)

    async def cancel(self) -> None:
        """Stop sending now. Unsent messages stay pending in the store for the next start."""
        await self.lanes.cancel()
        self._queued.clear()
        waiters, self._waiters = self._waiters, {}
        for future in waiters.values():
            future.cancel()  # a bot.send() still waiting must not hang forever

    async def _send(self, message: OutboundMessage) -> None:
        bot = self._bot
        started = bot.clock.now()
        attempt = 0
        while True:
            attempt += 1
            try:
                message_uuid = await self._attempt(message)
                break
            except MessagesApiError as exc:
                delay = None
                if exc.retryable:
                    elapsed = bot.clock.now() - started
                    delay = self.policy.next_delay(attempt, elapsed, exc.retry_after)
                if delay is None:
                    await self._failed(message, exc, attempt)
                    return
                bot.metrics.count("send_retry")
                if _maybe_accepted(exc):
                    bot.metrics.count("send_ambiguous")
                log.info(
                    "botkit: send %s to %s failed (%s), attempt %d; retrying in %.2f s",
                    message.client_ref,
                    message.key,
                    exc,
                    attempt,
                    delay,
                    extra=log_fields(message.key, client_ref=message.client_ref),
                )
                self.retrying += 1
                try:
                    await bot.sleep(delay)
                finally:
                    self.retrying -= 1
        bot.metrics.count("sent")
        # Vonage has the message now: record it even if a shutdown cancels this task
        # meanwhile, or the next start would send it a second time.
        await asyncio.shield(bot.store.mark_sent(message.id, message_uuid, now=bot.clock.now()))
        self._finish(message, message_uuid=message_uuid)

    async def _attempt(self, message: OutboundMessage) -> str:
        bot = self._bot
        if self.limiter is not None:
            # Waiting for the rate takes no send slot: other numbers keep sending.
            await self.limiter.acquire(message.key.bot)
        async with self._slots:
            return await bot.client.send(message.body)

    async def _failed(self, message: OutboundMessage, exc: MessagesApiError, attempts: int) -> None:
        """Record a final refusal once: store, counter, log, then ``@bot.on_error``."""
        bot = self._bot
        bot.metrics.count("send_failed_terminal")
        log.warning(
            "botkit: send %s to %s failed for good after %d attempt%s: %s",
            message.client_ref,
            message.key,
            attempts,
            "" if attempts == 1 else "s",
            exc,
            extra=log_fields(message.key, client_ref=message.client_ref),
        )
        await bot.store.mark_failed(message.id, str(exc), now=bot.clock.now())
        self._finish(message, error=exc)
        if not message.client_ref.startswith(FALLBACK_PREFIX):
            ctx = ErrorContext(exc, message.key, body=message.body)
            fallback = await bot.report_error(ctx)
            if fallback:
                await bot.queue(fallback, message.key, ref_prefix=FALLBACK_PREFIX)

    def _finish(
        self, message: OutboundMessage, *, message_uuid: str = "", error: Exception | None = None
    ) -> None:
        self._queued.discard(message.id)
        future = self._waiters.pop(message.id, None)
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(message_uuid)


def _maybe_accepted(exc: MessagesApiError) -> bool:
    """True when the request may have reached the API although no answer came back."""
    return exc.status_code == 0 and not isinstance(exc.__cause__, _NOT_SENT)
