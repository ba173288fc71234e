"""A store on Redis (redis-py asyncio): for several processes or hosts serving one bot.

Every key starts with the store's ``prefix`` (default ``botkit:``, written ``P`` below);
``K`` is a conversation key as a JSON array, ``["whatsapp","447700900001","447700900000"]``,
which no channel, user or bot string can make ambiguous::

    P conv:K          hash    version, doc (the conversation as _codec JSON), updated_at
    P dedupe:D        string  accepted_at; expires after DEDUPE_TTL (25 h > Vonage's 24 h)
    P inbox:seq       string  counter (INCR) handing out inbox ids 1, 2, 3, ...
    P inbox           stream  entry "<id>-0": key, dedupe, kind, body (raw bytes), at
    P inbox:pending   zset    unfinished inbox ids (score = id)
    P inbox:pending:K zset    the same, for one conversation (pending_for); gone when empty
    P outbox:seq      string  counter for outbound ids
    P outbox          stream  entry "<id>-0": key, ref (client_ref), body (JSON), at
    P outbox:pending  zset    outbound ids not yet sent or failed (score = id)
    P outbox:done     hash    id -> JSON {"status": "sent"|"failed", "message_uuid"|"error", "at"}
    P outbox:attempts hash    id -> refused attempts (see _redis_attempts)
    P timers          zset    K scored by the conversation's timer due time
    P hist:in:U, P hist:out:U, P handoffs
                      a user's history and the handoff index (see _redis_handoff)
    P timers:id       hash    K -> the timer's id
    P file:F          hash    media_type, content, created_at; expires after FILE_TTL
    P lease:seq       string  counter handing out fencing tokens (never reset)
    P lease:K         hash    owner, token, expires (the caller's clock); deleted on release,
                              and expires on Redis's clock after LEASE_GC past its last take
    P senders, P outbox:owner(s|:O), P outbox:pending:K
                      which process sends which pending message (see _redis_outbox)

Stream ids are the store's integer ids (``<id>-0``), so acceptance order, queue order and
stream order are one order. Finished work stays in the streams and ``outbox:done`` until
``prune()`` deletes it (``XDEL``, walking the streams from their oldest entry and stopping
at the retention cutoff); dedupe keys and files expire on their own. ``health()`` counts
with ``ZCARD`` (O(1)). Nothing here grows with every user ever seen but conversations
themselves: per-conversation pending sets vanish when empty, leases on release (or, when
their holder died, by expiry).

Atomicity: every write that spans keys is one Lua script (run with ``EVALSHA``), which
Redis executes without interleaving any other client's command, so concurrent processes
see all of it or none. Redis does not undo a script that fails halfway, so each script
checks first, then does the writes that can fail (``XADD`` with an explicit id), and only
then the writes that make data visible. ``prune()`` and ``forget()`` walk the streams in
steps of one script each (never holding Redis long); each step is atomic, the walk is not,
and running it again finishes it. Dedupe TTLs run on Redis's clock, not ``now``; a lease's
expiry is judged on the callers' clocks (``now``), which NTP keeps well within a lease.

Durability is the server's: an accepted webhook survives a Redis crash only with
``appendonly yes``; without persistence a restarted Redis starts empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from botkit.errors import StoreError
from botkit.store._codec import (
    already_done,
    conversation_doc,
    conversation_from_doc,
    decode_json,
    encode_bodies,
    encode_json,
    lease_lost,
    not_its_entry,
    version_conflict,
)
from botkit.store._redis_attempts import RedisAttempts
from botkit.store._redis_campaigns import RedisCampaigns
from botkit.store._redis_connection import RedisConnection, redact
from botkit.store._redis_handoff import RedisHandoff, user_part
from botkit.store._redis_lua import (
    ACCEPT_LUA,
    ACQUIRE_LEASE_LUA,
    DUE_TIMERS_LUA,
    FORGET_CONVERSATION_LUA,
    FORGET_INBOX_LUA,
    OPEN_DRAIN_LUA,
    PENDING_LUA,
    PRUNE_INBOX_LUA,
    PRUNE_OUTBOX_LUA,
    RELEASE_LEASE_LUA,
)
from botkit.store._redis_optouts import RedisOptOuts
from botkit.store._redis_outbox import (
    CLAIM_EARLIER_LUA,
    CLAIM_OUTBOUND_LUA,
    COMPLETE_TURN_LUA,
    ENQUEUE_LUA,
    FINISH_OUTBOUND_LUA,
    FORGET_OUTBOX_LUA,
    SENDER_GC,
)
from botkit.store._redis_records import (
    _glob_escape,
    _inbox_entries,
    _key_of,
    _member,
    _outbound,
    _text,
    _triples,
)
from botkit.store.base import (
    DEDUPE_RETENTION,
    FILE_RETENTION,
    Committed,
    Conversation,
    ConversationKey,
    DueTimer,
    InboxEntry,
    NewInboxEntry,
    NewOutbound,
    OpenedDrain,
    OutboundMessage,
    timer_of,
)

if TYPE_CHECKING:
    from botkit.store.base import DrainStore, Store

__all__ = ["DEDUPE_TTL", "FILE_TTL", "LEASE_GC", "RedisStore", "redact"]

DEDUPE_TTL = DEDUPE_RETENTION
"""Seconds a dedupe key lives: longer than Vonage's 24 hours of redelivery."""

FILE_TTL = FILE_RETENTION
"""Seconds a served file (MMS vCard) lives: the Messages API fetches it within minutes."""

LEASE_GC = 3600.0
"""Seconds (on Redis's clock) a lease key outlives its lease, if its holder never releases
it (a process that died): then it goes by itself, so dead leases never pile up."""

_OUTBOX = ("outbox:seq", "outbox", "outbox:pending")  # the keys QUEUE_FUNCTION is given
_WALK = 500  # stream entries per script call when pruning or forgetting


class RedisStore(RedisConnection, RedisHandoff, RedisOptOuts, RedisCampaigns, RedisAttempts):
    """A :class:`~botkit.store.base.Store` in one Redis database.

    Args:
        url: ``redis://[[user]:password@]host[:port][/db]`` or ``rediss://`` for TLS.
        prefix: put before every key, so several bots (or tests) can share a database.
        owner: this handle's name as a sender of queued messages; unique by default
            (host, process id and a random part). Two handles must never share one.
    """

    async def accept(self, entry: NewInboxEntry) -> int | None:
        """Commit the entry and its dedupe key; ``None`` for a dedupe key seen before."""
        member = _member(entry.key)
        keys = self._keys(
            f"dedupe:{entry.dedupe_key}",
            "inbox:seq",
            "inbox",
            "inbox:pending",
            f"inbox:pending:{member}",
            f"hist:in:{user_part(entry.key.channel, entry.key.user)}",
        )
        args = [DEDUPE_TTL, entry.accepted_at, entry.dedupe_key, member]
        inbox_id = await self._run(ACCEPT_LUA, keys, [*args, entry.kind, entry.body])
        return None if inbox_id is None else int(inbox_id)

    async def pending_inbox(self, *, after_id: int = 0, limit: int = 1000) -> list[InboxEntry]:
        """Unfinished inbox entries with ``id > after_id``, in acceptance order."""
        self._opened()
        if limit <= 0:
            return []
        keys = self._keys("inbox:pending", "inbox")
        return _inbox_entries(await self._run(PENDING_LUA, keys, [after_id, limit]))

    async def pending_for(self, key: ConversationKey, *, limit: int = 1000) -> list[InboxEntry]:
        """The conversation's unfinished inbox entries, in acceptance order."""
        self._opened()
        if limit <= 0:
            return []
        keys = self._keys(f"inbox:pending:{_member(key)}", "inbox")
        return _inbox_entries(await self._run(PENDING_LUA, keys, [0, limit]))

    async def load(self, key: ConversationKey) -> Conversation:
        """The stored conversation (a fresh copy), or a new one at version 0."""
        version, doc, opted_out = await self._load_with_optout(f"conv:{_member(key)}", key)
        loaded = Conversation(key) if version is None or doc is None else (
            conversation_from_doc(key, int(version), doc.decode("ascii")))
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
        release: bool = False,
    ) -> Committed:
        """Save the conversation, finish the inbox entry and queue the replies, atomically;
        with ``release`` (and ``fence``), drop the lease too when nothing of the
        conversation is pending any more (:class:`~botkit.store.base.DrainStore`).

        Raises:
            LeaseLost: ``fence`` is not the conversation's lease token; nothing was written.
            AlreadyDone: ``inbox_id`` is not pending; nothing was written.
            VersionConflict: the stored version is not ``conversation.version``; nothing
                was written.
            StoreError: the conversation or a body is not JSON-serialisable, the entry
                belongs to another conversation, or Redis failed.
        """
        doc = conversation_doc(conversation)
        bodies = encode_bodies(outbound)
        key, member = conversation.key, _member(conversation.key)
        timer_id, due = timer_of(conversation) or ("", "")
        keys = self._keys(
            f"conv:{member}",
            "inbox:pending",
            *_OUTBOX,
            "timers",
            "timers:id",
            f"inbox:pending:{member}",
            f"lease:{member}",
        )
        finished = "" if inbox_id is None else inbox_id
        args = [conversation.version, doc, now, finished, member, timer_id, due]
        args += ["" if fence is None else fence, self.owner, self.prefix, "1" if release else ""]
        args += _triples(outbound, bodies)
        version, *ids = await self._run(COMPLETE_TURN_LUA, keys, args)
        if version > 0:
            queued = self._queued(outbound, bodies, ids[1:], now)
            return Committed(version=version, outbound=queued, released=bool(ids[0]))
        if version == 0:
            raise version_conflict(key, ids[0], conversation.version)
        if version == -1 and fence is not None:
            raise lease_lost(key, fence)
        if version == -2 and inbox_id is not None:
            raise already_done(inbox_id)
        if inbox_id is not None:
            entry = await self._entry_key(inbox_id)
            raise not_its_entry(inbox_id, entry, key)
        raise StoreError(f"Redis store {redact(self.url)}: unexpected answer {version}")

    async def _entry_key(self, inbox_id: int) -> ConversationKey:
        """The conversation an inbox entry belongs to (for an error message)."""
        stream_id = f"{inbox_id}-0"
        with self._connected() as client:
            found = await client.xrange(self.prefix + "inbox", stream_id, stream_id)
        fields = found[0][1] if found else None
        member = fields.get(b"key") if fields else None
        return _key_of(member) if isinstance(member, bytes) else ConversationKey("?", "?", "?")

    async def enqueue(
        self, outbound: Sequence[NewOutbound], *, now: float
    ) -> list[OutboundMessage]:
        """Queue messages sent outside a turn (notifications)."""
        self._opened()
        bodies = encode_bodies(outbound)
        if not outbound:
            return []
        args = [now, self.owner, self.prefix, *_triples(outbound, bodies)]
        ids = await self._run(ENQUEUE_LUA, self._keys(*_OUTBOX), args)
        return self._queued(outbound, bodies, ids, now)

    @staticmethod
    def _queued(
        outbound: Sequence[NewOutbound], bodies: list[str], queued: list[int], now: float
    ) -> list[OutboundMessage]:
        """The queued messages, from the queue function's ``{id, after_others, ...}``."""
        return [
            OutboundMessage(
                int(i), m.key, decode_json(body), m.client_ref, now, after_others=bool(others)
            )
            for i, others, m, body in zip(queued[::2], queued[1::2], outbound, bodies, strict=True)
        ]

    async def pending_outbound(self, *, limit: int = 1000) -> list[OutboundMessage]:
        """Queued messages not yet sent or failed, in queue order."""
        self._opened()
        if limit <= 0:
            return []
        keys = self._keys("outbox:pending", "outbox", "outbox:attempts")
        return _outbound(await self._run(PENDING_LUA, keys, [0, limit]))

    async def claim_outbound(
        self, *, ttl: float, now: float, limit: int = 1000
    ) -> list[OutboundMessage]:
        """Renew this handle's claim until ``now + ttl``; take over dead senders' messages.

        Returns the messages taken over, in queue order (see :mod:`._redis_outbox`).
        """
        self._opened()
        if limit <= 0:
            return []
        keys = self._keys("senders", "outbox:owner", "outbox", "outbox:owners")
        args = [self.owner, now, repr(now + ttl), limit, self.prefix, repr(now - SENDER_GC)]
        return _outbound(await self._run(CLAIM_OUTBOUND_LUA, keys, args))

    async def claim_earlier(
        self, message: OutboundMessage, *, now: float
    ) -> list[OutboundMessage] | None:
        """None while a live sender holds an earlier message of the conversation; else
        the earlier pending messages, taken over by this handle, in queue order."""
        member = _member(message.key)
        keys = self._keys(
            "senders", "outbox:owner", f"outbox:pending:{member}", "outbox", "outbox:owners"
        )
        args = [self.owner, now, message.id, self.prefix]
        found = await self._run(CLAIM_EARLIER_LUA, keys, args)
        return None if found is None else _outbound(found)

    async def release_outbound(self) -> None:
        """End this handle's claim: its unsent messages are taken over by others at once."""
        with self._connected() as client:
            await client.zrem(self.prefix + "senders", self.owner)

    async def mark_sent(self, outbound_id: int, message_uuid: str, *, now: float) -> None:
        """Record the Messages API's acceptance. Only a pending message changes."""
        outcome = {"status": "sent", "message_uuid": message_uuid, "at": now}
        await self._finish(outbound_id, outcome)

    async def mark_failed(self, outbound_id: int, error: str, *, now: float) -> None:
        """Record a terminal refusal. Only a pending message changes."""
        await self._finish(outbound_id, {"status": "failed", "error": error, "at": now})

    async def _finish(self, outbound_id: int, outcome: dict[str, Any]) -> None:
        text = encode_json(outcome, what=f"outcome of outbound message {outbound_id}")
        keys = self._keys(
            "outbox:pending", "outbox:done", "outbox:owner", "outbox", "outbox:owners"
        )
        await self._run(FINISH_OUTBOUND_LUA, keys, [outbound_id, text, self.prefix])

    async def due_timers(self, *, now: float, limit: int = 1000) -> list[DueTimer]:
        """Timers due at ``now`` or earlier, the earliest first (ties in ``K`` order)."""
        self._opened()
        if limit <= 0:
            return []
        found = await self._run(DUE_TIMERS_LUA, self._keys("timers", "timers:id"), [now, limit])
        # A timer without its id (only if someone edited the keys) is skipped.
        return [DueTimer(_key_of(t[0]), _text(t[2]), float(t[1])) for t in found if len(t) == 3]

    async def put_files(self, files: Mapping[str, tuple[str, bytes]], *, now: float) -> None:
        """Keep files botkit serves (MMS vCards) for FILE_TTL, all in one transaction."""
        with self._connected() as client:
            async with client.pipeline(transaction=True) as pipe:
                for file_id, (media_type, content) in files.items():
                    (name,) = self._keys(f"file:{file_id}")
                    fields = {
                        "media_type": media_type,
                        "content": bytes(content),
                        "created_at": now,
                    }
                    pipe.hset(name, mapping=fields)  # type: ignore[arg-type]
                    pipe.expire(name, FILE_TTL)
                await pipe.execute()

    async def get_file(self, file_id: str) -> tuple[str, bytes] | None:
        """A kept file as ``(media_type, content)``, or None."""
        media_type, content = await self._hmget(f"file:{file_id}", "media_type", "content")
        if media_type is None or content is None:
            return None
        return _text(media_type), bytes(content)

    @property
    def shared(self) -> bool:
        """True: any number of processes and hosts may use one Redis store together."""
        return True

    async def acquire_lease(
        self, key: ConversationKey, owner: str, *, ttl: float, now: float
    ) -> int | None:
        """A new fencing token for ``owner``, or None while another owner holds the lease.

        Expiry is judged on the callers' clocks (``now``), which must agree across hosts
        to well under the lease (NTP does); the key itself also expires on Redis's clock
        :data:`LEASE_GC` seconds after the lease would, so a dead holder leaves nothing.
        """
        member = _member(key)
        keys = self._keys(f"lease:{member}", "lease:seq")
        gc_ms = max(1, int((ttl + LEASE_GC) * 1000))
        token = await self._run(ACQUIRE_LEASE_LUA, keys, [owner, now, repr(now + ttl), gc_ms])
        return None if token is None else int(token)

    async def open_drain(
        self, key: ConversationKey, owner: str, *, ttl: float, now: float, limit: int = 1000
    ) -> OpenedDrain | None:
        """Take the lease (as :meth:`acquire_lease`), and read the conversation's pending
        entries and the conversation, in one script."""
        member = _member(key)
        keys = self._keys(f"lease:{member}", "lease:seq", f"inbox:pending:{member}", "inbox",
                          f"conv:{member}", "optouts")
        gc_ms = max(1, int((ttl + LEASE_GC) * 1000))
        args = [owner, now, repr(now + ttl), gc_ms, max(limit, 0), member]
        found = await self._run(OPEN_DRAIN_LUA, keys, args)
        if found is None:
            return None
        token, entries, version, doc, opted_out = found
        if version is None or doc is None:
            conversation = Conversation(key)
        else:
            conversation = conversation_from_doc(key, int(version), doc.decode("ascii"))
        conversation.opted_out = bool(opted_out)  # as load() reads it
        return OpenedDrain(int(token), _inbox_entries(entries), conversation)

    async def release_lease(self, key: ConversationKey, token: int) -> bool:
        """Drop the lease if ``token`` is still current; True if dropped."""
        keys = self._keys(f"lease:{_member(key)}")
        return bool(await self._run(RELEASE_LEASE_LUA, keys, [token]))

    async def prune(
        self, *, now: float, inbox_before: float, outbox_before: float, files_before: float
    ) -> dict[str, int]:
        """Delete finished inbox entries and finished outbound messages past retention.

        Each script call walks :data:`_WALK` stream entries, so Redis is never held for
        long. Dedupe keys and files expire by their TTLs: their counts are 0.
        """
        inbox = await self._walk(
            PRUNE_INBOX_LUA, ["inbox", "inbox:pending"], inbox_before, self.prefix
        )
        outbox = await self._walk(
            PRUNE_OUTBOX_LUA, ["outbox", "outbox:done", "outbox:attempts"], outbox_before,
            self.prefix,
        )
        return {"inbox": inbox, "outbox": outbox, "dedupe": 0, "files": 0}

    async def _walk(self, lua: str, names: list[str], *args: Any) -> int:
        """Run a stream walk script until it reports it finished; returns the total deleted."""
        keys, start, total = self._keys(*names), "-", 0
        while True:
            deleted, last, finished = await self._run(lua, keys, [start, _WALK, *args])
            total += int(deleted)
            if finished:
                return total
            start = last.decode("ascii") if isinstance(last, bytes) else str(last)

    async def forget(self, channel: str, user: str) -> int:
        """Delete the user's conversations, inbox and outbound entries, timers, leases,
        history sets and handoff marks.

        Finds their conversations with ``SCAN`` and walks both streams whole: fine for an
        occasional request, and never holds Redis for more than one step of the walk.
        """
        # K is '["channel","user","bot"]': every key of this user starts the same way.
        opening = encode_json([channel, user], what="user")[:-1] + ","
        members: set[str] = set()
        with self._connected() as client:
            for name in ("conv:", "lease:", "inbox:pending:", "outbox:pending:"):
                pattern = _glob_escape(self.prefix + name + opening) + "*"
                async for found in client.scan_iter(match=pattern, count=1000):
                    members.add(_text(found).removeprefix(self.prefix + name))
        removed = 0
        for member in sorted(members):
            keys = self._keys(
                f"conv:{member}",
                "timers",
                "timers:id",
                f"lease:{member}",
                f"inbox:pending:{member}",
            )
            removed += int(await self._run(FORGET_CONVERSATION_LUA, keys, [member]))
        removed += await self._walk(FORGET_INBOX_LUA, ["inbox", "inbox:pending"], opening)
        removed += await self._walk(
            FORGET_OUTBOX_LUA,
            ["outbox", "outbox:pending", "outbox:done", "outbox:owner"],
            opening,
            self.prefix,
        )
        removed += await self._forget_campaigns(channel, user)
        return removed + await self._forget_handoff(channel, user)

    async def health(self) -> dict[str, Any]:
        """``{"ok", "store": "redis", "inbox_pending", "outbound_pending"}`` (two ZCARDs).

        A failing Redis gives ``ok: False`` and an ``error`` rather than raising, for
        ``/healthz`` to report; calling before ``open()`` still raises.
        """
        client = self._opened()
        try:
            async with client.pipeline(transaction=False) as pipe:
                for name in self._keys("inbox:pending", "outbox:pending"):
                    pipe.zcard(name)
                inbox, outbox = await pipe.execute()
        except RedisError as exc:
            error = f"Redis store {redact(self.url)}: {exc}"
            return {"ok": False, "store": "redis", "error": error}
        return {"ok": True, "store": "redis", "inbox_pending": inbox, "outbound_pending": outbox}


if TYPE_CHECKING:

    def _is_a_store(store: RedisStore) -> Store:
        return store

    def _opens_drains(store: RedisStore) -> DrainStore:
        return store
