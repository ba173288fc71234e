"""The Redis store's opt-out list.

Keys under the store's prefix ``P`` (``K`` a conversation key, see
:func:`~botkit.store._redis_records._member`)::

    P optouts         hash    K -> JSON [at, via]
    P optouts:order   zset    K, all scored 0: the list in K's byte order, for paging

:meth:`~botkit.store.redis.RedisStore.load` asks ``HEXISTS`` in the round trip that reads
the conversation; ``forget`` leaves both keys alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, cast

from botkit.store._codec import decode_json, encode_json
from botkit.store._redis_records import _key_of, _member
from botkit.store.base import ConversationKey
from botkit.store.optouts import OptOut

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["RedisOptOuts"]

# KEYS: optouts, optouts:order.  ARGV: K, JSON [at, via].  Returns 1 when added.
_ADD_LUA = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('ZADD', KEYS[2], 0, ARGV[1])
  return 1
end
return 0
"""


class RedisOptOuts:
    """The opt-out list in Redis; mixed into RedisStore."""

    prefix: str

    if TYPE_CHECKING:  # provided by RedisConnection

        def _keys(self, *names: str) -> list[str]: ...
        async def _run(self, lua: str, keys: list[str], args: list[Any]) -> Any: ...
        def _connected(self) -> AbstractContextManager[redis.asyncio.Redis]: ...

    async def opt_out(self, key: ConversationKey, *, at: float, via: str) -> bool:
        """Put the user on the list (a user already on it keeps the first record)."""
        record = encode_json([at, via], what="opt-out")
        keys = self._keys("optouts", "optouts:order")
        return bool(await self._run(_ADD_LUA, keys, [_member(key), record]))

    async def opt_in(self, key: ConversationKey) -> bool:
        """Take the user off the list; True when they were on it."""
        member = _member(key)
        with self._connected() as client:
            async with client.pipeline(transaction=True) as pipe:
                pipe.hdel(self.prefix + "optouts", member)
                pipe.zrem(self.prefix + "optouts:order", member)
                removed, _ = await pipe.execute()
        return bool(removed)

    async def opted_out(self, keys: Sequence[ConversationKey]) -> set[ConversationKey]:
        """Which of ``keys`` are on the list (one ``HMGET``)."""
        return set(await self.opted_out_at(keys))

    async def opted_out_at(self, keys: Sequence[ConversationKey]) -> dict[ConversationKey, float]:
        """When each of ``keys`` on the list opted out (one ``HMGET``)."""
        if not keys:
            return {}
        with self._connected() as client:
            found = cast("list[bytes | None]", await client.hmget(
                self.prefix + "optouts", [_member(k) for k in keys]))
        return {k: float(decode_json(value.decode())[0])
                for k, value in zip(keys, found, strict=True) if value is not None}

    async def opt_outs(
        self, *, after: ConversationKey | None = None, limit: int = 1000
    ) -> list[OptOut]:
        """The list in the byte order of ``K``, from just after ``after``."""
        if limit <= 0:
            return []
        start = "-" if after is None else "(" + _member(after)
        with self._connected() as client:
            members = cast("list[bytes]", await client.zrangebylex(
                self.prefix + "optouts:order", start, "+", start=0, num=limit))
            if not members:
                return []
            records = cast("list[bytes | None]",
                           await client.hmget(self.prefix + "optouts", members))
        listed = []
        for member, record in zip(members, records, strict=True):
            if record is not None:
                at, via = decode_json(record.decode())
                listed.append(OptOut(_key_of(member), float(at), via))
        return listed

    async def _load_with_optout(
        self, conversation: str, key: ConversationKey
    ) -> tuple[bytes | None, bytes | None, bool]:
        """The conversation hash's version and doc, and whether the user is on the list:
        one round trip."""
        with self._connected() as client:
            async with client.pipeline(transaction=False) as pipe:
                pipe.hmget(self.prefix + conversation, "version", "doc")
                pipe.hexists(self.prefix + "optouts", _member(key))
                (version, doc), opted = await pipe.execute()
        return version, doc, bool(opted)
