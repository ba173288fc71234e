"""Running a broadcast: recipients taken from the store, gated, rendered, sent at the rate.

One runner per campaign at a time holds the campaign's lease in the store. It takes due
recipients in chunks (each taken recipient is ``sending`` in the store before anything is
sent to it), sends them through a pool of tasks, and settles their outcomes in small
batches. A run that stops, however it stops, leaves its unsettled recipients ``sending``:
the next run puts them back (:meth:`~botkit.store.campaigns.CampaignStore.campaign_restart`)
and counts them as ``interrupted``, the only recipients that may get a message twice.

Every message passes the bot's outbound gates as ``bot.queue`` does: quiet hours
(deferred to the next allowed minute, durably), opt-outs (one read of the list per chunk)
and the customer-care window (``bot.policy``: a free-form message on WhatsApp or
Messenger goes only inside the window, or as its fallback template); then it is rendered
for its channel like any reply and sent at
``BOTKIT_RATE`` per sender number through the bot's rate limiter (shared by every
process on a Redis or PostgreSQL store), retrying 429 and 5xx answers like the sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botkit.broadcast.campaign import Campaign, CampaignError
from botkit.broadcast.recipients import RecipientsFile
from botkit.compliance.policy import Gated
from botkit.compliance.window import passes_closed, window_of
from botkit.errors import ConfigError, MessagesApiError, OptedOut, StoreError, WindowClosed
from botkit.flows.templating import render_data
from botkit.quiet_hours import recipient_zones
from botkit.replies import Reply, reply_from_data
from botkit.retry import RetryPolicy
from botkit.store.base import Conversation, ConversationKey, NewOutbound
from botkit.store.campaigns import CampaignReport, Outcome, TakenRecipient

if TYPE_CHECKING:
    from botkit.bot import Bot
    from botkit.client import MessagesClient
    from botkit.ratelimit import RateLimiter

__all__ = ["CLIENT_REF_PREFIX", "RUNNER_LEASE", "BroadcastRunner", "Progress", "campaign_of_ref"]

log = logging.getLogger("botkit")

CLIENT_REF_PREFIX = "bc:"
"""Every broadcast message's client_ref is ``bc:NAME:LINE:N``: status webhooks name it."""

_ADD_BATCH = 5000
_SETTLE_EVERY = 0.05  # seconds between settling batches: what a kill can leave in flight
_LEASE_MIN = 60.0
RUNNER_LEASE = 10.0
"""Seconds a run holds its campaign without renewing (it renews every quarter of it)."""
_IDLE_POLL = 1.0  # seconds between looks at a campaign whose recipients are in flight
_IDLE_MAX = 60.0  # the longest wait for deferred recipients before looking again


def campaign_of_ref(client_ref: str | None) -> tuple[str, int] | None:
    """``(campaign, line)`` from a broadcast message's client_ref, else None."""
    if not client_ref or not client_ref.startswith(CLIENT_REF_PREFIX):
        return None
    parts = client_ref.split(":")
    if len(parts) < 3 or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


@dataclass(slots=True)
class Progress:
    """What a run did so far (in this process), for the progress bar."""

    total: int = 0
    settled_before: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    deferred_until: float | None = None

    @property
    def done(self) -> int:
        """Recipients settled, by earlier runs and this one (deferred ones excluded)."""
        return self.settled_before + sum(v for k, v in self.counts.items() if k != "deferred")


class BroadcastRunner:
    """Sends one campaign for a bot whose store is open (the bot need not be running).

    Args:
        bot: the bot whose store, settings, flows and gates are used.
        campaign: the loaded campaign file.
        client: the Messages API client to send with.
        limiter: paces sends per sender number (None: unlimited); the bot's own
            (``bot.sender.limiter``) when it runs in this process, so they share the rate.
        chunk: recipients taken from the store at a time (default: about half a second
            of sends at the rate, 10 to 1000).
        on_progress: called after every settled batch.
    """

    def __init__(self, bot: Bot, campaign: Campaign, *, client: MessagesClient,
                 limiter: RateLimiter | None, chunk: int | None = None,
                 on_progress: Callable[[Progress], None] | None = None) -> None:
        self.bot = bot
        self.campaign = campaign
        self.client = client
        self.limiter = limiter
        rate = bot.settings.rate
        self.chunk = chunk or int(min(1000, max(10, (rate or 2000) / 2)))
        # How long a taken recipient stays this run's: longer than it can wait in the
        # queue and retry (a restart takes back what a stopped run held at once).
        self.lease = (max(_LEASE_MIN, 4 * self.chunk / (rate or 1000))
                      + bot.settings.send_retry_budget)
        self.progress = Progress()
        self._on_progress = on_progress
        self._owner = f"broadcast-{uuid.uuid4().hex[:12]}"
        self._opted: set[ConversationKey] = set()
        self._token = 0
        self._outcomes: list[Outcome] = []
        self._policy = bot.retry_policy or RetryPolicy(
            max_attempts=bot.settings.send_attempts, budget=bot.settings.send_retry_budget)
        self._quiet = bot.settings.quiet

    @property
    def _lease_key(self) -> ConversationKey:
        return ConversationKey("broadcast", self.campaign.name, "runner")

    async def prepare(self, recipients: RecipientsFile) -> bool:
        """Store the campaign and its recipients, or check a stored one is this one.

        Returns True when the campaign was new, False when it resumes.

        Raises:
            CampaignError: a campaign of this name was made from other files.
        """
        store, name = self.bot.store, self.campaign.name
        fingerprint = self.campaign.fingerprint(recipients.content)
        stored = await store.campaign_spec(name)
        if stored is not None and stored.get("fingerprint") != fingerprint:
            raise CampaignError([
                f"a campaign named {name!r} was started from other files (a changed campaign "
                "or recipients file); resume it with the same files, or give this one "
                "another name"])
        spec = {"fingerprint": fingerprint, "source": self.campaign.source}
        now = self.bot.clock.now()
        rows = recipients.recipients
        for start in range(0, len(rows), _ADD_BATCH):  # again after a crash: adds what is missing
            await store.campaign_add(name, spec, rows[start:start + _ADD_BATCH], now=now)
        return stored is None

    async def run(self) -> CampaignReport:
        """Send until every recipient is settled; returns the final report.

        A run stopped without a word (``kill -9``, a lost machine) holds the campaign for
        at most :data:`RUNNER_LEASE` seconds: the next run waits that long for it.

        Raises:
            ConfigError: another process runs this campaign now.
        """
        store, name = self.bot.store, self.campaign.name
        await self._acquire()
        try:
            back = await store.campaign_restart(name)
            if back:
                log.warning("botkit: %d recipients of %s were in flight when a run stopped; "
                            "they are sent again (each may get the message twice)", back, name)
            report = await store.campaign_report(name)
            if report is None:
                raise ConfigError(f"no campaign named {name!r} in the store")
            self.progress.total = report.total
            self.progress.settled_before = report.total - report.waiting - report.sending
            sending = asyncio.ensure_future(self._loop())
            renewing = asyncio.ensure_future(self._renew_loop())
            await asyncio.wait({sending, renewing}, return_when=asyncio.FIRST_COMPLETED)
            for task in (sending, renewing):
                task.cancel()
            await asyncio.gather(sending, renewing, return_exceptions=True)
            if not sending.cancelled() and sending.exception() is None:
                return sending.result()
            failed = sending if not sending.cancelled() and sending.exception() else renewing
            raise failed.exception() or ConfigError("the broadcast stopped")
        finally:
            with contextlib.suppress(StoreError):
                await store.release_lease(self._lease_key, self._token)

    async def _acquire(self) -> None:
        """Take the campaign's lease, waiting out one a stopped run left behind."""
        bot = self.bot
        deadline = time.monotonic() + 2 * RUNNER_LEASE
        while True:
            token = await bot.store.acquire_lease(self._lease_key, self._owner,
                                                  ttl=RUNNER_LEASE, now=bot.clock.now())
            if token is not None:
                self._token = token
                return
            if time.monotonic() > deadline:
                raise ConfigError(f"the campaign {self.campaign.name!r} is being run by "
                                  "another process")
            log.info("botkit: waiting for the campaign %s: another run holds it (a stopped "
                     "run's hold ends within %.0f s)", self.campaign.name, RUNNER_LEASE)
            await asyncio.sleep(0.5)

    async def _renew_loop(self) -> None:
        bot = self.bot
        while True:
            await asyncio.sleep(RUNNER_LEASE / 4)
            token = await bot.store.acquire_lease(self._lease_key, self._owner,
                                                  ttl=RUNNER_LEASE, now=bot.clock.now())
            if token is None:
                raise ConfigError(f"the campaign {self.campaign.name!r} was taken over by "
                                  "another process")
            self._token = token

    async def _loop(self) -> CampaignReport:
        bot, store, name = self.bot, self.bot.store, self.campaign.name
        queue: asyncio.Queue[TakenRecipient | None] = asyncio.Queue(maxsize=self.chunk)
        # Enough sends in flight to keep the rate through slow answers: a tenth of a
        # second's worth, at least BOTKIT_CONCURRENCY, at most the transport's 100
        # connections.
        width = max(bot.settings.concurrency, min(100, int((bot.settings.rate or 0) / 10)))
        workers = [asyncio.create_task(self._work(queue)) for _ in range(max(1, width))]
        settler = asyncio.create_task(self._settle_loop())
        try:
            while True:
                taken = await store.campaign_take(name, now=bot.clock.now(), lease=self.lease,
                                                  limit=self.chunk)
                # One read for the chunk: who of them opted out (on that channel and number).
                opted = await store.opted_out([self._key(t) for t in taken]) if taken else set()
                self._opted |= opted
                for recipient in taken:
                    await queue.put(recipient)
                if len(taken) == self.chunk:
                    continue
                await queue.join()  # everything taken is sent: settle it, then look again
                await self._settle()
                report = await store.campaign_report(name)
                assert report is not None
                if report.done:
                    return report
                self.progress.deferred_until = report.next_due
                if not taken:  # deferred ones wait for their minute; in-flight ones a lease
                    wait = _IDLE_POLL if report.next_due is None else (
                        report.next_due - bot.clock.now())
                    await bot.sleep(min(max(wait, 0.01), _IDLE_MAX))
        finally:
            for task in (*workers, settler):
                task.cancel()
            await asyncio.gather(*workers, settler, return_exceptions=True)
            with contextlib.suppress(StoreError):
                await self._settle()

    async def _work(self, queue: asyncio.Queue[TakenRecipient | None]) -> None:
        while True:
            taken = await queue.get()
            try:
                if taken is not None:
                    outcome = await self._one(taken)
                    self._outcomes.append(outcome)
                    self.progress.counts[outcome.state] += 1
            except StoreError as exc:  # stays in flight: sent again after the lease
                log.warning("botkit: broadcast %s, line %s: %s", self.campaign.name,
                            None if taken is None else taken.recipient.line, exc)
            except Exception as exc:  # a bug or a broken hook: that recipient fails, once
                log.exception("botkit: broadcast %s, line %s failed", self.campaign.name,
                              None if taken is None else taken.recipient.line)
                if taken is not None:
                    self._outcomes.append(Outcome(taken.recipient.line, "failed",
                                                  f"error: {type(exc).__name__}"))
                    self.progress.counts["failed"] += 1
            finally:
                queue.task_done()

    async def _settle_loop(self) -> None:
        while True:
            await asyncio.sleep(_SETTLE_EVERY)
            try:
                await self._settle()
            except StoreError as exc:  # kept for the next batch
                log.warning("botkit: cannot record broadcast outcomes now: %s", exc)

    async def _settle(self) -> None:
        if not self._outcomes:
            return
        batch, self._outcomes = self._outcomes, []
        try:
            await self.bot.store.campaign_settle(self.campaign.name, batch,
                                                 now=self.bot.clock.now())
        except BaseException:
            self._outcomes[:0] = batch
            raise
        if self._on_progress is not None:
            self._on_progress(self.progress)

    def _key(self, taken: TakenRecipient) -> ConversationKey:
        r = taken.recipient
        return ConversationKey(r.channel, r.to, self.campaign.senders[r.channel])

    async def _one(self, taken: TakenRecipient) -> Outcome:
        """Gate, render and send one recipient's message; its outcome."""
        bot, campaign = self.bot, self.campaign
        r, key = taken.recipient, self._key(taken)
        if self._quiet is not None:
            zones = recipient_zones(r.channel, r.to, bot.settings.quiet_hours_zone)
            release = self._quiet.release_at(bot.clock.now(), zones)
            if release is not None:
                bot.metrics.count("deferred")
                return Outcome(r.line, "deferred", due=release)
        opted = key in self._opted
        self._opted.discard(key)
        try:
            if campaign.flow is not None:
                if opted:  # a flow's turns pass the gate too; this spares the start
                    bot.metrics.count("opted_out")
                    return Outcome(r.line, "opted_out", "opted out")
                ref = f"{CLIENT_REF_PREFIX}{campaign.name}:{r.line}"
                # The flow's first messages carry the campaign's reference, so their
                # status webhooks count in its report like a message's.
                await bot.start_flow(r.channel, r.to, campaign.flow, state=campaign.state,
                                     data=dict(r.data), sender=key.bot, urgent=True,
                                     dedupe=ref, client_ref=ref)
                return Outcome(r.line, "sent", "flow")
            reply = reply_from_data(render_data(campaign.messages[r.channel], r.data))
            gated = await self._gate(reply, key, opted)
            if not gated.replies:
                held = gated.held[0] if gated.held else None
                if isinstance(held, OptedOut):
                    return Outcome(r.line, "opted_out", "opted out")
                return Outcome(r.line, "failed", "window closed" if isinstance(
                    held, WindowClosed) else "held back")
            ref = f"{CLIENT_REF_PREFIX}{campaign.name}:{r.line}"
            turn = bot.render_replies(gated.replies, key, ref, locale=bot.settings.locale,
                                      notes=gated.notes)
            uuids = [await self._send(message) for message in turn.outbound]
        except MessagesApiError as exc:
            return Outcome(r.line, "failed", _reason(exc))
        except (ValueError, ConfigError) as exc:  # a row the file check let through
            return Outcome(r.line, "failed", f"render: {exc}")
        return Outcome(r.line, "sent", ",".join(uuids))

    async def _gate(self, reply: Reply, key: ConversationKey, opted: bool) -> Gated:
        """The bot's outbound policy on one recipient's message (opt-outs, the window),
        counted and reported as for any send. The conversation is read only when the
        window decides: a free-form message on a channel that has one."""
        bot = self.bot
        window = window_of(key.channel)
        if not opted and window is not None and not passes_closed(window, reply):
            conversation = await bot.store.load(key)
        else:
            conversation = Conversation(key, opted_out=opted)
        gated = bot.policy.gate([reply], conversation, now=bot.clock.now())
        if gated.held or gated.notes:
            await bot.policy.settle(gated, key)
        return gated

    async def _send(self, message: NewOutbound) -> str:
        """One body through the rate limiter and the client, retried like the sender does."""
        bot, limiter = self.bot, self.limiter
        started = bot.clock.now()
        attempt = 0
        while True:
            attempt += 1
            if limiter is not None:
                await limiter.acquire(message.key.bot)
            try:
                accepted = await self.client.send_message(message.body)
                bot.metrics.count("sent")
                return accepted.message_uuid
            except MessagesApiError as exc:
                delay = None
                if exc.retryable:
                    delay = self._policy.next_delay(attempt, bot.clock.now() - started,
                                                    exc.retry_after)
                if delay is None:
                    bot.metrics.count("send_failed_terminal")
                    raise
                bot.metrics.count("send_retry")
                await bot.sleep(delay)


def _reason(exc: MessagesApiError) -> str:
    """A failure's reason as the report groups it: the status and Vonage's title."""
    title = exc.title or ("unreachable" if exc.status_code == 0 else "refused")
    return f"{exc.status_code} {title}"
