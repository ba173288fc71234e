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
    already_done,
    conversation_doc,
    conversation_from_doc,
    decode_json,
    encode_bodies,
    lease_lost,
    not_its_entry,
    version_conflict,
)
from botkit.store._memory_campaigns import MemoryCampaigns
from botkit.store._memory_handoff import MemoryHandoff
from botkit.store._memory_optouts import MemoryOptOuts
from botkit.store.base import (
    DEDUPE_RETENTION,
    Committed,
    Conversation,
    ConversationKey,
    DueTimer,
    InboxEntry,
    NewInboxEntry,
    NewOutbound,
    OneProcessOutbox,
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


class MemoryStore(OneProcessOutbox, MemoryHandoff, MemoryOptOuts, MemoryCampaigns):
    """Everything in process memory; gone when the process ends.

    Data survives ``close()`` followed by ``open()`` on the same instance, mirroring a
    file-backed store reopened on the same file. Like every store, methods other than
    ``open()`` and ``close()`` raise :class:`StoreError` until ``open()`` was awaited.
    """

    def __init__(self) -> None:
        MemoryHandoff.__init__(self)
        MemoryOptOuts.__init__(self)
        MemoryCampaigns.__init__(self)
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
        self._files: dict[str, tuple[str, bytes, float]] = {}
        self._timers: dict[ConversationKey, tuple[str, float]] = {}
        # conversation -> (owner, token, expires at); released leases are deleted.
        self._leases: dict[ConversationKey, tuple[str, int, float]] = {}
        self._inbox_ids = itertools.count(1)
        self._outbox_ids = itertools.count(1)
        self._lease_tokens = itertools.count(1)

    @property
    def shared(self) -> bool:
        """False: the data lives in this process only."""
        return False

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
        committed = InboxEntry(
            id=inbox_id,
            dedupe_key=entry.dedupe_key,
            key=entry.key,
            kind=entry.kind,
            body=entry.body,
            accepted_at=entry.accepted_at,
        )
        self._inbox_pending[inbox_id] = committed
        return inbox_id

    async def pending_inbox(self, *, after_id: int = 0, limit: int = 1000) -> list[InboxEntry]:
        """Unfinished inbox entries with ``id > after_id``, in acceptance order."""
        self._check_open()
        # InboxEntry is frozen and its body is bytes, so sharing the objects is safe.
        later = (e for i, e in self._inbox_pending.items() if i > after_id)
        return list(itertools.islice(later, max(limit, 0)))

    async def pending_for(self, key: ConversationKey, *, limit: int = 1000) -> list[InboxEntry]:
        """The conversation's unfinished inbox entries, in acceptance order.

        A walk over the pending entries, like SQLite's: no index per conversation to keep
        up on every accept and commit, since a store of one process never asks this on
        its hot path.
        """
        self._check_open()
        theirs = (e for e in self._inbox_pending.values() if e.key == key)
        return list(itertools.islice(theirs, max(limit, 0)))

    async def load(self, key: ConversationKey) -> Conversation:
        """The stored conversation (a fresh copy), or a new one at version 0."""
        self._check_open()
        stored = self._conversations.get(key)
        found = Conversation(key) if stored is None else conversation_from_doc(key, *stored)
        found.opted_out = key in self._optouts
        return found

    async def complete_turn(
        self,
        inbox_id: int | None,
        conversation: Conversation,
        outbound: Sequence[NewOutbound],
        *,
        now: float,
        fence: int | None = None,
    ) -> Committed:
        """Save the conversation, finish the inbox entry and queue the replies, atomically.

        Raises:
            LeaseLost: ``fence`` is not the conversation's lease token; nothing was written.
            AlreadyDone: ``inbox_id`` is not pending; nothing was written.
            VersionConflict: the stored version is not ``conversation.version``; nothing
                was written.
            StoreError: the conversation or a body is not JSON-serialisable, or the entry
                belongs to another conversation.
        """
        self._check_open()
        # Encode everything before touching state so a bad value leaves nothing behind.
        doc = conversation_doc(conversation)
        bodies = encode_bodies(outbound)
        key = conversation.key
        if fence is not None:
            lease = self._leases.get(key)
            if lease is None or lease[1] != fence:
                raise lease_lost(key, fence)
        if inbox_id is not None:
            entry = self._inbox_pending.get(inbox_id)
            if entry is None:
                raise already_done(inbox_id)
            if entry.key != key:
                raise not_its_entry(inbox_id, entry.key, key)
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
            self._inbox_done[inbox_id] = (self._inbox_pending.pop(inbox_id), now)
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

    async def count_attempt(self, outbound_id: int) -> None:
        """Count one more refused attempt. Only a pending message changes."""
        self._check_open()
        row = self._outbox_pending.get(outbound_id)
        if row is not None:
            row.attempts += 1

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
        for file_id, (media, content) in files.items():
            # Replacing a file keeps its first time, as SQLite's upsert does.
            created = self._files[file_id][2] if file_id in self._files else now
            self._files[file_id] = (media, bytes(content), created)

    async def get_file(self, file_id: str) -> tuple[str, bytes] | None:
        """A kept file as ``(media_type, content)``, or None."""
        self._check_open()
        found = self._files.get(file_id)
        return None if found is None else (found[0], found[1])

    async def acquire_lease(
        self, key: ConversationKey, owner: str, *, ttl: float, now: float
    ) -> int | None:
        """A new fencing token for ``owner``, or None while another owner holds the lease."""
        self._check_open()
        held = self._leases.get(key)
        if held is not None and held[0] != owner and held[2] > now:
            return None
        token = next(self._lease_tokens)
        self._leases[key] = (owner, token, now + ttl)
        return token

    async def release_lease(self, key: ConversationKey, token: int) -> bool:
        """Drop the lease if ``token`` is still current; True if dropped."""
        self._check_open()
        held = self._leases.get(key)
        if held is None or held[1] != token:
            return False
        del self._leases[key]
        return True

    async def prune(
        self, *, now: float, inbox_before: float, outbox_before: float, files_before: float
    ) -> dict[str, int]:
        """Delete finished entries, finished messages, old dedupe keys and old files."""
        self._check_open()
        # Both passes stop where the first entry at or after the cutoff is, exactly like
        # the SQLite and Redis stores, which walk their ids in order.
        first_new = min(
            (
                i
                for i, e in itertools.chain(
                    self._inbox_pending.items(),
                    ((i, e) for i, (e, _) in self._inbox_done.items()),
                )
                if e.accepted_at >= inbox_before
            ),
            default=None,
        )
        inbox = [
            i
            for i, (e, _) in self._inbox_done.items()
            if e.accepted_at < inbox_before and (first_new is None or i < first_new)
        ]
        for i in inbox:
            del self._inbox_done[i]
        outbox = []
        for outbound_id, row in self._outbox.items():
            if row.created_at >= outbox_before:
                break
            if row.finished_at is not None and row.finished_at < outbox_before:
                outbox.append(outbound_id)
        for outbound_id in outbox:
            del self._outbox[outbound_id]
        dedupe_cutoff = now - DEDUPE_RETENTION
        dedupe = [k for k, seen in self._dedupe.items() if seen < dedupe_cutoff]
        for k in dedupe:
            del self._dedupe[k]
        files = [k for k, (_, _, created) in self._files.items() if created < files_before]
        for k in files:
            del self._files[k]
        return {
            "inbox": len(inbox),
            "outbox": len(outbox),
            "dedupe": len(dedupe),
            "files": len(files),
        }

    async def forget(self, channel: str, user: str) -> int:
        """Delete the user's conversations, inbox and outbound entries, timers, leases and
        handoff marks."""
        self._check_open()

        def theirs(key: ConversationKey) -> bool:
            return key.channel == channel and key.user == user

        removed = 0
        for table in (self._conversations, self._timers, self._leases):
            keys = [k for k in table if theirs(k)]
            for k in keys:
                del table[k]
            removed += len(keys)
        for inbox_id in [i for i, e in self._inbox_pending.items() if theirs(e.key)]:
            del self._inbox_pending[inbox_id]
            removed += 1
        for inbox_id in [i for i, (e, _) in self._inbox_done.items() if theirs(e.key)]:
            del self._inbox_done[inbox_id]
            removed += 1
        for outbound_id in [i for i, row in self._outbox.items() if theirs(row.key)]:
            del self._outbox[outbound_id]
            self._outbox_pending.pop(outbound_id, None)
            removed += 1
        removed += self._forget_campaigns(channel, user)
        return removed + self._forget_handoffs(channel, user)

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
