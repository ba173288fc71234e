"""A handoff as the conversation keeps it: ``meta["handoff"]``, saved with every turn.

While it is there the conversation belongs to a person: its handlers and flows do not
run (see :mod:`botkit.handoff.turns`). Starting one parks the conversation's pending
timer (a flow's timeout) and puts the handoff's own deadline in the timer slot, so "no
agent reply for ``BOTKIT_HANDOFF_TIMEOUT``" fires through the durable timers like any
flow timeout; ending it puts the parked timer back (one that fell due meanwhile fires
at once). Timers of a handed-off conversation therefore wait.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from botkit.store.base import TIMER_META_KEY, Conversation, timer_of

__all__ = [
    "DEADLINE_PREFIX",
    "HANDOFF_KEY",
    "Handoff",
    "arm_deadline",
    "end_handoff",
    "handoff_of",
    "is_deadline",
    "start_handoff",
]

HANDOFF_KEY = "handoff"
"""Where a conversation keeps its handoff in ``meta``."""

DEADLINE_PREFIX = "handoff-"
"""The id of a handoff's deadline timer starts with this."""


@dataclass(slots=True)
class Handoff:
    """A conversation handed to a person.

    Attributes:
        since: when it started (seconds since the epoch).
        reason: why (``ctx.handoff(reason=...)``, a flow's ``handoff.reason``).
        note: a note for the agents, if any.
        flow: the flow whose ``handoff:`` state started it, if one did.
        state: that state.
        resume: the state of ``flow`` the bot resumes at when handed back without one.
        timeout: seconds without an agent reply before the bot takes over again (the
            state's ``timeout.after``, else ``BOTKIT_HANDOFF_TIMEOUT``); 0: never.
        parked: the conversation's timer, waiting for the end of the handoff.
        agent_at: when an agent last wrote (None: nobody has yet).
        first_reply_at: when an agent first wrote.
        last: the last message either way: ``{"at", "from" ("user"|"agent"), "text"}``.
    """

    since: float
    reason: str
    note: str | None = None
    flow: str | None = None
    state: str | None = None
    resume: str | None = None
    timeout: float = 0.0
    parked: dict[str, Any] | None = None
    agent_at: float | None = None
    first_reply_at: float | None = None
    last: dict[str, Any] | None = field(default=None)

    def to_meta(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_meta(cls, value: Any) -> Handoff | None:
        if not isinstance(value, dict) or not isinstance(value.get("since"), int | float):
            return None
        known = {k: v for k, v in value.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def handoff_of(conversation: Conversation) -> Handoff | None:
    """The conversation's handoff, or None when the bot has it."""
    return Handoff.from_meta(conversation.meta.get(HANDOFF_KEY))


def save(conversation: Conversation, handoff: Handoff) -> None:
    """Write ``handoff`` back into the conversation (saved with the turn)."""
    conversation.meta[HANDOFF_KEY] = handoff.to_meta()


def is_deadline(timer_id: str) -> bool:
    """True for the timer a handoff sets for its deadline."""
    return timer_id.startswith(DEADLINE_PREFIX)


def arm_deadline(conversation: Conversation, handoff: Handoff, now: float) -> None:
    """(Re)start the wait for an agent: the deadline is ``handoff.timeout`` from now."""
    if handoff.timeout > 0:
        due = now + handoff.timeout
        conversation.meta[TIMER_META_KEY] = {"id": DEADLINE_PREFIX + uuid.uuid4().hex, "due": due}
    else:
        conversation.meta.pop(TIMER_META_KEY, None)


def start_handoff(conversation: Conversation, handoff: Handoff, now: float) -> None:
    """Hand the conversation to a person: park its timer, start the deadline."""
    if timer_of(conversation) is not None:
        handoff.parked = dict(conversation.meta[TIMER_META_KEY])
    save(conversation, handoff)
    arm_deadline(conversation, handoff, now)


def end_handoff(conversation: Conversation) -> Handoff | None:
    """Give the conversation back to the bot: its parked timer comes back. Returns the
    handoff that ended (None if there was none)."""
    handoff = Handoff.from_meta(conversation.meta.pop(HANDOFF_KEY, None))
    if handoff is None:
        return None
    conversation.meta.pop(TIMER_META_KEY, None)
    if handoff.parked is not None:
        conversation.meta[TIMER_META_KEY] = handoff.parked
    return handoff
