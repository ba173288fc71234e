"""The embedded default store: one SQLite file in WAL mode.

Every method does all its SQL in **one** call on a dedicated single-thread executor that
owns the only connection, so the event loop never waits on the disk. Calls go through a
:class:`~botkit.store.group_commit.GroupCommit` queue: the calls made while the thread is
busy run together, as one job and one transaction (group commit), so that under load a
hop and a WAL commit serve many webhooks and turns, not one each. The hot path's calls
(accept, load, complete_turn, mark_sent) are merged per batch into a few multi-row
statements (:mod:`botkit.store._sqlite_hot`). Calls of one task run in order, so
concurrent tasks need no locks; ``BEGIN IMMEDIATE`` and the busy timeout serialise
writers in other processes. A method that refuses (version conflict, finished entry,
lost lease) checks everything before its first write, so its refusal leaves the other
calls of its batch untouched.

WAL with ``synchronous=NORMAL`` keeps commits atomic; a power cut (not a process crash)
may lose the last few, which Vonage's redelivery of unacknowledged webhooks covers.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast

from botkit.errors import StoreError
from botkit.store._codec import conversation_doc, conversation_from_doc, decode_json, encode_bodies
from botkit.store._sqlite_campaigns import SQLiteCampaigns
from botkit.store._sqlite_handoff import SQLiteHandoff
from botkit.store._sqlite_hot import (
    _accept_many,
    _complete_each,
    _complete_many,
    _key,
    _load_each,
    _load_many,
    _mark_sent_many,
    _Turn,
)
from botkit.store._sqlite_jobs import (
    _COUNT_ATTEMPT,
    _COUNT_PENDING,
    _DUE_TIMERS,
    _GET_FILE,
    _MARK_FAILED,
    _SELECT_PENDING_FOR,
    _SELECT_PENDING_INBOX,
    _SELECT_PENDING_OUTBOX,
    _acquire_lease,
    _enqueue,
    _forget,
    _nothing,
    _prune,
    _put_files,
    _release_lease,
    _run,
)
from botkit.store._sqlite_optouts import SQLiteOptOuts
from botkit.store._sqlite_schema import _SCHEMA, SCHEMA_VERSION, _transaction
from botkit.store.base import (
    DEDUPE_RETENTION,
    Committed,
    Conversation,
    ConversationKey,
    DueTimer,
    EventKind,
    InboxEntry,
    NewInboxEntry,
    NewOutbound,
    OneProcessOutbox,
    OutboundMessage,
)
from botkit.store.group_commit import GroupCommit

if TYPE_CHECKING:
    from botkit.store.base import Store

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

P = ParamSpec("P")
T = TypeVar("T")

class SQLiteStore(OneProcessOutbox, SQLiteHandoff, SQLiteOptOuts, SQLiteCampaigns):
    """A :class:`~botkit.store.base.Store` in one SQLite file.

    Args:
        path: the database file; created (with its tables) on ``open()`` if missing.
        busy_timeout: seconds to wait for another process's write lock before a call
            fails with :class:`StoreError` ("database is locked").
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> None:
        self.path = os.fspath(path)
        self.busy_timeout = busy_timeout
        self._executor: ThreadPoolExecutor | None = None
        self._group: GroupCommit | None = None  # with the executor: both or neither
        self._json = False  # SQLite's JSON functions are there (merged loads use them)
        # Created, used and closed only on the executor's thread (check_same_thread
        # stays on, so any use from another thread fails loudly).
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        """Open the file, switch it to WAL and create missing tables. Idempotent.

        Raises:
            StoreError: the file cannot be opened or created, is not a database, or was
                written by a newer botkit; the message names the path.
        """
        executor = self._executor
        if executor is not None:
            # Already open (or opening): queue behind the opening job and report its fate.
            await self._read(_nothing)
            return
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="botkit-sqlite")
        self._executor = executor
        self._group = GroupCommit(executor, lambda: self._conn, f"SQLite store {self.path!r}")
        try:
            await asyncio.get_running_loop().run_in_executor(executor, self._connect)
        except BaseException:
            # Also reached on cancellation while the thread may still connect: close
            # whatever it opened (jobs run in order) before the thread stops.
            self._executor = self._group = None
            executor.submit(self._disconnect)
            executor.shutdown(wait=True)
            raise

    def _connect(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            # isolation_level=None: no implicit transactions, we issue BEGIN/COMMIT;
            # ``timeout`` is SQLite's busy timeout.
            # A statement cache large enough for the merged statements' texts (see _chunks).
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, cached_statements=256
            )
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            try:
                conn.execute("SELECT json_array(1)").fetchall()
                self._json = True
            except sqlite3.OperationalError:  # built without JSON1: one load per statement
                self._json = False
            with _transaction(conn):
                (found,) = conn.execute("PRAGMA user_version").fetchone()
                if found > SCHEMA_VERSION:
                    raise StoreError(
                        f"SQLite store {self.path!r} has schema version {found}, newer than "
                        f"this botkit's {SCHEMA_VERSION}; upgrade botkit"
                    )
                if found < SCHEMA_VERSION:
                    for statement in _SCHEMA:
                        conn.execute(statement)
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot open SQLite store {self.path!r}: {exc}") from exc
            raise
        self._conn = conn

    async def close(self) -> None:
        """Close the connection and stop the thread (calls in flight finish first). Repeatable."""
        executor, self._executor = self._executor, None
        group, self._group = self._group, None
        if executor is None:
            return
        try:
            if group is not None:
                await group.drain()  # calls queued before close() still run
            await asyncio.get_running_loop().run_in_executor(executor, self._disconnect)
        finally:
            executor.shutdown(wait=True)

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot close SQLite store {self.path!r}: {exc}") from exc

    def _opened(self) -> GroupCommit:
        if self._group is None:
            raise StoreError(f"SQLiteStore({self.path!r}) is not open; call 'await store.open()'")
        return self._group

    def _read(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> asyncio.Future[T]:
        """Queue ``fn(conn, ...)``, which only reads, for the store's thread.

        sqlite3 errors reach the caller as StoreError.
        """
        return self._opened().call(lambda conn: fn(conn, *args, **kwargs), writes=False)

    def _write(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> asyncio.Future[T]:
        """Queue ``fn(conn, ...)``, which writes, into the next group commit.

        ``fn`` runs inside the batch's transaction and raises any refusal before its
        first write. Its future resolves after the COMMIT.
        """
        return self._opened().call(lambda conn: fn(conn, *args, **kwargs), writes=True)

    async def accept(self, entry: NewInboxEntry) -> int | None:
        """Commit the entry and its dedupe key; ``None`` for a dedupe key seen before.

        Returns once the batch holding it has committed: the entry is durable then.
        Duplicates within one batch are exact too: the later one finds the earlier one's
        key, written in the same transaction, and gets ``None``.
        """
        return await self._opened().call_many(_accept_many, entry, writes=True)

    async def pending_inbox(self, *, after_id: int = 0, limit: int = 1000) -> list[InboxEntry]:
        """Unfinished inbox entries with ``id > after_id``, in acceptance order."""
        # A negative LIMIT means "no limit" to SQLite; other stores return nothing.
        rows = await self._read(_run, _SELECT_PENDING_INBOX, (after_id, max(limit, 0)))
        return [
            InboxEntry(id_, dedupe, ConversationKey(ch, user, bot), cast(EventKind, kind), body, at)
            for id_, dedupe, ch, user, bot, kind, body, at in rows
        ]

    async def pending_for(self, key: ConversationKey, *, limit: int = 1000) -> list[InboxEntry]:
        """The conversation's unfinished inbox entries, in acceptance order."""
        rows = await self._read(_run, _SELECT_PENDING_FOR, (*_key(key), max(limit, 0)))
        return [
            InboxEntry(id_, dedupe, ConversationKey(ch, user, bot), cast(EventKind, kind), body, at)
            for id_, dedupe, ch, user, bot, kind, body, at in rows
        ]

    async def load(self, key: ConversationKey) -> Conversation:
        """The stored conversation (a fresh copy), or a new one at version 0."""
        found = await self._opened().call_many(
            _load_many if self._json else _load_each, key, writes=False
        )
        if found is None:
            return Conversation(key)
        version, doc, opted_out = found
        loaded = Conversation(key) if version is None or doc is None else (
            conversation_from_doc(key, version, doc))
        loaded.opted_out = opted_out
        return loaded

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
            StoreError: the conversation or a body is not JSON-serialisable, the entry
                belongs to another conversation, or SQLite failed; nothing was written.
        """
        # Encode on the caller's side: what is stored is the conversation as it was when
        # complete_turn was called, even if another task changes the object meanwhile.
        doc = conversation_doc(conversation)
        bodies = encode_bodies(outbound)
        turn = _Turn(inbox_id, conversation, doc, outbound, bodies, now, fence)
        return await self._opened().call_many(
            _complete_many if self._json else _complete_each, turn, writes=True
        )

    async def enqueue(
        self, outbound: Sequence[NewOutbound], *, now: float
    ) -> list[OutboundMessage]:
        """Queue messages sent outside a turn (notifications)."""
        bodies = encode_bodies(outbound)
        return await self._write(_enqueue, outbound, bodies, now)

    async def pending_outbound(self, *, limit: int = 1000) -> list[OutboundMessage]:
        """Queued messages not yet sent or failed, in queue order."""
        rows = await self._read(_run, _SELECT_PENDING_OUTBOX, (max(limit, 0),))
        return [
            OutboundMessage(id_, ConversationKey(ch, user, bot), decode_json(body), ref, at, tries)
            for id_, ch, user, bot, body, ref, at, tries in rows
        ]

    async def mark_sent(self, outbound_id: int, message_uuid: str, *, now: float) -> None:
        """Record the Messages API's acceptance. Only a pending message changes."""
        await self._opened().call_many(
            _mark_sent_many, (outbound_id, message_uuid, now), writes=True
        )

    async def mark_failed(self, outbound_id: int, error: str, *, now: float) -> None:
        """Record a terminal refusal. Only a pending message changes."""
        await self._write(_run, _MARK_FAILED, (error, now, outbound_id))

    async def count_attempt(self, outbound_id: int) -> None:
        """Count one more refused attempt. Only a pending message changes."""
        await self._write(_run, _COUNT_ATTEMPT, (outbound_id,))

    async def due_timers(self, *, now: float, limit: int = 1000) -> list[DueTimer]:
        """Timers due at ``now`` or earlier, the earliest first."""
        rows = await self._read(_run, _DUE_TIMERS, (now, max(limit, 0)))
        return [
            DueTimer(ConversationKey(ch, user, bot), timer_id, due)
            for ch, user, bot, timer_id, due in rows
        ]

    async def put_files(self, files: Mapping[str, tuple[str, bytes]], *, now: float) -> None:
        """Keep files botkit serves (MMS vCards), all in one transaction."""
        rows = [(k, media, bytes(content), now) for k, (media, content) in files.items()]
        await self._write(_put_files, rows)

    async def get_file(self, file_id: str) -> tuple[str, bytes] | None:
        """A kept file as ``(media_type, content)``, or None."""
        rows = await self._read(_run, _GET_FILE, (file_id,))
        if not rows:
            return None
        media_type, content = rows[0]
        return str(media_type), bytes(content)

    @property
    def shared(self) -> bool:
        """False: one process owns the file (``botkit run --workers`` above 1 is refused)."""
        return False

    async def acquire_lease(
        self, key: ConversationKey, owner: str, *, ttl: float, now: float
    ) -> int | None:
        """A new fencing token for ``owner``, or None while another owner holds the lease."""
        return await self._write(_acquire_lease, key, owner, now + ttl, now)

    async def release_lease(self, key: ConversationKey, token: int) -> bool:
        """Drop the lease if ``token`` is still current; True if dropped."""
        return await self._write(_release_lease, key, token)

    async def prune(
        self, *, now: float, inbox_before: float, outbox_before: float, files_before: float
    ) -> dict[str, int]:
        """Delete finished entries, finished messages, old dedupe keys and old files.

        One transaction; the deletes walk only the rows they remove (and old pending ones).
        """
        cutoffs = (inbox_before, outbox_before, now - DEDUPE_RETENTION, files_before)
        return await self._write(_prune, *cutoffs)

    async def forget(self, channel: str, user: str) -> int:
        """Delete the user's conversations, inbox and outbound rows, timers, leases and
        handoff marks, in one transaction (the inbox and outbox by their user indexes)."""
        return await self._write(_forget, channel, user)

    async def health(self) -> dict[str, Any]:
        """``{"ok", "store": "sqlite", "inbox_pending", "outbound_pending"}``.

        A failing query gives ``ok: False`` and an ``error`` rather than raising, for
        ``/healthz`` to report; calling before ``open()`` still raises.
        """
        self._opened()
        try:
            ((inbox, outbox),) = await self._read(_run, _COUNT_PENDING, ())
        except StoreError as exc:
            return {"ok": False, "store": "sqlite", "error": str(exc)}
        return {"ok": True, "store": "sqlite", "inbox_pending": inbox, "outbound_pending": outbox}


if TYPE_CHECKING:

    def _is_a_store(store: SQLiteStore) -> Store:
        return store
