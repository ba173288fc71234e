"""A store on PostgreSQL (asyncpg): for several processes or hosts serving one bot.

``BOTKIT_STORE=postgresql://user:password@host:5432/dbname`` (``postgres://`` too; every
connection parameter asyncpg takes, such as ``sslmode``, may follow in the query), plus
botkit's own parameters:

* ``schema`` (default ``botkit``): the PostgreSQL schema the tables live in, created if
  missing. Several bots, or test runs, share a database with a schema each. Letters,
  digits and ``_``, at most 48 characters.
* ``pool_size`` (default 10): connections per process. Each process also keeps one
  more, listening for notices. Mind the server's ``max_connections`` with ``--workers``.
* ``migrate`` (default ``auto``): ``auto`` brings the schema to this code's version when
  the store opens; ``manual`` refuses to open a schema that is behind, for teams that
  migrate with ``botkit migrate`` as a deploy step.

Tables, functions (the multi-step writes, one round trip each) and migrations are in
:mod:`._pg_schema`, which process sends which reply in :mod:`._pg_outbox`. Each write is
one transaction that checks before it writes: a refusal leaves nothing. Across processes:

* **One turn at a time per conversation** comes from the worker's lease (a row in
  ``leases``, its fencing token drawn from a sequence). ``complete_turn`` locks the lease
  row (``FOR SHARE``) while it checks the token, so the lease cannot pass to another
  worker between the check and the commit; it locks the inbox row, so one entry commits
  once; and its ``UPDATE ... WHERE version = expected`` is the compare-and-set.
* **Acceptance order**: accepts of one conversation take a transaction-level advisory
  lock before drawing their id, so a conversation's ids follow commit order and a
  worker that sees entry n has seen every earlier one. Queueing replies does the same
  per conversation (see ``queue``).
* **Notices**: releases other processes wait for are announced with ``NOTIFY`` and
  wake the waiter at once (:mod:`._pg_listen`), instead of after its backoff.

Durability is PostgreSQL's: an acknowledged webhook is a committed transaction, which
survives a crash of the bot and of the server (with the default ``fsync``). While the
server is down calls raise :class:`~botkit.errors.StoreError` (see :mod:`._pg_pool`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from botkit.errors import StoreError
from botkit.store._codec import (
    already_done,
    conversation_doc,
    conversation_from_doc,
    encode_bodies,
    lease_lost,
    not_its_entry,
    version_conflict,
)
from botkit.store._pg_campaigns import PostgresCampaigns
from botkit.store._pg_handoff import PostgresHandoff
from botkit.store._pg_optouts import PostgresOptOuts
from botkit.store._pg_outbox import SENDER_GC
from botkit.store._pg_pool import AnswerLost, Database, parse_url
from botkit.store._pg_schema import SCHEMA_VERSION
from botkit.store._pg_sql import (
    Statements,
    delete_in_batches,
    from_db,
    inbox_entry,
    key_args,
    key_of,
    one,
    outbound_message,
    prune_stop,
    queue_args,
    queued,
    to_db,
)
from botkit.store._shared import new_owner, owned_here
from botkit.store.base import (
    DEDUPE_RETENTION,
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
from botkit.store.notices import Notices

if TYPE_CHECKING:
    from botkit.store.base import Store

__all__ = ["LEASE_GC", "POOL_SIZE", "SCHEMA_VERSION", "PostgresStore"]

POOL_SIZE: Final = 10
"""Connections per store handle, by default (``?pool_size=`` in the URL)."""

LEASE_GC: Final = 3600.0
"""Seconds past its expiry after which pruning deletes a lease its holder never released
(a process that died): dead leases never pile up."""


class PostgresStore(PostgresHandoff, PostgresOptOuts, PostgresCampaigns):
    """A :class:`~botkit.store.base.Store` in one PostgreSQL schema.

    Args:
        url: a ``postgresql://`` URL as asyncpg takes it (without botkit's parameters;
            :meth:`from_url` takes a URL with them).
        schema: the schema of the tables, created if missing.
        pool_size: connections in this handle's pool.
        auto_migrate: bring the schema to this code's version on :meth:`open`; when
            False, a schema that is behind is refused.
        owner: this handle's name as a sender of queued messages; unique by default.
            Two handles must never share one.
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str = "botkit",
        pool_size: int = POOL_SIZE,
        auto_migrate: bool = True,
        owner: str | None = None,
    ) -> None:
        self._named = owner is not None
        self.owner = owner or new_owner()
        """This handle's name as a sender (see :meth:`claim_outbound`): unique per handle."""
        self.channel = f"botkit.{schema}"
        """The ``NOTIFY`` channel of the schema's notices."""
        self.notices = Notices()
        """Wakes this process's waiters when another process releases what they wait for."""
        self._db = Database(
            url,
            schema=schema,
            pool_size=pool_size,
            auto_migrate=auto_migrate,
            channel=self.channel,
            notices=self.notices,
        )
        self._sql = Statements(schema)

    @classmethod
    def from_url(cls, url: str) -> PostgresStore:
        """A store for ``BOTKIT_STORE``: the URL with botkit's ``schema``, ``pool_size``
        and ``migrate`` parameters (see the module's docstring).

        Raises:
            ConfigError: a parameter botkit cannot use, naming it.
        """
        rest, schema, pool_size, auto_migrate = parse_url(url, pool_size=POOL_SIZE)
        return cls(rest, schema=schema, pool_size=pool_size, auto_migrate=auto_migrate)

    @property
    def url(self) -> str:
        """The server's URL, without botkit's parameters."""
        return self._db.url

    @property
    def schema(self) -> str:
        """The PostgreSQL schema of the tables."""
        return self._db.schema

    @property
    def database(self) -> Database:
        """The pool, the listening connection and their settings."""
        return self._db

    @property
    def shared(self) -> bool:
        """True: any number of processes and hosts may use one PostgreSQL store together."""
        return True

    async def open(self) -> None:
        """Connect, check the schema's version (migrating it when behind, unless
        ``migrate=manual``) and start listening for notices. Idempotent.

        Raises:
            StoreError: the server does not answer, the URL is invalid, the database is
                not UTF-8, or the schema is at another version (newer than this code's,
                or behind it with ``migrate=manual``). The message names the URL without
                its password.
        """
        if not self._db.is_open and not self._named and not owned_here(self.owner):
            self.owner = new_owner()  # a handle made before a fork: the child is another sender
        await self._db.open()

    async def close(self) -> None:
        """Stop listening and close the pool. Repeatable."""
        await self._db.close()

    async def migrate(self) -> tuple[int, int]:
        """Bring the schema to this code's version now, as ``botkit migrate`` does.

        Returns the versions before and after. Works whether or not the store is open.

        Raises:
            StoreError: the server does not answer, or the schema is newer than this code.
        """
        return await self._db.migrate()

    async def accept(self, entry: NewInboxEntry) -> int | None:
        """Commit the entry and its dedupe key; ``None`` for a dedupe key seen before."""
        found = await self._db.fetchval(
            self._sql.accept,
            to_db(entry.dedupe_key),
            *key_args(entry.key),
            entry.kind,
            entry.body,
            float(entry.accepted_at),
        )
        return None if found is None else int(found)

    async def pending_inbox(self, *, after_id: int = 0, limit: int = 1000) -> list[InboxEntry]:
        """Unfinished inbox entries with ``id > after_id``, in acceptance order."""
        self._db.opened()
        if limit <= 0:
            return []
        return [
            inbox_entry(r) for r in await self._db.fetch(self._sql.pending_inbox, after_id, limit)
        ]

    async def pending_for(self, key: ConversationKey, *, limit: int = 1000) -> list[InboxEntry]:
        """The conversation's unfinished inbox entries, in acceptance order (an index of
        the conversation's pending rows serves it)."""
        self._db.opened()
        if limit <= 0:
            return []
        rows = await self._db.fetch(self._sql.pending_for, *key_args(key), limit)
        return [inbox_entry(r) for r in rows]

    async def load(self, key: ConversationKey) -> Conversation:
        """The stored conversation (a fresh copy), or a new one at version 0."""
        async with self._db.connection() as conn:
            version, doc, opted_out = one(await conn.fetchrow(self._sql.load, *key_args(key)))
        loaded = Conversation(key) if version is None else conversation_from_doc(key, version, doc)
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
                belongs to another conversation, or PostgreSQL failed.
        """
        doc = conversation_doc(conversation)
        bodies = encode_bodies(outbound)
        key, batch = conversation.key, uuid.uuid4().hex
        timer = timer_of(conversation)
        try:
            outcome, version, ids, others = await self._db.call(
                self._sql.complete_turn,
                *key_args(key),
                conversation.version,
                doc,
                float(now),
                inbox_id,
                fence,
                None if timer is None else to_db(timer[0]),
                None if timer is None else timer[1],
                self.owner,
                *queue_args(outbound, bodies),
                batch,
            )
        except AnswerLost as lost:
            if not outbound:
                raise  # nothing queued that could be lost
            found = await self._committed(outbound, batch, lost)
            return Committed(conversation.version + 1, found)
        if outcome == -3 and inbox_id is not None:
            entry = key_of((await self._db.fetch(self._sql.entry_key, inbox_id))[0], 0)
            raise not_its_entry(inbox_id, entry, key)
        if outcome == 1:
            return Committed(version, queued(outbound, bodies, ids, others, now))
        if outcome == 0:
            raise version_conflict(key, version, conversation.version)
        if outcome == -1 and fence is not None:
            raise lease_lost(key, fence)
        if outcome == -2 and inbox_id is not None:
            raise already_done(inbox_id)
        raise StoreError(f"PostgreSQL store {self._db.describe()}: unexpected answer {outcome}")

    async def enqueue(
        self, outbound: Sequence[NewOutbound], *, now: float
    ) -> list[OutboundMessage]:
        """Queue messages sent outside a turn (notifications)."""
        self._db.opened()
        bodies = encode_bodies(outbound)
        if not outbound:
            return []
        batch = uuid.uuid4().hex
        args = queue_args(outbound, bodies)
        try:
            ids, others = await self._db.call(self._sql.queue, self.owner, float(now), *args, batch)
        except AnswerLost as lost:
            return await self._committed(outbound, batch, lost)
        return queued(outbound, bodies, ids, others, now)

    async def _committed(
        self, outbound: Sequence[NewOutbound], batch: str, lost: AnswerLost
    ) -> list[OutboundMessage]:
        """What a queueing write whose answer was lost committed (see :mod:`._pg_pool`),
        flagged ``after_others`` (no longer known); raises ``lost`` if it did not commit."""
        keys = list(dict.fromkeys(key_args(message.key) for message in outbound))
        rows = await self._db.committed(self._sql.batch, keys, batch, lost)
        return sorted((outbound_message(r, after_others=True) for r in rows), key=lambda m: m.id)

    async def pending_outbound(self, *, limit: int = 1000) -> list[OutboundMessage]:
        """Queued messages not yet sent or failed, in queue order."""
        self._db.opened()
        if limit <= 0:
            return []
        return [
            outbound_message(r) for r in await self._db.fetch(self._sql.pending_outbound, limit)
        ]

    async def claim_outbound(
        self, *, ttl: float, now: float, limit: int = 1000
    ) -> list[OutboundMessage]:
        """Renew this handle's claim until ``now + ttl``; take over dead senders' messages.

        Returns the messages taken over, in queue order (see :mod:`._pg_outbox`).
        """
        self._db.opened()
        if limit <= 0:
            return []
        rows = await self._db.fetch(
            self._sql.claim_outbound,
            self.owner,
            float(now),
            float(now + ttl),
            limit,
            float(now - SENDER_GC),
        )
        return sorted((outbound_message(r) for r in rows), key=lambda message: message.id)

    async def claim_earlier(
        self, message: OutboundMessage, *, now: float
    ) -> list[OutboundMessage] | None:
        """None while a live sender holds an earlier message of the conversation; else
        the earlier pending messages, taken over by this handle, in queue order."""
        async with self._db.connection() as conn:
            ids = await conn.fetchval(
                self._sql.claim_earlier, self.owner, float(now), message.id, *key_args(message.key)
            )
            if ids is None:
                return None
            if not ids:
                return []
            rows = await conn.fetch(self._sql.outbound_by_ids, ids)
        return [outbound_message(r) for r in rows]

    async def release_outbound(self) -> None:
        """End this handle's claim: its unsent messages are taken over by others at once."""
        async with self._db.connection() as conn:
            await conn.execute(self._sql.release_outbound, self.owner)

    async def mark_sent(self, outbound_id: int, message_uuid: str, *, now: float) -> None:
        """Record the Messages API's acceptance. Only a pending message changes."""
        await self._finish(outbound_id, "sent", to_db(message_uuid), None, now)

    async def mark_failed(self, outbound_id: int, error: str, *, now: float) -> None:
        """Record a terminal refusal. Only a pending message changes."""
        await self._finish(outbound_id, "failed", None, to_db(error), now)

    async def count_attempt(self, outbound_id: int) -> None:
        """Count one more refused attempt. Only a pending message changes."""
        await self._db.fetch(self._sql.count_attempt, outbound_id)

    async def _finish(
        self, outbound_id: int, status: str, message_uuid: str | None, error: str | None, now: float
    ) -> None:
        async with self._db.connection() as conn:
            await conn.execute(
                self._sql.finish, outbound_id, status, message_uuid, error, float(now), self.channel
            )

    async def due_timers(self, *, now: float, limit: int = 1000) -> list[DueTimer]:
        """Timers due at ``now`` or earlier, the earliest first (ties in key order)."""
        self._db.opened()
        if limit <= 0:
            return []
        rows = await self._db.fetch(self._sql.due_timers, float(now), limit)
        return [DueTimer(key_of(r, 0), from_db(r[3]), r[4]) for r in rows]

    async def put_files(self, files: Mapping[str, tuple[str, bytes]], *, now: float) -> None:
        """Keep files botkit serves (MMS vCards), all in one statement."""
        self._db.opened()
        if not files:
            return
        ids = [to_db(file_id) for file_id in files]
        types = [to_db(media_type) for media_type, _ in files.values()]
        contents = [bytes(content) for _, content in files.values()]
        async with self._db.connection() as conn:
            await conn.execute(self._sql.put_files, ids, types, contents, float(now))

    async def get_file(self, file_id: str) -> tuple[str, bytes] | None:
        """A kept file as ``(media_type, content)``, or None."""
        async with self._db.connection() as conn:
            row = await conn.fetchrow(self._sql.get_file, to_db(file_id))
        return None if row is None else (from_db(row[0]), bytes(row[1]))

    async def acquire_lease(
        self, key: ConversationKey, owner: str, *, ttl: float, now: float
    ) -> int | None:
        """A new fencing token for ``owner``, or None while another owner holds the lease.

        Expiry is judged on the callers' clocks (``now``), which must agree across hosts
        to well under the lease (NTP does). A refused ask marks the lease as waited for,
        so that its release is announced to the waiting processes.
        """
        args = key_args(key)
        async with self._db.connection() as conn:
            token = await conn.fetchval(
                self._sql.acquire_lease, *args, owner, float(now), float(now + ttl)
            )
            if token is None:
                await conn.execute(self._sql.lease_waited, *args)
                return None
        return int(token)

    async def release_lease(self, key: ConversationKey, token: int) -> bool:
        """Drop the lease if ``token`` is still current; True if dropped."""
        rows = await self._db.fetch(self._sql.release_lease, *key_args(key), token, self.channel)
        return bool(rows)

    async def prune(
        self, *, now: float, inbox_before: float, outbox_before: float, files_before: float
    ) -> dict[str, int]:
        """Delete finished inbox entries and outbound messages past retention, old dedupe
        keys and files, in bounded batches. Leases left by processes that died, expired
        :data:`LEASE_GC` seconds ago, go too (not counted)."""
        sql = self._sql
        async with self._db.connection() as conn:
            stop = await conn.fetchval(sql.first_inbox_at, float(inbox_before))
            inbox = await delete_in_batches(
                conn, sql.prune_inbox, float(inbox_before), prune_stop(stop)
            )
            stop = await conn.fetchval(sql.first_outbox_at, float(outbox_before))
            outbox = await delete_in_batches(
                conn, sql.prune_outbox, float(outbox_before), prune_stop(stop)
            )
            dedupe = await delete_in_batches(conn, sql.prune_dedupe, float(now - DEDUPE_RETENTION))
            files = int(await conn.fetchval(sql.prune_files, float(files_before)))
            await conn.execute(sql.prune_leases, float(now - LEASE_GC))
        return {"inbox": inbox, "outbox": outbox, "dedupe": dedupe, "files": files}

    async def forget(self, channel: str, user: str) -> int:
        """Delete the user's conversations, inbox and outbound entries, timers, leases and
        handoff marks, in one transaction."""
        removed = 0
        async with self._db.connection() as conn, conn.transaction():
            for statement in self._sql.forget:
                removed += int(await conn.fetchval(statement, to_db(channel), to_db(user)))
        return removed

    async def health(self) -> dict[str, Any]:
        """``{"ok", "store": "postgresql", "inbox_pending", "outbound_pending"}``.

        A failing server gives ``ok: False`` and an ``error`` rather than raising, for
        ``/healthz`` to report; calling before ``open()`` still raises.
        """
        self._db.opened()
        try:
            async with self._db.connection() as conn:
                inbox, outbox = one(await conn.fetchrow(self._sql.count_pending))
        except StoreError as exc:
            return {"ok": False, "store": "postgresql", "error": str(exc)}
        return {
            "ok": True,
            "store": "postgresql",
            "inbox_pending": inbox,
            "outbound_pending": outbox,
            "listening": self._db.listener is not None and self._db.listener.listening,
        }


if TYPE_CHECKING:

    def _is_a_store(store: PostgresStore) -> Store:
        return store
