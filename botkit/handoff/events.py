"""What the agent side is told: the four events of a handoff, as JSON.

Every event is one object::

    {"id": "evt_...", "type": "handoff.started", "created_at": "2024-05-01T10:00:00.000Z",
     "conversation": {"channel": "whatsapp", "user": "447700900001", "bot": "447700900000"},
     "data": {...}}

* ``handoff.started``: ``data`` = ``{"reason", "note", "since", "flow", "state"}``;
* ``message.received``: the user wrote while handed off; ``data`` = ``{"message": item}``,
  a transcript item (see :mod:`botkit.handoff.transcript`), and ``"keyword"`` (``stop``,
  ``start`` or ``help``) when botkit answered it itself: the user opted out (messages
  to them are not sent from now on), back in, or asked for help;
* ``message.status``: a delivery status of a message an agent sent; ``data`` =
  ``{"message_uuid", "client_ref", "status", "error"}``;
* ``handoff.released``: the bot has the conversation again; ``data`` = ``{"reason":
  "agent" | "hand_back" | "timeout", "state": where the bot resumed or None}``.

``id`` is stable for one happening (derived from the inbox entry behind it), so a
receiver that sees an id twice (a retry whose answer was lost) can drop the repeat.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from botkit.handoff.transcript import iso
from botkit.store.base import ConversationKey

__all__ = ["EVENT_TYPES", "EventType", "HandoffEvent", "event_id"]

EventType: TypeAlias = Literal[
    "handoff.started", "message.received", "message.status", "handoff.released"
]
EVENT_TYPES: tuple[EventType, ...] = (
    "handoff.started", "message.received", "message.status", "handoff.released"
)


def event_id(source: str, kind: str) -> str:
    """A stable event id for ``kind`` happening because of ``source`` (a dedupe key)."""
    return "evt_" + hashlib.sha256(f"{kind}\0{source}".encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class HandoffEvent:
    """One event for the agent side (see the module docstring)."""

    type: EventType
    key: ConversationKey
    id: str
    at: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "created_at": iso(self.at),
            "conversation": {
                "channel": self.key.channel, "user": self.key.user, "bot": self.key.bot
            },
            "data": self.data,
        }
