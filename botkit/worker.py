"""The inbox worker: turns committed events into handler runs, one at a time per conversation.

For each inbox entry: load the conversation, run middleware and routing, render the
replies, then save the conversation, finish the entry and queue the replies in one
store step. Only then are the replies handed to the sender.

One turn at a time per conversation, in acceptance order, is kept in one of two ways:

* **A store of one process** (memory, SQLite): the in-process lanes alone. Each accepted
  entry is a job in its conversation's lane; a turn costs no store call beyond its own
  (load, commit).
* **A shared store** (Redis, PostgreSQL, :attr:`~botkit.store.base.Store.shared`): any process may
  have accepted any entry, so a lane job is a *drain* of the conversation. It takes the
  conversation's lease (waiting with a short backoff while another process holds it, or
  until the store announces its release (:mod:`botkit.store.notices`); a
  lease held by a dead or hung worker expires after ``BOTKIT_LOCK_LEASE`` seconds), then
  processes **all** the conversation's pending entries in acceptance order, whichever
  process accepted them, commits each with the lease's fencing token, and releases the
  lease. Entries submitted while a drain waits to start join it, so a burst of messages
  costs one lease, not one per message. A commit refused because the lease passed to
  another worker (:class:`~botkit.errors.LeaseLost`) stops the drain and leaves the rest
  to the new holder; one refused because its entry was finished meanwhile
  (:class:`~botkit.errors.AlreadyDone`) is skipped and counted as ``duplicate_turn``.

Either way a :class:`~botkit.errors.VersionConflict` reloads the conversation and runs
the turn again, inside botkit.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botkit import _messages
from botkit.backlog import Backlog
from botkit.compliance.policy import Gated
from botkit.context import MENU_KEY, Context, ErrorContext
from botkit.errors import AlreadyDone, LeaseLost, PayloadError, StoreError, VersionConflict
from botkit.events import (
    AgentEvent,
    ButtonAnswer,
    Event,
    InboundEvent,
    StatusEvent,
    TimerEvent,
    parse_body,
)
from botkit.failover import FailoverError
from botkit.leases import Lease, take_lease
from botkit.menu import ShownMenu
from botkit.metrics import log_fields
from botkit.options import OptionsError
from botkit.proactive_flows import TURN_REF_KEY
from botkit.recognise import recognise
from botkit.replies import Reply
from botkit.shown_elsewhere import file_menu, send_menus
from botkit.store._codec import conversation_doc, conversation_from_doc
from botkit.store.base import (
    TIMER_META_KEY,
    Conversation,
    ConversationKey,
    DrainStore,
    InboxEntry,
    timer_of,
)
from botkit.store.notices import notices_of

if TYPE_CHECKING:
    from botkit.bot import Bot
    from botkit.handoff.turns import HandoffTurn

__all__ = ["Worker", "client_ref_base"]

log = logging.getLogger("botkit")

_MAX_CONFLICTS = 5
_DRAIN_BATCH = 100  # entries per pending_for call; a drain goes on while batches are full
_SWEEP_PAGE = 500
_SWEEP_PAGES = 10  # at most this many pages per sweep: a sweep stays cheap


@dataclass(frozen=True, slots=True)
class _Job:
    """One entry to process (store of one process)."""

    entry: InboxEntry
    event: Event | None  # parsed already by the webhook route; None after a restart


@dataclass(slots=True)
class _Drain:
    """Process every pending entry of one conversation under its lease (shared store)."""

    key: ConversationKey
    # Events the webhook route parsed already, by inbox id, to skip parsing them again.
    events: dict[int, Event] = field(default_factory=dict)
    # The backlog's entries that joined this drain: they leave the backlog when it ends,
    # whichever process turned them.
    entries: list[InboxEntry] = field(default_factory=list)


def client_ref_base(event: Event) -> str:
    """A stable reference for the replies to ``event``: the same inbound, the same refs.

    It is what lets a duplicate send be recognised. v0.1 allows 40 characters, so long
    bases (status events) are hashed down.
    """
    base = event.message_uuid if not isinstance(event, StatusEvent) else event.dedupe_key
    if len(base) > 36:
        base = hashlib.sha256(base.encode()).hexdigest()[:32]
    return base


def _parse_entry(entry: InboxEntry) -> Event:
    if entry.kind in ("timer", "agent"):
        model = TimerEvent if entry.kind == "timer" else AgentEvent
        try:
            return model.model_validate_json(entry.body)
        except ValueError as exc:
            raise PayloadError(str(exc), status_code=422, reason="malformed") from exc
    return parse_body(entry.body, status=entry.kind == "status")


class Worker:
    """Processes inbox entries through the bot's routing, serially per conversation.

    Attributes:
        lanes: the per-conversation lanes; ``lanes.pending`` counts entries on a store of
            one process, and conversations waiting for or running a drain on a shared one.
        shared: whether the bot's store is shared, i.e. whether turns take leases.
        owner: this worker's name on the leases it takes (host, process id and a random
            part, so two bots in one process are two owners).
    """

    def __init__(self, bot: Bot) -> None:
        from botkit.lanes import Lanes

        self._bot = bot
        self.shared = bot.store.shared
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.lanes: Lanes[ConversationKey, _Job | _Drain] = Lanes(
            self._work, limit=bot.settings.concurrency
        )
        self._last_id = 0
        self.backlog = Backlog(queue=self._queue, read=bot.store.pending_inbox,
                               limit=bot.settings.backlog, on_spill=self._spilled)
        # Drains submitted and not started, by conversation: later entries join them.
        # An entry leaves when its drain starts, so this holds active conversations only.
        self._queued: dict[ConversationKey, _Drain] = {}
        # A store that hears of released leases (PostgreSQL) wakes a waiting drain at once.
        self._notices = notices_of(bot.store)
        self._unhandled = _messages.UnhandledLog(log)
        # A store that opens a drain in one call, and closes it with its last commit.
        self._drains = bot.store if isinstance(bot.store, DrainStore) and self.shared else None

    def submit(self, entry: InboxEntry, event: Event | None = None) -> None:
        """Queue a committed entry behind the others of its conversation, or leave it in
        the store while ``BOTKIT_BACKLOG`` entries wait already (:mod:`botkit.backlog`)."""
        self._last_id = max(self._last_id, entry.id)
        self.backlog.submit(entry, event)

    def _queue(self, entry: InboxEntry, event: Event | None) -> None:
        if not self.shared:
            self.lanes.submit(entry.key, _Job(entry, event))
            return
        drain = self._queued.get(entry.key)
        if drain is None:
            drain = self._queued[entry.key] = _Drain(entry.key)
            self.lanes.submit(entry.key, drain)
        drain.entries.append(entry)
        if event is not None:
            drain.events[entry.id] = event

    def _spilled(self, spilling: bool) -> None:
        if spilling:
            self._bot.metrics.count("backlog_full")
            log.warning("botkit: %d events wait for their turn (BOTKIT_BACKLOG); newer ones "
                        "wait in the store until the backlog halves", self.backlog.limit)
        else:
            log.info("botkit: every event waiting in the store is queued again")

    async def recover(self) -> int:
        """Queue every unfinished entry left in the store (e.g. by a process that died)."""
        count = 0
        while True:
            batch = await self._bot.store.pending_inbox(after_id=self._last_id, limit=500)
            if not batch:
                return count
            for entry in batch:
                self.submit(entry)
            count += len(batch)

    async def sweep(self) -> int:
        """Queue pending entries accepted more than a lease ago; returns how many.

        On a shared store, an entry still pending a lease after it was accepted belongs
        to a process that died or hangs: its lease has expired, so any process may take
        the conversation over. Run every few seconds by the running bot; one store call
        (rarely a few) per sweep. A store of one process has no one else to sweep up
        after: 0.
        """
        if not self.shared:
            return 0
        bot = self._bot
        cutoff = bot.clock.now() - bot.settings.lock_lease
        after, swept = 0, 0
        for _ in range(_SWEEP_PAGES):
            batch = await bot.store.pending_inbox(after_id=after, limit=_SWEEP_PAGE)
            for entry in batch:
                if entry.accepted_at > cutoff:  # ids follow acceptance: the rest is newer
                    return swept
                self.submit(entry)
                swept += 1
            if len(batch) < _SWEEP_PAGE:
                break
            after = batch[-1].id
        return swept

    async def _work(self, job: _Job | _Drain) -> None:
        if isinstance(job, _Drain):
            try:
                await self._drain(job)
            finally:
                for entry in job.entries:
                    self.backlog.done(entry)
            return
        try:  # the hot path of a store of one process: no lease, no extra frame
            await self._turn(job.entry, job.event, None)
        except AlreadyDone:
            self._duplicate(job.entry)
        finally:
            self.backlog.done(job.entry)

    async def _drain(self, drain: _Drain) -> None:
        """Process the conversation's pending entries under its lease (shared store)."""
        key = drain.key
        if self._queued.get(key) is drain:
            del self._queued[key]  # started: entries submitted from now on need a new drain
        bot = self._bot
        store, lease = bot.store, bot.settings.lock_lease
        held: Lease | None = None
        try:
            held, entries = await self._acquire(key)
            taken_at = bot.clock.now()
            while True:
                if entries is None:
                    entries = await store.pending_for(key, limit=_DRAIN_BATCH)
                full = len(entries) >= _DRAIN_BATCH
                for n, entry in enumerate(entries):
                    now = bot.clock.now()
                    if now - taken_at > lease / 2:
                        # Renewed between turns only, never during one: a handler that
                        # hangs must lose the lease, one that finishes proves we live.
                        token = await store.acquire_lease(key, self.owner, ttl=lease, now=now)
                        if token is None:
                            held = None  # another worker holds it: nothing to release
                            self._lost(key, entry)
                            return
                        held.token, taken_at = token, now
                    held.last = self._drains is not None and not full and n == len(entries) - 1
                    if not await self._process(entry, drain.events.pop(entry.id, None), held):
                        held = None
                        return
                if not full:
                    return
                entries = None
        except StoreError as exc:
            # The entries stay pending; the sweep hands them out again after the lease.
            log.warning("botkit: cannot process %s now: %s", key, exc, extra=log_fields(key))
        finally:
            if held is not None and not held.released:
                try:
                    await store.release_lease(key, held.token)
                except StoreError as exc:
                    log.warning("botkit: cannot release the lease on %s (%s); it expires", key, exc)

    async def _acquire(self, key: ConversationKey) -> tuple[Lease, list[InboxEntry] | None]:
        return await take_lease(self._bot, key, self.owner, drains=self._drains,
                                notices=self._notices, limit=_DRAIN_BATCH)

    def _lost(self, key: ConversationKey, entry: InboxEntry) -> None:
        self._bot.metrics.count("lease_lost")
        log.warning(
            "botkit: the lease on %s passed to another worker before inbox entry %s was "
            "committed; its write was refused and the new holder goes on",
            key,
            entry.id,
            extra=log_fields(key),
        )

    async def _process(self, entry: InboxEntry, event: Event | None, held: Lease) -> bool:
        """Run one entry's turn and commit it under the lease; False when the lease was lost."""
        try:
            await self._turn(entry, event, held)
        except AlreadyDone:
            held.known = None  # someone else wrote meanwhile: load afresh
            self._duplicate(entry)
        except LeaseLost:
            self._lost(entry.key, entry)
            return False
        return True

    def _duplicate(self, entry: InboxEntry) -> None:
        # Finished by another run of this turn (another process, or a retry): its commit
        # stands, and this one must not repeat it.
        self._bot.metrics.count("duplicate_turn")
        log.info(
            "botkit: inbox entry %s of %s was finished by another run; not committed twice",
            entry.id,
            entry.key,
            extra=log_fields(entry.key),
        )

    async def _turn(self, entry: InboxEntry, event: Event | None, held: Lease | None) -> None:
        """Run one entry's turn and commit it (fenced by ``held``'s token, if given).

        Raises:
            AlreadyDone: the entry was finished by another run of this turn.
            LeaseLost: ``held`` is no longer the conversation's lease.
        """
        bot = self._bot
        started = time.perf_counter()
        fence = None if held is None else held.token
        if entry.kind == "menu":  # a menu a failover step shows here (botkit.shown_elsewhere)
            await self._finish_unchanged(entry, held, change=lambda c: file_menu(c, entry.body))
            return
        if event is None:
            try:
                event = _parse_entry(entry)
            except PayloadError as exc:
                # Only validated bodies are committed, so this means the parser changed
                # between versions; finish the entry rather than retry it forever.
                log.error("botkit: inbox entry %s no longer parses (%s); dropped", entry.id, exc)
                bot.metrics.count("inbox_unparsable")
                await self._finish_unchanged(entry, held)
                return
        rules = bot.policy.turn(event)  # STOP, START, HELP; the window; the gate
        for _ in range(_MAX_CONFLICTS):
            if held is not None and held.known is not None:
                conversation, held.known = held.known, None
            else:
                conversation = await bot.store.load(entry.key)
            if isinstance(event, TimerEvent):
                if timer_of(conversation) != (event.timer_id, event.due):
                    # Replaced or cancelled after it was committed: nothing to do.
                    await self._finish_unchanged(entry, held)
                    return
                conversation.meta.pop(TIMER_META_KEY, None)
            locale = conversation.locale or bot.settings.locale
            keyword = await rules.keyword(conversation)  # before all else, handoff's relay too
            handoff = bot.handoffs.turn(event, conversation)
            if keyword is None:  # the policy gates the replies; a keyword's answer is exempt
                answered = self._recognise(event, conversation, locale)
                replies, conversation = await self._run(answered, conversation, handoff)
                gated = await rules.gate(replies, conversation)
                handoff.held(gated.held)  # an agent's message held back: tell the agent side
            else:
                gated = Gated(keyword.replies)
                handoff.keyword(conversation, keyword.keyword)  # the agent side hears of it
            given_ref = conversation.meta.pop(TURN_REF_KEY, None)  # a broadcast's flow start
            ref = given_ref if isinstance(given_ref, str) else client_ref_base(event)
            try:
                turn = bot.render_replies(gated.replies, entry.key, ref, locale=locale,
                                          notes=gated.notes)
            except (OptionsError, FailoverError) as exc:
                # A reply the channel refuses: report it, send the fallback, keep the rest.
                bot.metrics.count("render_error")
                fallback = await bot.report_error(ErrorContext(exc, entry.key, event=event))
                gated = await rules.gate(fallback, conversation)
                turn = bot.render_replies(gated.replies, entry.key, ref, locale=locale,
                                          notes=gated.notes)
            if turn.shows_buttons:
                if turn.menu is None:
                    conversation.meta.pop(MENU_KEY, None)
                else:
                    conversation.meta[MENU_KEY] = turn.menu.to_dict()
            now = bot.clock.now()
            if turn.files:
                await bot.store.put_files(turn.files, now=now)
            await handoff.before_commit(conversation)
            # Encoded right before the store encodes it (no await between): the same doc.
            doc = None if held is None else conversation_doc(conversation)
            try:
                if held is not None and held.last and self._drains is not None:
                    committed = await self._drains.complete_turn(
                        entry.id, conversation, turn.outbound, now=now, fence=fence,
                        release=True,
                    )
                    held.released = committed.released
                else:
                    committed = await bot.store.complete_turn(
                        entry.id, conversation, turn.outbound, now=now, fence=fence
                    )
            except VersionConflict:
                bot.metrics.count("version_conflict")
                continue
            if held is not None and doc is not None:
                held.known = conversation_from_doc(entry.key, committed.version, doc)
                held.known.opted_out = conversation.opted_out  # not in the doc: the list's
            bot.metrics.count("turns")
            bot.sender.submit(committed.outbound)
            # The one line per turn that replaces an HTTP access log (off by default).
            log.log(logging.INFO if isinstance(event, InboundEvent) else logging.DEBUG,
                    "botkit: %s %s -> %d message%s in %.1f ms", entry.key, event.kind,
                    len(committed.outbound), "" if len(committed.outbound) == 1 else "s",
                    (time.perf_counter() - started) * 1000, extra=log_fields(entry.key))
            if turn.failover_menus:
                await send_menus(bot.store, turn.failover_menus, ref, self.submit, now=now)
            await handoff.committed(conversation)
            return
        log.error("botkit: gave up on %s after %d version conflicts", entry.key, _MAX_CONFLICTS)

    async def _finish_unchanged(
        self, entry: InboxEntry, held: Lease | None,
        change: Callable[[Conversation], bool] | None = None,
    ) -> None:
        """Finish the entry without running a turn: the conversation stays as it is, but
        for what ``change`` (if given) does to it."""
        bot = self._bot
        fence = None
        if held is not None:
            fence, held.known = held.token, None  # this commit moves the version on
        for _ in range(_MAX_CONFLICTS):
            conversation = await bot.store.load(entry.key)
            if change is not None:
                change(conversation)
            try:
                await bot.store.complete_turn(
                    entry.id, conversation, [], now=bot.clock.now(), fence=fence
                )
            except VersionConflict:
                bot.metrics.count("version_conflict")
                continue
            return
        log.error("botkit: gave up on %s after %d version conflicts", entry.key, _MAX_CONFLICTS)

    def _recognise(self, event: Event, conversation: Conversation, locale: str) -> Event:
        """Turn a typed answer to the pending text menu into the button event a tap gives."""
        if not isinstance(event, InboundEvent) or event.kind != "text" or not event.text:
            return event
        stored = conversation.meta.get(MENU_KEY)
        if not isinstance(stored, dict):
            return event
        menu = ShownMenu.from_dict(stored)
        now = self._bot.clock.now()
        if menu.expired(now):
            conversation.meta.pop(MENU_KEY, None)
            return event
        choice = recognise(event.text, menu, locale=locale, now=now)
        if choice is None:
            return event
        answer = ButtonAnswer(payload=choice.payload, title=choice.title, via="text")
        return event.model_copy(update={"kind": "button", "button": answer})

    async def _run(
        self, event: Event, conversation: Conversation, handoff: HandoffTurn
    ) -> tuple[list[Reply], Conversation]:
        bot = self._bot
        ctx = Context(event, conversation, bot)
        try:
            if await handoff.take(ctx):  # a person has the conversation, or it is theirs
                return ctx.replies, conversation
            if bot.settings.typing_after is not None:  # the bot answers: it may be typing
                ctx.show_typing_after(bot.settings.typing_after)
            handled = await bot.run_middleware(ctx)
        except Exception as exc:
            # A handler's exception is deterministic: bouncing it to Vonage would only repeat
            # it. Report it once, keep the conversation as it was, send any fallback reply.
            bot.metrics.count("handler_error")
            fallback = await bot.report_error(ErrorContext(exc, conversation.key, event=event))
            return fallback, await bot.store.load(conversation.key)
        finally:
            await ctx.end_turn()  # before the replies go out: no "typing..." after them
        if not handled:
            bot.metrics.count("unhandled")
            self._unhandled.note(event)
        return ctx.replies, conversation
