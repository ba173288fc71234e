"""The memory store's part in human handoff: a user's history and the handoff index.

History walks the inbox and outbox dicts (a store for tests and demos); the index is a
dict of marks.
"""

from __future__ import annotations

import heapq
import itertools
from typing import TYPE_CHECKING

from botkit.store.base import ConversationKey, InboxEntry
from botkit.store.handoff import HISTORY_LIMIT, HandoffMark, History, OutboundRecord

if TYPE_CHECKING:
    from botkit.store.memory import _OutboxRow

__all__ = ["MemoryHandoff"]


class MemoryHandoff:
    """:class:`~botkit.store.handoff.HandoffStore` over the memory store's dicts."""

    _inbox_pending: dict[int, InboxEntry]
    _inbox_done: dict[int, tuple[InboxEntry, float]]
    _outbox: dict[int, _OutboxRow]

    def __init__(self) -> None:
        self._handoff_marks: dict[ConversationKey, float] = {}

    def _check_open(self) -> None:
        raise NotImplementedError  # MemoryStore's

    async def history(self, channel: str, user: str, *, limit: int = HISTORY_LIMIT) -> History:
        """The user's newest entries and messages on ``channel``, oldest first."""
        self._check_open()

        def theirs(key: ConversationKey) -> bool:
            return key.channel == channel and key.user == user

        entries = itertools.chain(
            self._inbox_pending.values(), (e for e, _ in self._inbox_done.values())
        )
        inbox = heapq.nlargest(max(limit, 0), (e for e in entries if theirs(e.key)),
                               key=lambda e: e.id)
        rows = heapq.nlargest(max(limit, 0), ((i, r) for i, r in self._outbox.items()
                                              if theirs(r.key)), key=lambda item: item[0])
        outbox = [
            OutboundRecord(row.message(i), row.status, row.message_uuid, row.error,
                           row.finished_at)
            for i, row in reversed(rows)
        ]
        return History(inbox=inbox[::-1], outbox=outbox)

    async def mark_handoff(self, key: ConversationKey, *, since: float) -> None:
        """Add the conversation to the handoff index."""
        self._check_open()
        self._handoff_marks[key] = since

    async def unmark_handoff(self, key: ConversationKey) -> None:
        """Take the conversation off the handoff index."""
        self._check_open()
        self._handoff_marks.pop(key, None)

    async def handoffs(self, *, limit: int = 1000) -> list[HandoffMark]:
        """The handoff index, the longest handed off first."""
        self._check_open()
        marks = sorted(self._handoff_marks.items(),
                       key=lambda kv: (kv[1], kv[0].channel, kv[0].user, kv[0].bot))
        return [HandoffMark(key, since) for key, since in marks[: max(limit, 0)]]

    def _forget_handoffs(self, channel: str, user: str) -> int:
        """Drop the user's marks (part of ``forget``); returns how many went."""
        gone = [k for k in self._handoff_marks if k.channel == channel and k.user == user]
        for key in gone:
            del self._handoff_marks[key]
        return len(gone)
