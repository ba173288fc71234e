"""What every store keeps for opt-out compliance: the users who said STOP, per number.

Part of the :class:`~botkit.store.base.Store` contract (``Store`` extends
:class:`OptOutStore`). One record per conversation key (channel, user, our number): a
user who texted STOP to one of our numbers on SMS hears nothing more from that number on
that channel, and nothing is implied for the others.

The list is its own table (key, set, hash) beside the conversations, so that:

* it is never lost with a conversation: :meth:`~botkit.store.base.Store.forget` deletes
  everything else about the user and keeps the opt-out itself, a record the law asks for;
* it costs a turn nothing: :meth:`~botkit.store.base.Store.load` reads it in the same
  statement or round trip as the conversation and sets
  :attr:`~botkit.store.base.Conversation.opted_out`;
* it can be listed and exchanged (``botkit optouts export|import FILE``).

Every store passes the same contract suite (``tests/store/test_contract_optouts.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from botkit.store.base import ConversationKey

__all__ = ["OptOut", "OptOutStore"]


@dataclass(frozen=True, slots=True)
class OptOut:
    """One user opted out of one of our numbers on one channel.

    Attributes:
        key: the channel, the user and our number.
        at: when (Unix seconds).
        via: how: the word the user sent (``STOP``), ``import``, or what the caller said.
    """

    key: ConversationKey
    at: float
    via: str


class OptOutStore(Protocol):
    """The opt-out list: written on STOP and START, read with every conversation."""

    async def opt_out(self, key: ConversationKey, *, at: float, via: str) -> bool:
        """Put the conversation's user on the list; True when they were not on it.

        A user already on the list keeps their first record (time and word).
        """

    async def opt_in(self, key: ConversationKey) -> bool:
        """Take the user off the list; True when they were on it."""

    async def opted_out(self, keys: Sequence[ConversationKey]) -> set[ConversationKey]:
        """Which of ``keys`` are on the list: one read, however many keys (broadcasts)."""

    async def opted_out_at(self, keys: Sequence[ConversationKey]) -> dict[ConversationKey, float]:
        """When each of ``keys`` on the list opted out (:attr:`OptOut.at`); one read.

        The sender asks it for a message that waited in the queue: a user who opted out
        after the message was queued must not get it.
        """

    async def opt_outs(
        self, *, after: ConversationKey | None = None, limit: int = 1000
    ) -> list[OptOut]:
        """The list in key order (channel, user, number), from just after ``after``."""
