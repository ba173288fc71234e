"""What the agent side can do: list the handed-off conversations, read a transcript, write
to the user, hand the conversation back.

One set of operations behind the agent HTTP API, the sandbox's agent pane, the Chatwoot
connector and :meth:`Bot.hand_back <botkit.Bot.hand_back>`. Reads come from the store;
actions are committed to the inbox as :class:`~botkit.events.AgentEvent` entries, like
webhooks: durable before they are acknowledged, handled once (a repeated action with the
same id is recognised), in the conversation's order, by whichever process holds it.

Conversations are named as the agent side sees them: a channel and a user. When a user
is handed off on several of our numbers at once, ``bot`` says which.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from botkit.events import AgentEvent, Event
from botkit.handoff.state import Handoff, handoff_of
from botkit.handoff.transcript import iso, transcript
from botkit.replies import reply_from_data
from botkit.store.base import (
    Conversation,
    ConversationKey,
    InboxEntry,
    NewInboxEntry,
    timer_of,
)

if TYPE_CHECKING:
    from botkit.clock import Clock
    from botkit.flows.runtime import FlowRoute
    from botkit.store.base import Store

__all__ = ["TRANSCRIPT_LIMIT", "Accepted", "AgentDesk", "DeskError"]

TRANSCRIPT_LIMIT = 100
"""Transcript items served by default (the newest)."""

_STALE_MARK = 300.0  # seconds: a mark older than this whose conversation is back is cleared


class DeskError(Exception):
    """An agent's request botkit refuses.

    Attributes:
        status: the HTTP status the agent API answers (404, 409, 422).
        reason: a short code (``unknown_conversation``, ``not_handed_off``, ``ambiguous``,
            ``bad_reply``, ``unknown_state``).
        detail: what is wrong, in a sentence.
    """

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail


@dataclass(frozen=True, slots=True)
class Accepted:
    """An agent's action, committed (or recognised as a repeat of one committed)."""

    event: AgentEvent
    duplicate: bool = False

    @property
    def client_ref(self) -> str:
        """The ``client_ref`` of the (first) message a ``message`` action sends."""
        return f"{self.event.message_uuid}:0"


class AgentDesk:
    """The agent side's operations on one bot's store.

    Args:
        store: the bot's store.
        clock: the bot's clock.
        submit: hands a committed inbox entry to the bot's worker.
        flows: the bot's flows by name, to check a state to resume at.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        submit: Callable[[InboxEntry, Event], object],
        flows: Mapping[str, FlowRoute],
    ) -> None:
        self._store, self._clock, self._submit, self._flows = store, clock, submit, flows

    # -- reading ------------------------------------------------------------------------

    async def handed_off(self, *, limit: int = 1000) -> list[dict[str, Any]]:
        """The conversations a person has now, the longest waiting first."""
        found = await self._handed_off(lambda key: True, limit=limit)
        return [_summary(conversation, handoff) for conversation, handoff in found]

    async def transcript(
        self, channel: str, user: str, *, limit: int = TRANSCRIPT_LIMIT
    ) -> dict[str, Any]:
        """The user's transcript on ``channel`` and their handoffs now.

        Raises:
            DeskError: 404 when botkit keeps nothing of this user on this channel.
        """
        history, handed = await asyncio.gather(
            self._store.history(channel, user, limit=max(limit, 0) * 4),
            self._handed_off(_of(channel, user)),
        )
        if not history and not handed:
            raise _unknown(channel, user)
        return {
            "channel": channel,
            "user": user,
            "handed_off": bool(handed),
            "handoffs": [_summary(c, h) for c, h in handed],
            "messages": transcript(history, limit=limit),
        }

    # -- acting -------------------------------------------------------------------------

    async def send(
        self,
        channel: str,
        user: str,
        reply: Mapping[str, Any],
        *,
        bot: str | None = None,
        agent: str | None = None,
        source: str = "api",
        action_id: str | None = None,
    ) -> Accepted:
        """Send ``reply`` (a reply as data: ``{"text": ...}``) to the user as the bot.

        Args:
            bot: our number, when the user is handed off on several.
            agent: the person's name, for the transcript's readers and the logs.
            source: where the action came from (``api``, ``chatwoot``, ``sandbox``).
            action_id: an id of the agent side's for this message (an idempotency
                key, a help desk's message id): the same id is sent once.

        Raises:
            DeskError: 422 for a reply botkit cannot build, 404 for an unknown user,
                409 when the conversation is not handed off (or ambiguous).
        """
        try:
            reply_from_data(dict(reply))
        except ValueError as exc:
            raise DeskError(422, "bad_reply", f"the reply cannot be sent: {exc}") from None
        conversation, _ = await self._one(channel, user, bot)
        return await self._commit("message", conversation.key, action_id, reply=dict(reply),
                                  agent=agent, source=source)

    async def release(
        self,
        channel: str,
        user: str,
        state: str | None = None,
        *,
        bot: str | None = None,
        by: Literal["agent", "hand_back"] = "agent",
        source: str = "api",
        action_id: str | None = None,
    ) -> Accepted:
        """Hand the conversation back to the bot, to resume at ``state`` (a state of its
        flow) or where the handoff said.

        Raises:
            DeskError: 422 for a state its flow does not have, 404 for an unknown user,
                409 when the conversation is not handed off (or ambiguous).
        """
        conversation, handoff = await self._one(channel, user, bot)
        if state is not None:
            self._check_state(conversation, handoff, state)
        return await self._commit("release", conversation.key, action_id, state=state, by=by,
                                  source=source)

    # -- the pieces ---------------------------------------------------------------------

    async def _handed_off(
        self, wanted: Callable[[ConversationKey], bool], *, limit: int = 1000
    ) -> list[tuple[Conversation, Handoff]]:
        marks = [m for m in await self._store.handoffs(limit=limit) if wanted(m.key)]
        loaded = await asyncio.gather(*(self._store.load(m.key) for m in marks))
        found = []
        now = self._clock.now()
        for mark, conversation in zip(marks, loaded, strict=True):
            handoff = handoff_of(conversation)
            if handoff is not None:
                found.append((conversation, handoff))
            elif mark.since < now - _STALE_MARK:
                # Its turn failed after marking it, or a process died before clearing it.
                await self._store.unmark_handoff(mark.key)
        return found

    async def _one(
        self, channel: str, user: str, bot: str | None
    ) -> tuple[Conversation, Handoff]:
        handed = await self._handed_off(_of(channel, user, bot))
        if len(handed) == 1:
            return handed[0]
        if len(handed) > 1:
            numbers = ", ".join(c.key.bot for c, _ in handed)
            raise DeskError(409, "ambiguous", f"{user} on {channel} is handed off on several "
                                              f"of our numbers ({numbers}); say which with bot")
        if not await self._store.history(channel, user, limit=1):
            raise _unknown(channel, user)
        raise DeskError(409, "not_handed_off", f"{user} on {channel} is not handed off: the "
                                               "bot has the conversation")

    def _check_state(self, conversation: Conversation, handoff: Handoff, state: str) -> None:
        flow = handoff.flow or conversation.flow
        route = None if flow is None else self._flows.get(flow)
        if route is None:
            raise DeskError(422, "unknown_state", f"cannot resume at {state!r}: the "
                                                  "conversation is in no flow")
        states = route.compiled.spec.states
        if state not in states:
            raise DeskError(422, "unknown_state", f"flow {flow!r} has no state {state!r} "
                                                  f"(states: {', '.join(states)})")

    async def _commit(
        self, action: Literal["message", "release"], key: ConversationKey,
        action_id: str | None, **fields: Any,
    ) -> Accepted:
        now = self._clock.now()
        event = AgentEvent.model_validate({
            "action": action, "channel": key.channel, "user": key.user, "bot": key.bot,
            "event_id": _event_id(action, key, action_id),
            "timestamp": datetime.fromtimestamp(now, UTC), **fields,
        })
        body = event.model_dump_json().encode()
        entry = NewInboxEntry(event.dedupe_key, key, "agent", body, now)
        inbox_id = await self._store.accept(entry)
        if inbox_id is None:
            return Accepted(event, duplicate=True)
        self._submit(InboxEntry(inbox_id, entry.dedupe_key, key, "agent", body, now), event)
        return Accepted(event)


def _of(
    channel: str, user: str, bot: str | None = None
) -> Callable[[ConversationKey], bool]:
    def wanted(key: ConversationKey) -> bool:
        return key.channel == channel and key.user == user and bot in (None, key.bot)

    return wanted


def _unknown(channel: str, user: str) -> DeskError:
    return DeskError(404, "unknown_conversation",
                     f"botkit keeps nothing of {user} on {channel} (no message within "
                     "BOTKIT_RETENTION)")


def _event_id(action: str, key: ConversationKey, action_id: str | None) -> str:
    """24 hex digits: random, or derived from the agent side's own id (so a repeated
    request is the same action, and handled once)."""
    if action_id is None:
        return uuid.uuid4().hex[:24]
    text = f"{action}\0{key}\0{action_id}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _summary(conversation: Conversation, handoff: Handoff) -> dict[str, Any]:
    key = conversation.key
    timer = timer_of(conversation)
    last = dict(handoff.last) if handoff.last else None
    if last is not None and isinstance(last.get("at"), int | float):
        last["at"] = iso(last["at"])
    return {
        "channel": key.channel,
        "user": key.user,
        "bot": key.bot,
        "since": iso(handoff.since),
        "reason": handoff.reason,
        "note": handoff.note,
        "flow": handoff.flow,
        "state": handoff.state,
        "agent_replied": handoff.first_reply_at is not None,
        "last_message": last,
        "deadline": None if timer is None else iso(timer[1]),
    }
