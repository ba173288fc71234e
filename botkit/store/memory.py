"""A store in plain dicts: for tests, demos and single-process bots that may forget.

``MemoryStore`` is the reference implementation of the :class:`~botkit.store.base.Store`
contract. It keeps conversations and outbound bodies as JSON text, exactly like the
SQLite store, so both accept and refuse the same data and hand back the same values
(tuples come back as lists, every read is a fresh copy).

No method awaits inside its critical section, so on one event loop every method is
atomic without locks.

The JSON helpers in :mod:`botkit.store._codec` are shared with :mod:`botkit.store.sqlite`,
which is what keeps the two encodings identical.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from botkit.errors import StoreError
from botkit.store._codec import (
    conversation_doc,
    conversation_from_doc,
    decode_json,
    encode_bodies,
    version_conflict,
)
from botkit.store.base import (
    Committed,
    Conversation,
    ConversationKey,
    DueTimer,
    InboxEntry,
    NewInboxEntry,
    NewOutbound,
    OutboundMessage,
    timer_of,
)

if TYPE_CHECKING:
    from botkit.store.base import Store

__all__ = ["MemoryStore"]

OutboundStatus = Literal["pending", "sent", "failed"]


@dataclass(slots=True)
class _OutboxRow:
    """An outbound message as the store holds it (body as JSON text)."""

    key: ConversationKey
    body: str
    client_ref: str
    created_at: float
    attempts: int = 0
    status: OutboundStatus = "pending"
    message_uuid: str | None = None
    error: str | None = None
    finished_at: float | None = None

    def message(self, outbound_id: int) -> OutboundMessage:
        return OutboundMessage(
            id=outbound_id,
            key=self.key,
            body=decode_json(self.body),
            client_ref=self.client_ref,
            created_at=self.created_at,
            attempts=self.attempts,
        )


class MemoryStore:
    """Everything in process memory; gone when the process ends.

    Data survives ``close()`` followed by ``open()`` on the same instance, mirroring a
    file-backed store reopened on the same file. Like every store, methods other than
    ``open()`` and ``close()`` raise :class:`StoreError` until ``open()`` was awaited.
    """

    def __init__(self) -> None:
        self._open = False
        # conversations hold (version, JSON doc): decoding on every load is what makes
        # each loaded Conversation an independent copy.
        self._conversations: dict[ConversationKey, tuple[int, str]] = {}
        # Dedupe keys live apart from inbox rows: finished rows are pruned sooner than
        # keys, which must outlive Vonage's redelivery window.
        self._dedupe: dict[str, float] = {}
        # Dicts keep insertion order and ids are handed out increasingly, so iterating
        # these is iterating in id order.
        self._inbox_pending: dict[int, InboxEntry] = {}
        self._inbox_done: dict[int, tuple[InboxEntry, float]] = {}
        self._outbox: dict[int, _OutboxRow] = {}
        self._outbox_pending: dict[int, _OutboxRow] = {}
        self._files: dict[str, tuple[str, bytes]] = {}
        self._timers: dict[ConversationKey, tuple[str, float]] = {}
        self._inbox_ids = itertools.count(1)
        self._outbox_ids = itertools.count(1)

    async def open(self) -> None:
        """Mark the store usable. Idempotent."""
        self._open = True

    async def close(self) -> None:
        """Mark the store closed; the data stays for a later ``open()``. Safe to repeat."""
        self._open = False

    def _check_open(self) -> None:
        if not self._open:
            raise StoreError("MemoryStore is not open; call 'await store.open()' first")

    async def accept(self, entry: NewInboxEntry) -> int | None:
        """Commit the entry and its dedupe key; ``None`` for a dedupe key seen before."""
        self._check_open()
        if entry.dedupe_key in self._dedupe:
            return None
        inbox_id = next(self._inbox_ids)
        self._dedupe[entry.dedupe_key] = entry.accepted_at
        self._inbox_pending[inbox_id] = InboxEntry(
            id=inbox_id,
            dedupe_key=entry.dedupe_key,
            key=entry.key,
            kind=entry.kind,
            body=entry.body,
            accepted_at=entry.accepted_at,
        )
        return inbox_id

    async def pending_inbox(self, *, after_id: int = 0, limit: int = 1000) -> list[InboxEntry]:
        """Unfinished inbox entries with ``id > after_id``, in acceptance order."""
        self._check_open()
        # InboxEntry is frozen and its body is bytes, so sharing the objects is safe.
        later = (e for i, e in self._inbox_pending.items() if i > after_id)
        return list(itertools.islice(later, max(limit, 0)))

    async def load(self, key: ConversationKey) -> Conversation:
        """The stored conversation (a fresh copy), or a new one at version 0."""
        self._check_open()
        stored = self._conversations.get(key)
        if stored is None:
            return Conversation(key)
        return conversation_from_doc(key, *stored)

    async def complete_turn(
        self,
        inbox_id: int | None,
        conversation: Conversation,
        outbound: Sequence[NewOutbound],
        *,
        now: float,
    ) -> Committed:
        """Save the conversation, finish the inbox entry and queue the replies, atomically.

        Finishing an inbox id that is unknown or already finished is a no-op.

        Raises:
            VersionConflict: the stored version is not ``conversation.version``; nothing
                was written.
            StoreError: the conversation or a body is not JSON-serialisable.
        """
        self._check_open()
        # Encode everything before touching state so a bad value leaves nothing behind.
        doc = conversation_doc(conversation)
        bodies = encode_bodies(outbound)
        key = conversation.key
        stored_version = self._conversations.get(key, (0, ""))[0]
        if stored_version != conversation.version:
            raise version_conflict(key, stored_version, conversation.version)
        version = stored_version + 1
        self._conversations[key] = (version, doc)
        timer = timer_of(conversation)
        if timer is None:
            self._timers.pop(key, None)
        else:
            self._timers[key] = timer
        if inbox_id is not None:
            entry = self._inbox_pending.pop(inbox_id, None)
            if entry is not None:
                self._inbox_done[inbox_id] = (entry, now)
        return Committed(version=version, outbound=self._queue(outbound, bodies, now))

    async def enqueue(
        self, outbound: Sequence[NewOutbound], *, now: float
    ) -> list[OutboundMessage]:
        """Queue messages sent outside a turn (notifications)."""
        self._check_open()
        bodies = encode_bodies(outbound)
        return self._queue(outbound, bodies, now)

    def _queue(
        self, outbound: Sequence[NewOutbound], bodies: list[str], now: float
    ) -> list[OutboundMessage]:
        queued = []
        for message, body in zip(outbound, bodies, strict=True):
            outbound_id = next(self._outbox_ids)
            row = _OutboxRow(message.key, body, message.client_ref, now)
            self._outbox[outbound_id] = self._outbox_pending[outbound_id] = row
            queued.append(row.message(outbound_id))
        return queued

    async def pending_outbound(self, *, limit: int = 1000) -> list[OutboundMessage]:
        """Queued messages not yet sent or failed, in queue order."""
        self._check_open()
        rows = itertools.islice(self._outbox_pending.items(), max(limit, 0))
        return [row.message(outbound_id) for outbound_id, row in rows]

    async def mark_sent(self, outbound_id: int, message_uuid: str, *, now: float) -> None:
        """Record the Messages API's acceptance. Only a pending message changes."""
        self._check_open()
        row = self._outbox_pending.pop(outbound_id, None)
        if row is not None:
            row.status, row.message_uuid, row.finished_at = "sent", message_uuid, now

    async def mark_failed(self, outbound_id: int, error: str, *, now: float) -> None:
        """Record a terminal refusal. Only a pending message changes."""
        self._check_open()
        row = self._outbox_pending.pop(outbound_id, None)
        if row is not None:
            row.status, row.error, row.finished_at = "failed", error, now

    async def due_timers(self, *, now: float, limit: int = 1000) -> list[DueTimer]:
        """Timers due at ``now`` or earlier, the earliest first."""
        self._check_open()
        due = sorted(
            (at, str(key), key, timer_id)
            for key, (timer_id, at) in self._timers.items()
            if at <= now
        )
        return [DueTimer(key, timer_id, at) for at, _, key, timer_id in due[: max(limit, 0)]]

    async def put_files(self, files: Mapping[str, tuple[str, bytes]], *, now: float) -> None:
        """Keep files botkit serves (MMS vCards)."""
        self._check_open()
        self._files.update({k: (media, bytes(content)) for k, (media, content) in files.items()})

    async def get_file(self, file_id: str) -> tuple[str, bytes] | None:
        """A kept file as ``(media_type, content)``, or None."""
        self._check_open()
        return self._files.get(file_id)

    async def health(self) -> dict[str, Any]:
        """``{"ok": True, "store": "memory", "inbox_pending": n, "outbound_pending": n}``."""
        self._check_open()
        return {
            "ok": True,
            "store": "memory",
            "inbox_pending": len(self._inbox_pending),
            "outbound_pending": len(self._outbox_pending),
        }


if TYPE_CHECKING:

    def _is_a_store(store: MemoryStore) -> Store:
        return store
