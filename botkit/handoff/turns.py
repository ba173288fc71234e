"""The handoff's part in a turn: who speaks while a person has the conversation.

The worker asks :meth:`HandoffTurn.take` before routing an event. While the conversation
is handed off it takes every event, and no handler or flow runs:

* a user's message, media or location: middleware sees it (a ``ctx.handed_off`` turn),
  nothing is sent (replies middleware queues are dropped and counted), and it goes to
  the agent side as ``message.received``; it is kept in the inbox, so in the transcript;
  STOP, START and HELP are answered by botkit first (:mod:`botkit.compliance.keywords`)
  and go to the agent side all the same, with the ``keyword`` (see :meth:`HandoffTurn.
  keyword`);
* an agent's message (an :class:`~botkit.events.AgentEvent`): sent to the user as the
  turn's reply, so through the same rendering, downgrade and outbox as the bot's own;
  it restarts the wait for an agent (and the first is timed) unless the outbound policy
  held it back;
* the handoff's deadline (no agent reply for ``BOTKIT_HANDOFF_TIMEOUT``) and a release
  (an agent, ``bot.hand_back``): the conversation goes back to the bot, which resumes
  where it was told (see :meth:`HandoffTurn.take`); on a timeout it apologises first.

A status webhook of a message an agent sent becomes ``message.status`` whether or not
the conversation is still handed off; so does an agent's message the outbound policy
held back (the user opted out, the window is closed: ``failed``, with why). The events
are handed to the relay only once the turn has committed
(:meth:`HandoffTurn.committed`), and the handoff index is written before a turn that
starts a handoff commits and cleared after one that ends it, so the index never misses
a handed-off conversation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from botkit.errors import ConfigError, OptedOut, StoreError
from botkit.events import AgentEvent, Event, InboundEvent, StatusEvent, TimerEvent
from botkit.handoff.events import EventType, HandoffEvent, event_id
from botkit.handoff.relay import AgentRelay
from botkit.handoff.state import (
    Handoff,
    arm_deadline,
    end_handoff,
    handoff_of,
    is_deadline,
    save,
)
from botkit.handoff.transcript import AGENT_REF, inbound_item, iso, reacted_item
from botkit.metrics import Metrics, log_fields
from botkit.replies import Reply, Text, reply_from_data
from botkit.store.base import Conversation

if TYPE_CHECKING:
    from botkit.clock import Clock
    from botkit.context import Context
    from botkit.store.base import Store

__all__ = ["HandoffTurn", "HandoffTurns"]

log = logging.getLogger("botkit")

_QUOTED = 100  # a reaction's message is looked for among the user's newest messages

Observe = Callable[["Context"], Awaitable[Any]]
"""Runs the bot's middleware around a route that does nothing."""


class HandoffTurns:
    """Makes the :class:`HandoffTurn` of each turn.

    Args:
        store: where the handoff index is kept.
        clock: the bot's clock.
        metrics: handoffs started and released, first agent replies, dropped replies.
        relay: where the events go once a turn commits.
        observe: runs the middleware for a handed-off conversation's message.
        apology: the locale's (or the bot's) words when no agent answered in time.
    """

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        metrics: Metrics,
        relay: AgentRelay,
        observe: Observe,
        apology: Callable[[str], str],
    ) -> None:
        self.store, self.clock, self.metrics, self.relay = store, clock, metrics, relay
        self.observe, self.apology = observe, apology

    def turn(self, event: Event, conversation: Conversation) -> HandoffTurn:
        """The handoff's part in the turn of ``event`` on ``conversation`` (as loaded)."""
        return HandoffTurn(self, event, conversation)


class HandoffTurn:
    """One turn's handoff work: take the event or not, then the index and the events."""

    def __init__(self, turns: HandoffTurns, event: Event, conversation: Conversation) -> None:
        self._turns = turns
        self._event = event
        self._before = handoff_of(conversation)
        self._released: str | None = None
        self._events: list[HandoffEvent] = []
        self._sent: tuple[Reply, AgentEvent] | None = None  # an agent's message this turn
        self._held = False  # ... which the outbound policy held back
        self._first_reply: float | None = None  # ... the handoff's first: after how long

    async def take(self, ctx: Context) -> bool:
        """Run the event if the handoff owns it; False lets the bot route it."""
        event, conversation = ctx.event, ctx.conversation
        handoff = handoff_of(conversation)
        if isinstance(event, StatusEvent) and (event.client_ref or "").startswith(AGENT_REF):
            self._event_of("message.status", self._status(event))
        if isinstance(event, AgentEvent):
            await self._agent(ctx, event, handoff)
            return True
        if handoff is None:
            return False
        if isinstance(event, TimerEvent):
            if is_deadline(event.timer_id):
                await self._release(ctx, handoff, "timeout", None)
            return True
        if isinstance(event, InboundEvent):
            await self._relay(ctx, event, handoff)
        return True

    def keyword(self, conversation: Conversation, keyword: str) -> None:
        """STOP, START or HELP, which botkit answered before the handoff could relay it: a
        handed-off conversation's agent side is still told (``message.received`` with
        ``keyword``), so the agent knows the user opted out (or back in)."""
        handoff, event = handoff_of(conversation), self._event
        if handoff is None or not isinstance(event, InboundEvent):
            return
        now = self._turns.clock.now()
        item = inbound_item(event, at=now)
        handoff.last = {"at": now, "from": "user", "text": item.get("text") or ""}
        save(conversation, handoff)
        self._event_of("message.received", {"message": item, "keyword": keyword})

    def held(self, errors: Sequence[Exception]) -> None:
        """The outbound policy held back some of the turn's replies (the user opted out,
        the channel's window is closed): an agent's message among them is told to the
        agent side as failed, with why."""
        if self._sent is None:
            return
        reply, event = self._sent
        for error in errors:
            if getattr(error, "reply", None) is not reply:
                continue
            self._held = True
            reason = "opted_out" if isinstance(error, OptedOut) else "window_closed"
            self._event_of("message.status", {
                "message_uuid": None, "client_ref": f"{event.message_uuid}:0",
                "status": "failed", "error": {"title": reason, "detail": str(error)},
                "agent": event.agent})

    async def before_commit(self, conversation: Conversation) -> None:
        """Index a handoff this turn started (before the commit: the index may name a
        conversation no longer handed off, never miss one that is); an agent's message
        that goes out restarts the wait for an agent."""
        self._answered(conversation)
        after = handoff_of(conversation)
        if after is not None and not _same(self._before, after):
            await self._turns.store.mark_handoff(conversation.key, since=after.since)

    async def committed(self, conversation: Conversation) -> None:
        """After the commit: clear the index of a handoff that ended, count, tell."""
        turns, before, after = self._turns, self._before, handoff_of(conversation)
        key = conversation.key
        if self._first_reply is not None:
            turns.metrics.observe_first_agent_reply(self._first_reply)
        head: list[HandoffEvent] = []
        if before is not None and not _same(before, after):
            reason = self._released or "hand_back"
            turns.metrics.handoff_released(reason)
            if after is None:
                try:
                    await turns.store.unmark_handoff(key)
                except StoreError as exc:  # a stale mark is harmless: readers check
                    log.warning("botkit: cannot clear the handoff mark of %s: %s", key, exc)
            data = {"reason": reason, "flow": conversation.flow, "state": conversation.state}
            head.append(self._new("handoff.released", data))
            log.info("botkit: %s is back with the bot (%s)", key, reason, extra=log_fields(key))
        if after is not None and not _same(before, after):
            turns.metrics.handoff_started(after.reason)
            data = {"reason": after.reason, "note": after.note, "since": iso(after.since),
                    "flow": after.flow, "state": after.state}
            head.append(self._new("handoff.started", data))
            log.info("botkit: %s handed to a person (%s)", key, after.reason,
                     extra=log_fields(key))
        events = head + self._events
        if events:
            turns.relay.submit(events)

    # -- the pieces ---------------------------------------------------------------------

    async def _relay(self, ctx: Context, event: InboundEvent, handoff: Handoff) -> None:
        """A user's message while a person has the conversation: observed, not answered."""
        turns = self._turns
        try:
            await turns.observe(ctx)
        except Exception:  # middleware's trouble must not lose the message for the agent
            log.exception("botkit: middleware failed on %s while it is handed off", ctx.key,
                          extra=log_fields(ctx.key, event.message_uuid))
        if ctx._replies:
            turns.metrics.count("handoff_reply_dropped", len(ctx._replies))
            log.info("botkit: %d replies queued for %s while a person has it were dropped",
                     len(ctx._replies), ctx.key, extra=log_fields(ctx.key, event.message_uuid))
            ctx._replies.clear()
        now = turns.clock.now()
        reacted = None
        if event.reaction is not None and event.reaction.to:  # quote what it is on
            history = await turns.store.history(event.channel, event.sender, limit=_QUOTED)
            reacted = reacted_item(history, event.reaction.to)
        item = inbound_item(event, at=now, reacted=reacted)
        handoff.last = {"at": now, "from": "user", "text": item.get("text") or f"[{event.kind}]"}
        save(ctx.conversation, handoff)
        self._event_of("message.received", {"message": item})

    async def _agent(self, ctx: Context, event: AgentEvent, handoff: Handoff | None) -> None:
        turns = self._turns
        if event.action == "release":
            if handoff is not None:
                await self._release(ctx, handoff, event.by, event.state)
            return
        reply, problem = _reply_of(event)
        if handoff is None or reply is None:
            problem = problem or "the conversation is not handed off (the bot has it)"
            turns.metrics.count("agent_action_refused")
            log.info("botkit: an agent's message to %s was not sent: %s", ctx.key, problem,
                     extra=log_fields(ctx.key))
            self._event_of("message.status", {
                "message_uuid": None, "client_ref": f"{event.message_uuid}:0",
                "status": "failed", "error": problem, "agent": event.agent})
            return
        await ctx.reply(reply)
        self._sent = (reply, event)  # it counts as the agent's answer once it passes the gate

    def _answered(self, conversation: Conversation) -> None:
        """An agent's message the outbound policy let through: the wait for an agent
        restarts, and the first one is timed (counted once the turn commits). One it held
        back (:meth:`held`) reached nobody, so it is neither."""
        handoff = handoff_of(conversation)
        if self._sent is None or self._held or handoff is None:
            return
        event, now = self._sent[1], self._turns.clock.now()
        if handoff.first_reply_at is None:
            handoff.first_reply_at = now
            self._first_reply = now - handoff.since
        handoff.agent_at = now
        text = event.reply.get("text") if event.reply else None
        handoff.last = {"at": now, "from": "agent", "text": text if isinstance(text, str)
                        else f"[{next(iter(event.reply or {}), 'message')}]"}
        save(conversation, handoff)
        arm_deadline(conversation, handoff, now)

    async def _release(
        self, ctx: Context, handoff: Handoff, reason: str, state: str | None
    ) -> None:
        """Give the conversation back to the bot and let it resume."""
        conversation = ctx.conversation
        end_handoff(conversation)
        self._released = reason
        apology = None
        if reason == "timeout":
            apology = Text(self._turns.apology(ctx.locale))
        bot = ctx.bot
        try:
            if handoff.flow is not None and handoff.state is not None and handoff.flow in bot.flows:
                route = bot.flow(handoff.flow)
                await route.after_handoff(ctx, handoff.state, target=state, apology=apology)
                return
            if apology is not None:
                await ctx.reply(apology)
            if state is not None:
                await ctx.goto(state)
        except ConfigError as exc:
            log.warning("botkit: %s is back with the bot, but cannot resume at %r: %s",
                        ctx.key, state, exc, extra=log_fields(ctx.key))
            if (conversation.flow, conversation.state) == (handoff.flow, handoff.state):
                conversation.flow = None  # never left waiting in a handoff state: start over

    def _status(self, event: StatusEvent) -> dict[str, Any]:
        return {
            "message_uuid": event.message_uuid,
            "client_ref": event.client_ref,
            "status": event.status,
            "error": None if event.error is None else event.error.model_dump(exclude_none=True),
        }

    def _new(self, kind: EventType, data: dict[str, Any]) -> HandoffEvent:
        event = self._event
        return HandoffEvent(kind, event.key, event_id(event.dedupe_key, kind),
                            self._turns.clock.now(), data)

    def _event_of(self, kind: EventType, data: dict[str, Any]) -> None:
        self._events.append(self._new(kind, data))


def _same(a: Handoff | None, b: Handoff | None) -> bool:
    """True when ``a`` and ``b`` are one handoff (or both none)."""
    if a is None or b is None:
        return a is b
    return a.since == b.since


def _reply_of(event: AgentEvent) -> tuple[Reply | None, str | None]:
    """The agent's reply, or why it cannot be sent."""
    if not event.reply:
        return None, "the message has no content"
    try:
        return reply_from_data(event.reply), None
    except ValueError as exc:
        return None, str(exc)
