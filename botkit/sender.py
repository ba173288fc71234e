"""The sender: delivers queued replies through the Messages API, in order per conversation.

Replies are already durable (queued by the store together with the turn) when they
reach the sender, so a crash before a send only delays it: the next start sends what
is still pending. A send in flight at a crash may therefore be repeated after the
restart (at least once); its ``client_ref`` is the same both times.

Refusals the API may lift (429, 5xx, no response at all) are retried with exponential
backoff and jitter (:class:`~botkit.retry.RetryPolicy`), never sooner than a
``Retry-After`` says, until the attempts or the time budget run out; any other refusal
is final at once. Either way a final failure is recorded in the store, counted
(``send_failed_terminal``) and reported once to ``@bot.on_error``. Every refused attempt
is counted in the store (:meth:`~botkit.store.base.Store.count_attempt`, on the failure
path only), so after a restart or a takeover a pending message goes on from the attempts
it already had (``BOTKIT_SEND_ATTEMPTS`` holds across restarts); the time budget starts
afresh.

A message waiting to be retried holds up the later messages of its conversation (order
is kept) but nothing else: conversations have a lane each, and only the HTTP request
itself takes one of the ``BOTKIT_CONCURRENCY`` send slots.

Possible repeats are counted, never silent: ``send_ambiguous`` when a retry follows a
failure after which the API may have accepted the message anyway (a timeout or a
dropped connection once the request was out), ``send_recovered`` for messages taken over
from a process that stopped (those in flight when it stopped may have been sent).

On a shared store (Redis, PostgreSQL) every process sends the replies it queued, and keeps
a claim on them alive (:meth:`~botkit.store.base.Store.claim_outbound`, every few seconds, with
``BOTKIT_LOCK_LEASE`` to live). Once a process's claim runs out (it died, or hangs), the
others take its unsent replies over; a reply queued behind another process's pending
reply of the same conversation waits for it (:meth:`~botkit.store.base.Store.claim_earlier`),
so a conversation's replies reach the API in order whichever processes queued them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Final

import httpx

from botkit.compliance.policy import Gated
from botkit.compliance.queued import opted_out_since_queued
from botkit.context import ErrorContext
from botkit.errors import MessagesApiError, OptedOut, StoreError
from botkit.housekeeping import sweep_interval
from botkit.lanes import Lanes
from botkit.metrics import log_fields
from botkit.ratelimit import RateLimiter, rate_limiter_for
from botkit.retry import RetryPolicy, poll
from botkit.store.base import ConversationKey, OutboundMessage
from botkit.store.notices import REPLIES, notices_of

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


_CLAIM_LIMIT = 1000  # messages taken over per claim; the next claim takes more
_WAIT_FIRST = 0.02  # seconds before asking again whether earlier replies went out
_WAIT_MAX = 0.5
_FINISHED_KEPT = 10_000  # finished ids remembered (the window of a late claim is short)
# Recording a send or a final failure is retried this long (seconds) against a failing
# store, waiting 0.2 s, 0.4 s, ... at most 5 s between tries: long enough to outlast a
# database server's restart, after which an unrecorded send would be sent again.
_MARK_PATIENCE = 60.0
_MARK_FIRST = 0.2
_MARK_MAX = 5.0

class Sender:
    """Sends queued messages, retrying what may succeed later; reports final refusals.

    The policy comes from ``bot.retry_policy`` or, by default, from the settings
    (``BOTKIT_SEND_ATTEMPTS``, ``BOTKIT_SEND_RETRY_BUDGET``); the rate limiter from
    ``bot.rate_limiter`` or, when ``BOTKIT_RATE`` is set, one shared by every process on a
    Redis or PostgreSQL store (:mod:`botkit.ratelimit_shared`) or kept in this process
    (:class:`~botkit.ratelimit.LocalRateLimiter`).
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
            # Shared by every process on a Redis or PostgreSQL store; per process otherwise.
            self.limiter = rate_limiter_for(
                bot.store, settings.rate, clock=bot.clock, sleep=bot.sleep
            )
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._waiters: dict[int, asyncio.Future[str]] = {}
        self._queued: set[int] = set()
        # Ids sent or failed lately: a claim answered late must not queue them again.
        self._finished: OrderedDict[int, None] = OrderedDict()
        self._claims: asyncio.Task[None] | None = None
        self.retrying = 0
        """Messages waiting out a backoff before their next attempt."""

    @property
    def pending(self) -> int:
        """Messages queued or in flight in this process, retries included."""
        return self.lanes.pending

    def submit(self, messages: list[OutboundMessage]) -> int:
        """Send ``messages`` after those already queued for their conversations; returns
        how many were new (not queued here already, nor finished lately)."""
        queued = 0
        for message in messages:
            if message.id in self._queued or message.id in self._finished:
                continue
            self._queued.add(message.id)
            self.lanes.submit(message.key, message)
            queued += 1
        return queued

    def wait_for(self, message: OutboundMessage) -> asyncio.Future[str]:
        """A future resolved with the message_uuid once ``message`` is sent (or its error);
        ``""`` when it was withdrawn because its user opted out meanwhile."""
        future = self._waiters.get(message.id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiters[message.id] = future
        return future

    async def recover(self) -> int:
        """At start: queue the messages a stopped process left unsent; returns how many.

        On a store of one process that is every pending message: no one else sends
        them. On a shared store it is the first claim (:meth:`sweep`), which also starts
        this process's claim on what it queues; then claims go on as often as the
        housekeeping sweeps (:func:`~botkit.housekeeping.sweep_interval`) until
        :meth:`cancel`.
        """
        bot = self._bot
        if bot.store.shared:
            taken = await self.sweep()
            self._claims = asyncio.get_running_loop().create_task(self._claim_loop())
            return taken
        pending = await bot.store.pending_outbound(limit=100_000)
        bot.metrics.count("send_recovered", len(pending))
        self.submit(pending)
        return len(pending)

    async def sweep(self) -> int:
        """Renew this process's claim and queue what dead processes left unsent (shared
        store); returns how many messages were taken over. 0 on a store of one process."""
        bot = self._bot
        if not bot.store.shared:
            return 0
        ttl = bot.settings.lock_lease
        claimed = await bot.store.claim_outbound(ttl=ttl, now=bot.clock.now(), limit=_CLAIM_LIMIT)
        taken = self.submit(claimed)
        if taken:
            bot.metrics.count("send_recovered", taken)
            log.info("botkit: took over %d replies left unsent by another process", taken)
        return taken

    async def _claim_loop(self) -> None:
        # Real time, not bot.sleep: a fake sleeper moves a fake clock whenever the loop
        # idles, and claims must not make time pass.
        while True:
            await asyncio.sleep(sweep_interval(self._bot.settings.lock_lease))
            try:
                await self.sweep()
            except StoreError as exc:
                log.warning("botkit: cannot renew the claim on queued replies now: %s", exc)
            except Exception:  # claims must go on: say why and try again
                log.exception("botkit: claiming queued replies failed; trying again")

    async def cancel(self) -> None:
        """Stop sending now. Unsent messages stay pending in the store for the next start
        (on a shared store, this process's claim ends: other processes take them over)."""
        if self._claims is not None:
            self._claims.cancel()
            await asyncio.gather(self._claims, return_exceptions=True)
            self._claims = None
        await self.lanes.cancel()
        self._queued.clear()
        waiters, self._waiters = self._waiters, {}
        for future in waiters.values():
            future.cancel()  # a bot.send() still waiting must not hang forever
        if self._bot.store.shared:
            try:
                await self._bot.store.release_outbound()
            except StoreError as exc:
                log.warning("botkit: cannot end the claim on queued replies (%s); it expires", exc)

    async def _send(self, message: OutboundMessage) -> None:
        if message.id not in self._queued:
            return  # sent already, ahead of its turn (see _send_earlier)
        if message.after_others:
            await self._send_earlier(message)
        await self._deliver(message)

    async def _send_earlier(self, message: OutboundMessage) -> None:
        """Wait until the conversation's earlier replies are out; send those handed over.

        Another process queued them and, while it lives, sends them; once it is gone
        they are this process's to send, before ``message``.
        """
        bot = self._bot

        async def ask() -> list[OutboundMessage] | None:
            try:
                return await bot.store.claim_earlier(message, now=bot.clock.now())
            except StoreError as exc:
                log.warning("botkit: cannot check earlier replies of %s now: %s", message.key, exc)
                return None

        cap = min(_WAIT_MAX, bot.settings.lock_lease / 4)
        notices = notices_of(bot.store)
        if notices is None:
            earlier = await poll(ask, sleep=bot.sleep, first=_WAIT_FIRST, cap=cap)
        else:  # the store announces finished replies (PostgreSQL): ask again at once
            with notices.watch((REPLIES, message.key)) as finished:
                sleep = finished.sleeper(bot.sleep)
                earlier = await poll(ask, sleep=sleep, first=_WAIT_FIRST, cap=cap)
        for other in earlier:
            if other.id in self._finished:
                continue  # sent here already; only its record is missing (see _record)
            if other.id not in self._queued:  # taken over just now, from a stopped process
                bot.metrics.count("send_recovered")
                self._queued.add(other.id)
            await self._deliver(other)

    async def _deliver(self, message: OutboundMessage) -> None:
        bot = self._bot
        started = bot.clock.now()
        attempt = message.attempts  # refused before a restart or a takeover
        while True:
            attempt += 1
            try:
                message_uuid = await self._attempt(message)
                break
            except OptedOut as withdrawn:
                await self._withdraw(message, withdrawn)
                return
            except MessagesApiError as exc:
                await self._count_attempt(message)
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
        await asyncio.shield(self._record(message, "sent", message_uuid))
        self._finish(message, message_uuid=message_uuid)

    async def _count_attempt(self, message: OutboundMessage) -> None:
        """Store one more refused attempt; a store that fails now only loses the count (the
        send goes on: the count decides no more than a restart's remaining attempts)."""
        try:
            await self._bot.store.count_attempt(message.id)
        except StoreError as exc:
            log.warning("botkit: cannot count the refused attempt of %s now: %s",
                        message.client_ref, exc,
                        extra=log_fields(message.key, client_ref=message.client_ref))

    async def _record(self, message: OutboundMessage, outcome: str, detail: str) -> bool:
        """Store a send's outcome, retrying a store that fails for a while (a restart of
        its server); False if it could not be stored within a minute (then the message
        stays pending and is sent again after the next restart or takeover: at least
        once, counted as ``send_recovered``)."""
        bot = self._bot
        store = bot.store
        started, delay = bot.clock.now(), _MARK_FIRST
        while True:
            try:
                if outcome == "sent":
                    await store.mark_sent(message.id, detail, now=bot.clock.now())
                else:
                    await store.mark_failed(message.id, detail, now=bot.clock.now())
                return True
            except StoreError as exc:
                if bot.clock.now() - started + delay > _MARK_PATIENCE:
                    bot.metrics.count("outcome_unrecorded")
                    log.error(
                        "botkit: %s was %s but the store cannot record it (%s); it stays "
                        "pending and may be sent again later",
                        message.client_ref,
                        outcome,
                        exc,
                        extra=log_fields(message.key, client_ref=message.client_ref),
                    )
                    return False
                await bot.sleep(delay)
                delay = min(delay * 2, _MARK_MAX)

    async def _attempt(self, message: OutboundMessage) -> str:
        bot = self._bot
        if self.limiter is not None:
            # Waiting for the rate takes no send slot: other numbers keep sending.
            await self.limiter.acquire(message.key.bot)
        withdrawn = await opted_out_since_queued(bot, message)
        if withdrawn is not None:
            raise withdrawn
        async with self._slots:
            accepted = await bot.client.send_message(message.body)
        if accepted.workflow_id is not None:
            log.info("botkit: %s sent as %s with failover workflow %s", message.client_ref,
                     accepted.message_uuid, accepted.workflow_id,
                     extra=log_fields(message.key, client_ref=message.client_ref))
        return accepted.message_uuid

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
        await self._record(message, "failed", str(exc))
        self._finish(message, error=exc)
        if not message.client_ref.startswith(FALLBACK_PREFIX):
            ctx = ErrorContext(exc, message.key, body=message.body)
            fallback = await bot.report_error(ctx)
            if fallback:
                await bot.queue(fallback, message.key, ref_prefix=FALLBACK_PREFIX)

    async def _withdraw(self, message: OutboundMessage, error: OptedOut) -> None:
        """Its user opted out while it waited: record, count and report it, as the
        policy does for a message it holds back (:mod:`botkit.compliance.queued`)."""
        await self._record(message, "failed", str(error))
        self._finish(message)  # no message_uuid: bot.send leaves it out, as for any held
        await self._bot.policy.settle(Gated(held=[error]), message.key)

    def _finish(
        self, message: OutboundMessage, *, message_uuid: str = "", error: Exception | None = None
    ) -> None:
        self._queued.discard(message.id)
        self._finished[message.id] = None
        if len(self._finished) > _FINISHED_KEPT:
            self._finished.popitem(last=False)
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
