"""What every store keeps for human handoff: a user's history, and who is handed off.

Part of the :class:`~botkit.store.base.Store` contract (``Store`` extends
:class:`HandoffStore`), kept in its own module because it is its own concern:

* **history**: a user's messages in and out on one channel, read back for the agents'
  transcript. Nothing new is written for it: it *is* the inbox entries (what the user
  sent, the status webhooks, the agents' actions) and the outbound messages the store
  keeps anyway, found by user. So it lasts exactly as long as they do (``BOTKIT_RETENTION``,
  see :meth:`~botkit.store.base.Store.prune`) and goes with
  :meth:`~botkit.store.base.Store.forget`.
* **the handoff index**: which conversations are handed to a person now, so agents can
  list them without reading every conversation. The conversation itself
  (``meta["handoff"]``) is the truth; the index is kept beside it, written before a turn
  that starts a handoff commits and cleared after one that ends it commits, so it may
  name a conversation that is no longer handed off (a turn that failed after marking it)
  but never misses one that is. Readers load each conversation listed to check.

Every store passes the same contract suite (``tests/store/test_contract_handoff.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from botkit.store.base import ConversationKey, InboxEntry, OutboundMessage

__all__ = ["HISTORY_LIMIT", "HandoffMark", "HandoffStore", "History", "OutboundRecord"]

HISTORY_LIMIT = 200
"""How many inbox entries and outbound messages :meth:`HandoffStore.history` returns at
most by default (each)."""

OutboundStatus = Literal["pending", "sent", "failed"]


@dataclass(frozen=True, slots=True)
class OutboundRecord:
    """An outbound message with what became of it.

    Attributes:
        message: the message as queued.
        status: ``pending`` (not sent yet), ``sent`` (the Messages API took it) or
            ``failed`` (refused for good).
        message_uuid: the id the Messages API gave it, once sent.
        error: why it failed, once failed.
        finished_at: when it was sent or failed.
    """

    message: OutboundMessage
    status: OutboundStatus = "pending"
    message_uuid: str | None = None
    error: str | None = None
    finished_at: float | None = None


@dataclass(frozen=True, slots=True)
class History:
    """A user's recent inbox entries and outbound messages on one channel, oldest first.

    Every conversation of the user on that channel is included (one per bot number).
    """

    inbox: list[InboxEntry] = field(default_factory=list)
    outbox: list[OutboundRecord] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.inbox or self.outbox)


@dataclass(frozen=True, slots=True)
class HandoffMark:
    """An entry of the handoff index: a conversation marked handed off, and since when."""

    key: ConversationKey
    since: float


class HandoffStore(Protocol):
    """The store's part in human handoff (see the module docstring)."""

    async def history(self, channel: str, user: str, *, limit: int = HISTORY_LIMIT) -> History:
        """The user's newest ``limit`` inbox entries (any kind, finished or not) and newest
        ``limit`` outbound messages (any status) on ``channel``, each list oldest first."""

    async def mark_handoff(self, key: ConversationKey, *, since: float) -> None:
        """Add the conversation to the handoff index (or move its ``since``)."""

    async def unmark_handoff(self, key: ConversationKey) -> None:
        """Take the conversation off the handoff index; nothing if it is not there."""

    async def handoffs(self, *, limit: int = 1000) -> list[HandoffMark]:
        """The handoff index, the longest handed off first (ties in an order of the store's)."""
