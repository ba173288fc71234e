"""The Redis store's part in human handoff: a user's history and the handoff index.

Keys under the store's prefix ``P`` (``K`` a conversation key, ``U`` its user part
``["channel","user",``, see :data:`~botkit.store._redis_lua.USER_FUNCTION`)::

    P hist:in:U     zset    the user's inbox ids on that channel (score = id)
    P hist:out:U    zset    the user's outbound ids on that channel (score = id)
    P handoffs      zset    K scored by when its handoff started

The history sets are written by the scripts that write the inbox and the outbox
(accept, the queue function), trimmed by pruning with the entries they name and deleted
by ``forget``; an empty set is gone, so they hold only what the streams still keep.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, cast

from botkit.store._codec import decode_json, encode_json
from botkit.store._redis_lua import ENTRIES_FUNCTION
from botkit.store._redis_records import _fields, _inbox_entries, _key_of, _member, _text
from botkit.store.base import ConversationKey, OutboundMessage
from botkit.store.handoff import HISTORY_LIMIT, HandoffMark, History, OutboundRecord

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["RedisHandoff", "user_part"]

# KEYS: hist:in:U, inbox, hist:out:U, outbox, outbox:done, outbox:attempts.  ARGV: limit.
# Returns {inbox entries, outbound entries, their outcomes (JSON or false)}, newest first;
# ids whose entry is gone are skipped.
_HISTORY_LUA = (
    ENTRIES_FUNCTION
    + """
local limit = tonumber(ARGV[1]) - 1
local inbox = entries_of(KEYS[2], redis.call('ZREVRANGE', KEYS[1], 0, limit))
local outbox = entries_of(KEYS[4], redis.call('ZREVRANGE', KEYS[3], 0, limit), KEYS[6])
local outcomes = {}
for i, entry in ipairs(outbox) do
  outcomes[i] = redis.call('HGET', KEYS[5], string.match(entry[1], '^(%d+)-'))
end
return {inbox, outbox, outcomes}
"""
)


def user_part(channel: str, user: str) -> str:
    """``U``: what every ``K`` of the user on the channel starts with."""
    return encode_json([channel, user], what="user")[:-1] + ","


def _records(entries: list[Any], outcomes: list[Any]) -> list[OutboundRecord]:
    records = []
    for entry, outcome in zip(entries, outcomes, strict=True):
        i, f = _fields(entry)
        message = OutboundMessage(i, _key_of(f[b"key"]), decode_json(f[b"body"].decode()),
                                  _text(f[b"ref"]), float(f[b"at"]),
                                  int(f.get(b"attempts", 0)))
        done = decode_json(outcome.decode()) if isinstance(outcome, bytes) else {}
        status = done.get("status", "pending")
        records.append(OutboundRecord(message, status, done.get("message_uuid"),
                                      done.get("error"), done.get("at")))
    return records[::-1]


class RedisHandoff:
    """History and the handoff index in Redis; mixed into RedisStore."""

    prefix: str

    if TYPE_CHECKING:  # provided by RedisConnection

        def _keys(self, *names: str) -> list[str]: ...

        async def _run(self, lua: str, keys: list[str], args: list[Any]) -> Any: ...

        def _opened(self) -> redis.asyncio.Redis: ...

        def _connected(self) -> AbstractContextManager[redis.asyncio.Redis]: ...

    async def history(self, channel: str, user: str, *, limit: int = HISTORY_LIMIT) -> History:
        """The user's newest entries and messages on ``channel``, oldest first."""
        self._opened()
        if limit <= 0:
            return History()
        u = user_part(channel, user)
        keys = self._keys(
            f"hist:in:{u}", "inbox", f"hist:out:{u}", "outbox", "outbox:done", "outbox:attempts"
        )
        inbox, outbox, outcomes = await self._run(_HISTORY_LUA, keys, [limit])
        return History(inbox=_inbox_entries(inbox)[::-1], outbox=_records(outbox, outcomes))

    async def mark_handoff(self, key: ConversationKey, *, since: float) -> None:
        """Add the conversation to the handoff index."""
        with self._connected() as client:
            await client.zadd(self.prefix + "handoffs", {_member(key): since})

    async def unmark_handoff(self, key: ConversationKey) -> None:
        """Take the conversation off the handoff index."""
        with self._connected() as client:
            await client.zrem(self.prefix + "handoffs", _member(key))

    async def handoffs(self, *, limit: int = 1000) -> list[HandoffMark]:
        """The handoff index, the longest handed off first (ties in ``K`` order)."""
        if limit <= 0:
            self._opened()
            return []
        with self._connected() as client:
            found = await client.zrange(self.prefix + "handoffs", 0, limit - 1, withscores=True)
        marks = cast("list[tuple[bytes, float]]", found)
        return [HandoffMark(_key_of(member), float(since)) for member, since in marks]

    async def _forget_handoff(self, channel: str, user: str) -> int:
        """Delete the user's history sets and handoff marks (part of ``forget``)."""
        u = user_part(channel, user)
        with self._connected() as client:
            members = cast("list[bytes]", await client.zrange(self.prefix + "handoffs", 0, -1))
            marks = [m for m in members if _text(m).startswith(u)]
            async with client.pipeline(transaction=True) as pipe:
                pipe.delete(*self._keys(f"hist:in:{u}", f"hist:out:{u}"))
                if marks:
                    pipe.zrem(self.prefix + "handoffs", *marks)
                await pipe.execute()
        return len(marks)
