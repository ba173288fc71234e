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
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast

from botkit.errors import StoreError
from botkit.store._codec import (
    conversation_doc,
    conversation_from_doc,
    decode_json,
    encode_bodies,
)
from botkit.store._sqlite_hot import (
    _KEY,
    _accept_many,
    _complete_each,
    _complete_many,
    _enqueue_rows,
    _key,
    _load_each,
    _load_many,
    _mark_sent_many,
    _rowid,
    _Turn,
)
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

#: Stored in ``PRAGMA user_version``; bump it with a migration when the tables change.
SCHEMA_VERSION = 5

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS conversations (
        channel TEXT NOT NULL, user TEXT NOT NULL, bot TEXT NOT NULL,
        version INTEGER NOT NULL, doc TEXT NOT NULL, updated_at REAL NOT NULL,
        PRIMARY KEY (channel, user, bot))""",
    # Dedupe keys outlive inbox rows (pruned separately); the seen_at index keeps that
    # pruning from scanning every key.
    """CREATE TABLE IF NOT EXISTS dedupe (
        key TEXT PRIMARY KEY, seen_at REAL NOT NULL) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS dedupe_seen_at ON dedupe (seen_at)",
    # AUTOINCREMENT: ids are never reused, even after pruning, so an ``after_id``
    # cursor can never skip a newer entry.
    """CREATE TABLE IF NOT EXISTS inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT, dedupe_key TEXT NOT NULL,
        channel TEXT NOT NULL, user TEXT NOT NULL, bot TEXT NOT NULL,
        kind TEXT NOT NULL, body BLOB NOT NULL, accepted_at REAL NOT NULL,
        done INTEGER NOT NULL DEFAULT 0, done_at REAL)""",
    # Partial indexes hold only unfinished rows, so the worker's and /healthz's
    # queries stay cheap however much history the tables keep.
    "CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (id) WHERE done = 0",
    """CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL, user TEXT NOT NULL, bot TEXT NOT NULL,
        body TEXT NOT NULL, client_ref TEXT NOT NULL, created_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        message_uuid TEXT, error TEXT, finished_at REAL)""",
    "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (id) WHERE status = 'pending'",
    # Version 2: files botkit serves to the Messages API (MMS vCards).
    """CREATE TABLE IF NOT EXISTS files (
        id TEXT PRIMARY KEY,
        media_type TEXT NOT NULL,
        content BLOB NOT NULL,
        created_at REAL NOT NULL
    )""",
    # Version 3: the index of conversations' pending timers (one per conversation).
    """CREATE TABLE IF NOT EXISTS timers (
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        bot TEXT NOT NULL,
        timer_id TEXT NOT NULL,
        due REAL NOT NULL,
        PRIMARY KEY (channel, user, bot)
    )""",
    "CREATE INDEX IF NOT EXISTS timers_due ON timers (due)",
    # Version 5: an index per conversation of pending rows, briefly part of version 4,
    # goes: it cost every accept and commit (see _SELECT_PENDING_FOR).
    "DROP INDEX IF EXISTS inbox_pending_key",
    # Version 4: conversation leases. AUTOINCREMENT makes the token a fencing token: never
    # reused, even after its row is deleted on release. (pending_for has no index of its
    # own here: see _SELECT_PENDING_FOR.)
    """CREATE TABLE IF NOT EXISTS leases (
        token INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        bot TEXT NOT NULL,
        owner TEXT NOT NULL,
        expires_at REAL NOT NULL,
        UNIQUE (channel, user, bot)
    )""",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)

_SELECT_PENDING_INBOX = """SELECT id, dedupe_key, channel, user, bot, kind, body, accepted_at
    FROM inbox WHERE done = 0 AND id > ? ORDER BY id LIMIT ?"""
# One conversation's pending rows, found through the inbox_pending index (unfinished rows
# only). No index of its own: that would cost every accept and commit (measured: about 4%
# of a turn), and a store of one process never asks this on its hot path; only leasing
# workers of a shared store do.
_SELECT_PENDING_FOR = f"""SELECT id, dedupe_key, channel, user, bot, kind, body, accepted_at
    FROM inbox WHERE done = 0 AND {_KEY} ORDER BY id LIMIT ?"""
_SELECT_PENDING_OUTBOX = """SELECT id, channel, user, bot, body, client_ref, created_at, attempts
    FROM outbox WHERE status = 'pending' ORDER BY id LIMIT ?"""
_MARK_FAILED = """UPDATE outbox SET status = 'failed', error = ?, finished_at = ?
    WHERE id = ? AND status = 'pending'"""
_PUT_FILE = """INSERT INTO files (id, media_type, content, created_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET media_type = excluded.media_type, content = excluded.content"""
_GET_FILE = "SELECT media_type, content FROM files WHERE id = ?"
_DUE_TIMERS = """SELECT channel, user, bot, timer_id, due FROM timers WHERE due <= ?
    ORDER BY due, channel, user, bot LIMIT ?"""
_SELECT_LEASE = f"SELECT owner, expires_at FROM leases WHERE {_KEY}"
_DELETE_LEASE = f"DELETE FROM leases WHERE {_KEY}"
_INSERT_LEASE = "INSERT INTO leases (channel, user, bot, owner, expires_at) VALUES (?, ?, ?, ?, ?)"
_RELEASE_LEASE = f"DELETE FROM leases WHERE {_KEY} AND token = ?"
# Pruning walks ids in order and stops at the first row at or after the cutoff: both
# scans touch only the old rows (rowid order), never the whole table.
_PRUNE_INBOX = """DELETE FROM inbox WHERE done = 1 AND accepted_at < :cut AND id < coalesce(
    (SELECT id FROM inbox WHERE accepted_at >= :cut ORDER BY id LIMIT 1), 9223372036854775807)"""
_PRUNE_OUTBOX = """DELETE FROM outbox WHERE status != 'pending' AND finished_at < :cut
    AND id < coalesce(
    (SELECT id FROM outbox WHERE created_at >= :cut ORDER BY id LIMIT 1), 9223372036854775807)"""
_PRUNE_DEDUPE = "DELETE FROM dedupe WHERE seen_at < ?"
_PRUNE_FILES = "DELETE FROM files WHERE created_at < ?"
_FORGET = tuple(
    f"DELETE FROM {table} WHERE channel = ? AND user = ?"
    for table in ("conversations", "inbox", "outbox", "timers", "leases")
)
_COUNT_PENDING = """SELECT (SELECT count(*) FROM inbox WHERE done = 0),
    (SELECT count(*) FROM outbox WHERE status = 'pending')"""


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error.

    IMMEDIATE takes the write lock up front, so a concurrent writer in another process
    waits (busy timeout) at BEGIN instead of failing halfway through the transaction.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        # A failed COMMIT can leave the transaction open; the original error matters
        # more than a failing ROLLBACK.
        if conn.in_transaction:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


class SQLiteStore(OneProcessOutbox):
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
        version, doc = found
        return conversation_from_doc(key, version, doc)

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
        """Delete the user's conversations, inbox and outbound rows, timers and leases.

        The inbox and outbox are scanned whole (they have no index by user); fine for an
        occasional request, and it is one transaction.
        """
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


# -- work done on the store's thread ---------------------------------------------------


def _run(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
    """One statement: alone in a batch of reads (autocommit), or within the batch's write."""
    return conn.execute(sql, params).fetchall()


def _nothing(conn: sqlite3.Connection) -> None:
    """A call that only waits for the calls queued before it."""


# The functions below run on the store's thread, inside a group commit's transaction
# (see botkit.store.group_commit): they never BEGIN or COMMIT, and refuse before writing.


def _enqueue(
    conn: sqlite3.Connection, outbound: Sequence[NewOutbound], bodies: list[str], now: float
) -> list[OutboundMessage]:
    return _enqueue_rows(conn, outbound, bodies, now)


def _put_files(conn: sqlite3.Connection, rows: list[tuple[str, str, bytes, float]]) -> None:
    conn.executemany(_PUT_FILE, rows)


def _acquire_lease(
    conn: sqlite3.Connection, key: ConversationKey, owner: str, expires_at: float, now: float
) -> int | None:
    where = _key(key)
    held = conn.execute(_SELECT_LEASE, where).fetchone()
    if held is not None and held[0] != owner and held[1] > now:
        return None
    # A new row, so a new AUTOINCREMENT token, also when the owner renews its lease.
    conn.execute(_DELETE_LEASE, where)
    return _rowid(conn.execute(_INSERT_LEASE, (*where, owner, expires_at)))


def _release_lease(conn: sqlite3.Connection, key: ConversationKey, token: int) -> bool:
    return conn.execute(_RELEASE_LEASE, (*_key(key), token)).rowcount == 1


def _prune(
    conn: sqlite3.Connection,
    inbox_before: float,
    outbox_before: float,
    dedupe_before: float,
    files_before: float,
) -> dict[str, int]:
    return {
        "inbox": conn.execute(_PRUNE_INBOX, {"cut": inbox_before}).rowcount,
        "outbox": conn.execute(_PRUNE_OUTBOX, {"cut": outbox_before}).rowcount,
        "dedupe": conn.execute(_PRUNE_DEDUPE, (dedupe_before,)).rowcount,
        "files": conn.execute(_PRUNE_FILES, (files_before,)).rowcount,
    }


def _forget(conn: sqlite3.Connection, channel: str, user: str) -> int:
    return sum(conn.execute(sql, (channel, user)).rowcount for sql in _FORGET)


if TYPE_CHECKING:

    def _is_a_store(store: SQLiteStore) -> Store:
        return store
