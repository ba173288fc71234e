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
    P timers          zset    K scored by the conversation's timer due time
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

import os
import socket
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio
from redis.commands.core import AsyncScript
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
from botkit.store._redis_lua import (
    ACCEPT_LUA,
    ACQUIRE_LEASE_LUA,
    DUE_TIMERS_LUA,
    FORGET_CONVERSATION_LUA,
    FORGET_INBOX_LUA,
    PENDING_LUA,
    PRUNE_INBOX_LUA,
    PRUNE_OUTBOX_LUA,
    RELEASE_LEASE_LUA,
)
from botkit.store._redis_outbox import (
    CLAIM_EARLIER_LUA,
    CLAIM_OUTBOUND_LUA,
    FINISH_OUTBOUND_LUA,
    FORGET_OUTBOX_LUA,
    QUEUE_FUNCTION,
    SENDER_GC,
)
from botkit.store.base import (
    DEDUPE_RETENTION,
    FILE_RETENTION,
    Committed,
    Conversation,
    ConversationKey,
    DueTimer,
    EventKind,
    InboxEntry,
    NewInboxEntry,
    NewOutbound,
    OutboundMessage,
    timer_of,
)

if TYPE_CHECKING:
    from botkit.store.base import Store

__all__ = ["DEDUPE_TTL", "FILE_TTL", "LEASE_GC", "RedisStore", "redact"]

DEDUPE_TTL = DEDUPE_RETENTION
"""Seconds a dedupe key lives: longer than Vonage's 24 hours of redelivery."""

FILE_TTL = FILE_RETENTION
"""Seconds a served file (MMS vCard) lives: the Messages API fetches it within minutes."""

POOL_SIZE = 100
"""Connections per store handle (a ``max_connections`` in the URL's query wins)."""

POOL_TIMEOUT = 10.0
"""Seconds a command waits for a free connection before it fails (StoreError)."""

LEASE_GC = 3600.0
"""Seconds (on Redis's clock) a lease key outlives its lease, if its holder never releases
it (a process that died): then it goes by itself, so dead leases never pile up."""

# KEYS: conv:K, inbox:pending, outbox:seq, outbox, outbox:pending, timers, timers:id,
#       inbox:pending:K, lease:K
# ARGV: expected version, doc, now, inbox id or '', K, timer id or '', timer due,
#       fence or '', owner, prefix, then one (K, client_ref, body) triple per message
# Returns, with nothing written: {-1} when the lease is not the fence, {-2} when the inbox
# entry is not pending, {-3} when it is another conversation's, {0, stored version} when
# the compare-and-set loses. Else {new version, (outbound id, after_others)...}.
COMPLETE_TURN_LUA = (
    QUEUE_FUNCTION
    + """
if ARGV[8] ~= '' and redis.call('HGET', KEYS[9], 'token') ~= ARGV[8] then return {-1} end
if ARGV[4] ~= '' and not redis.call('ZSCORE', KEYS[8], ARGV[4]) then
  if redis.call('ZSCORE', KEYS[2], ARGV[4]) then return {-3} end
  return {-2}
end
local stored = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if stored ~= tonumber(ARGV[1]) then return {0, stored} end
local result = queue(KEYS[3], KEYS[4], KEYS[5], ARGV[3], 11, ARGV[9], ARGV[10])
table.insert(result, 1, stored + 1)
redis.call('HSET', KEYS[1], 'version', stored + 1, 'doc', ARGV[2], 'updated_at', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('ZREM', KEYS[2], ARGV[4])
  redis.call('ZREM', KEYS[8], ARGV[4])
end
if ARGV[6] == '' then
  redis.call('ZREM', KEYS[6], ARGV[5])
  redis.call('HDEL', KEYS[7], ARGV[5])
else
  redis.call('ZADD', KEYS[6], ARGV[7], ARGV[5])
  redis.call('HSET', KEYS[7], ARGV[5], ARGV[6])
end
return result
"""
)

# KEYS: outbox:seq, outbox, outbox:pending
# ARGV: now, owner, prefix, then one (K, client_ref, body) triple per message.
# Returns {id, after_others, ...} as the queue function does.
ENQUEUE_LUA = (
    QUEUE_FUNCTION + "return queue(KEYS[1], KEYS[2], KEYS[3], ARGV[1], 4, ARGV[2], ARGV[3])\n"
)

_OUTBOX = ("outbox:seq", "outbox", "outbox:pending")  # the keys QUEUE_FUNCTION is given
_WALK = 500  # stream entries per script call when pruning or forgetting


def redact(url: str) -> str:
    """``url`` with any password (in the user info or a ``password=`` query) masked."""
    parts = urlsplit(url)
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        netloc = f"{parts.username or ''}:***@{netloc.rpartition('@')[2]}"
    if "password=" in query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs])
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _member(key: ConversationKey) -> str:
    """``K``: the conversation key as an unambiguous, ASCII JSON array."""
    return encode_json([key.channel, key.user, key.bot], what=f"conversation key {key}")


def _key_of(member: bytes) -> ConversationKey:
    channel, user, bot = decode_json(member.decode("ascii"))
    return ConversationKey(channel, user, bot)


def _kind(value: bytes) -> EventKind:
    return cast(EventKind, value.decode("ascii"))


def _text(value: bytes) -> str:
    # surrogatepass mirrors the client's encoding, so lone surrogates round-trip.
    return value.decode("utf-8", "surrogatepass")


def _fields(entry: list[Any]) -> tuple[int, dict[bytes, bytes]]:
    """A stream entry ``[b"<id>-0", [field, value, ...]]`` as ``(id, {field: value})``."""
    stream_id, flat = entry
    return int(stream_id.partition(b"-")[0]), dict(zip(flat[::2], flat[1::2], strict=True))


def _inbox_entries(found: list[Any]) -> list[InboxEntry]:
    """Inbox entries from PENDING_LUA's answer."""
    return [
        InboxEntry(
            i,
            _text(f[b"dedupe"]),
            _key_of(f[b"key"]),
            _kind(f[b"kind"]),
            f[b"body"],
            float(f[b"at"]),
        )
        for i, f in map(_fields, found)
    ]


def _new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _outbound(found: list[Any]) -> list[OutboundMessage]:
    """Outbound messages from stream entries (a script's answer), in queue order.

    ``attempts`` is always 0: no method of the contract counts attempts.
    """
    messages = [
        OutboundMessage(
            i,
            _key_of(f[b"key"]),
            decode_json(f[b"body"].decode()),
            _text(f[b"ref"]),
            float(f[b"at"]),
        )
        for i, f in map(_fields, found)
    ]
    messages.sort(key=lambda message: message.id)
    return messages


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a ``SCAN MATCH`` pattern (``*?[]\\`` escaped)."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _triples(outbound: Sequence[NewOutbound], bodies: list[str]) -> list[str]:
    return [
        arg
        for message, body in zip(outbound, bodies, strict=True)
        for arg in (_member(message.key), message.client_ref, body)
    ]


class RedisStore:
    """A :class:`~botkit.store.base.Store` in one Redis database.

    Args:
        url: ``redis://[[user]:password@]host[:port][/db]`` or ``rediss://`` for TLS.
        prefix: put before every key, so several bots (or tests) can share a database.
        owner: this handle's name as a sender of queued messages; unique by default
            (host, process id and a random part). Two handles must never share one.
    """

    def __init__(self, url: str, *, prefix: str = "botkit:", owner: str | None = None) -> None:
        self.url = url
        self.prefix = prefix
        self._named = owner is not None
        self.owner = owner or _new_owner()
        """This handle's name as a sender (see :meth:`claim_outbound`): unique per handle."""
        self._client: redis.asyncio.Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}

    async def open(self) -> None:
        """Connect and check the server answers. Idempotent.

        Raises:
            StoreError: the URL is invalid or Redis does not answer; the message names
                the URL without its password.
        """
        if self._client is not None:
            return
        if not self._named and not self.owner.startswith(f"{socket.gethostname()}:{os.getpid()}:"):
            self.owner = _new_owner()  # a handle made before a fork: the child is another sender
        try:
            # A blocking pool: a command waits (up to POOL_TIMEOUT) for a free connection.
            # redis-py's default pool refuses at once past 100 connections, which a burst
            # of webhooks, turns and sends in one process reaches.
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                self.url,
                max_connections=POOL_SIZE,
                timeout=POOL_TIMEOUT,
                encoding_errors="surrogatepass",
            )
            client = redis.asyncio.Redis.from_pool(pool)
        except ValueError as exc:
            raise StoreError(f"invalid Redis store URL {redact(self.url)!r}: {exc}") from exc
        try:
            await client.ping()
        except BaseException as exc:
            await client.aclose()
            if isinstance(exc, RedisError):
                raise StoreError(f"cannot reach Redis at {redact(self.url)}: {exc}") from exc
            raise
        if self._client is not None:  # a concurrent open() won
            await client.aclose()
            return
        self._client, self._scripts = client, {}

    async def close(self) -> None:
        """Close the connection pool. Repeatable."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    @property
    def client(self) -> redis.asyncio.Redis:
        """The open redis-py client, for companions that keep their own keys under
        :attr:`prefix` (the shared send rate, say).

        Raises:
            StoreError: the store is not open.
        """
        return self._opened()

    def _opened(self) -> redis.asyncio.Redis:
        if self._client is None:
            raise StoreError(
                f"RedisStore({redact(self.url)!r}) is not open; call 'await store.open()' first"
            )
        return self._client

    @contextmanager
    def _connected(self) -> Iterator[redis.asyncio.Redis]:
        """The open client; any Redis error inside the block becomes StoreError."""
        client = self._opened()
        try:
            yield client
        except RedisError as exc:
            raise StoreError(f"Redis store {redact(self.url)}: {exc}") from exc

    def _keys(self, *names: str) -> list[str]:
        """Redis key names for the layout's names (``"inbox"`` -> ``"botkit:inbox"``)."""
        return [self.prefix + name for name in names]

    async def _run(self, lua: str, keys: list[str], args: list[Any]) -> Any:
        """Run a script (``EVALSHA``, loading it first if the server does not know it)."""
        with self._connected() as client:
            script = self._scripts.get(lua)
            if script is None:
                script = self._scripts[lua] = client.register_script(lua)
            return await script(keys=keys, args=args, client=client)

    async def _hmget(self, name: str, *fields: str) -> list[bytes | None]:
        """``HMGET`` of the hash ``name`` (a layout name); values are bytes, not decoded."""
        with self._connected() as client:
            return cast("list[bytes | None]", await client.hmget(self.prefix + name, fields))

    async def accept(self, entry: NewInboxEntry) -> int | None:
        """Commit the entry and its dedupe key; ``None`` for a dedupe key seen before."""
        member = _member(entry.key)
        keys = self._keys(
            f"dedupe:{entry.dedupe_key}",
            "inbox:seq",
            "inbox",
            "inbox:pending",
            f"inbox:pending:{member}",
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
        version, doc = await self._hmget(f"conv:{_member(key)}", "version", "doc")
        if version is None or doc is None:
            return Conversation(key)
        return conversation_from_doc(key, int(version), doc.decode("ascii"))

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
        args += ["" if fence is None else fence, self.owner, self.prefix]
        args += _triples(outbound, bodies)
        version, *ids = await self._run(COMPLETE_TURN_LUA, keys, args)
        if version > 0:
            return Committed(version=version, outbound=self._queued(outbound, bodies, ids, now))
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
        """Queued messages not yet sent or failed, in queue order.

        ``attempts`` is always 0: no method of the contract counts attempts.
        """
        self._opened()
        if limit <= 0:
            return []
        keys = self._keys("outbox:pending", "outbox")
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
        inbox = await self._walk(PRUNE_INBOX_LUA, ["inbox", "inbox:pending"], inbox_before)
        outbox = await self._walk(PRUNE_OUTBOX_LUA, ["outbox", "outbox:done"], outbox_before)
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
        """Delete the user's conversations, inbox and outbound entries, timers and leases.

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
        return removed

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
