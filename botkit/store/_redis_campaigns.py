"""The Redis store's part in broadcasts: campaigns and their recipients.

Keys under the store's prefix ``P``, for a campaign ``N`` (``L`` a recipient's line,
zero-padded to 20 digits so that members sort in line order; ``U`` a user's part, see
:func:`~botkit.store._redis_handoff.user_part`)::

    P camp:N:spec   string  {"spec": ..., "at": created_at}
    P camp:N:data   hash    L -> the recipient's channel, address and data (JSON), never
                            rewritten
    P camp:N:state  hash    L -> its state (JSON: s state, i interrupted, f deferred,
                            m message_uuid, r reason, v delivery, e delivery error)
    P camp:N:due    zset    L scored by when it is due, for the recipients not settled
    P camp:u:U      set     [N, L] of every recipient of the user on that channel (forget)

Every change of state is one script, so a take hands each recipient to one runner only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, cast

from botkit.store._codec import decode_json, encode_json
from botkit.store._redis_handoff import user_part
from botkit.store._redis_records import _text
from botkit.store.campaigns import (
    CampaignReport,
    Outcome,
    Recipient,
    TakenRecipient,
    TallyRow,
    tally,
)

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["RedisCampaigns"]

_ADD_BATCH = 1000  # recipients per script call: each call holds Redis for its length

# KEYS: spec, data, state, due.  ARGV: spec JSON, then 5 per recipient: L, data JSON,
# due, the user's set key, its member.  Returns how many were added.
_ADD_LUA = """
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local added = 0
for i = 2, #ARGV, 5 do
  if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('HSET', KEYS[3], ARGV[i], '{"s":"waiting","i":0,"f":0}')
    redis.call('ZADD', KEYS[4], ARGV[i + 2], ARGV[i])
    redis.call('SADD', ARGV[i + 3], ARGV[i + 4])
    added = added + 1
  end
end
return added
"""

# KEYS: data, state, due.  ARGV: now, until, limit.  Returns {L, data JSON, interrupted}s.
_TAKE_LUA = """
local lines = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local out = {}
for _, line in ipairs(lines) do
  local doc = cjson.decode(redis.call('HGET', KEYS[2], line))
  if doc.s == 'sending' then doc.i = doc.i + 1 end
  doc.s = 'sending'
  redis.call('HSET', KEYS[2], line, cjson.encode(doc))
  redis.call('ZADD', KEYS[3], ARGV[2], line)
  out[#out + 1] = {line, redis.call('HGET', KEYS[1], line), doc.i}
end
return out
"""

# KEYS: state, due.  Returns how many went back.
_RESTART_LUA = """
local count = 0
for _, line in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local doc = cjson.decode(redis.call('HGET', KEYS[1], line))
  if doc.s == 'sending' then
    doc.s = 'waiting'
    doc.i = doc.i + 1
    redis.call('HSET', KEYS[1], line, cjson.encode(doc))
    redis.call('ZADD', KEYS[2], 0, line)
    count = count + 1
  end
end
return count
"""

# KEYS: state, due.  ARGV: 4 per outcome: L, state, detail, due.
_SETTLE_LUA = """
for i = 1, #ARGV, 4 do
  local line = ARGV[i]
  local found = redis.call('HGET', KEYS[1], line)
  if found then
    local doc = cjson.decode(found)
    if doc.s == 'sending' then
      local state = ARGV[i + 1]
      if state == 'deferred' then
        doc.s = 'waiting'
        doc.f = 1
        redis.call('ZADD', KEYS[2], ARGV[i + 3], line)
      else
        doc.s = state
        if state == 'sent' then doc.m = ARGV[i + 2] else doc.r = ARGV[i + 2] end
        redis.call('ZREM', KEYS[2], line)
      end
      redis.call('HSET', KEYS[1], line, cjson.encode(doc))
    end
  end
end
return 0
"""

# KEYS: state.  ARGV: L, status, error.  Returns 1 when the recipient was sent.
_DELIVERY_LUA = """
local found = redis.call('HGET', KEYS[1], ARGV[1])
if not found then return 0 end
local doc = cjson.decode(found)
if doc.s ~= 'sent' then return 0 end
local rank = {delivered = 1, read = 2, failed = 3}
local map = {delivered = 'delivered', read = 'read', rejected = 'failed',
             undeliverable = 'failed', failed = 'failed'}
local new = map[ARGV[2]]
if new and rank[new] > (rank[doc.v or ''] or 0) then
  doc.v = new
  if new == 'failed' then doc.e = ARGV[3] end
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(doc))
end
return 1
"""

# KEYS: the user's set.  ARGV: the prefix.  Returns how many recipients went.
_FORGET_LUA = """
local count = 0
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local ref = cjson.decode(member)
  local base = ARGV[1] .. 'camp:' .. ref[1]
  count = count + redis.call('HDEL', base .. ':data', ref[2])
  redis.call('HDEL', base .. ':state', ref[2])
  redis.call('ZREM', base .. ':due', ref[2])
end
redis.call('DEL', KEYS[1])
return count
"""


def _line(line: int) -> str:
    return f"{line:020d}"


class RedisCampaigns:
    """Campaigns in Redis; mixed into RedisStore."""

    prefix: str

    if TYPE_CHECKING:  # provided by RedisConnection

        def _keys(self, *names: str) -> list[str]: ...

        async def _run(self, lua: str, keys: list[str], args: list[Any]) -> Any: ...

        def _opened(self) -> redis.asyncio.Redis: ...

        def _connected(self) -> AbstractContextManager[redis.asyncio.Redis]: ...

    def _campaign_keys(self, name: str, *parts: str) -> list[str]:
        return self._keys(*(f"camp:{name}:{part}" for part in parts))

    async def campaign_add(
        self, name: str, spec: Mapping[str, Any], recipients: Sequence[Recipient], *, now: float
    ) -> int:
        """Create the campaign if new and add the recipients it does not have yet."""
        keys = self._campaign_keys(name, "spec", "data", "state", "due")
        head = encode_json({"spec": dict(spec), "at": now}, what="spec")
        added = 0
        for start in range(0, max(len(recipients), 1), _ADD_BATCH):
            args: list[Any] = [head]
            for r in recipients[start:start + _ADD_BATCH]:
                line = _line(r.line)
                data = encode_json([r.channel, r.to, r.data], what="recipient data")
                user_set = self.prefix + "camp:u:" + user_part(r.channel, r.to)
                args += [line, data, repr(float(r.due)), user_set,
                         encode_json([name, line], what="campaign")]
            added += int(await self._run(_ADD_LUA, keys, args))
        return added

    async def _head(self, name: str) -> dict[str, Any] | None:
        with self._connected() as client:
            found = await client.get(self.prefix + f"camp:{name}:spec")
        return None if found is None else dict(decode_json(_text(cast("bytes", found))))

    async def campaign_spec(self, name: str) -> dict[str, Any] | None:
        """The campaign's spec, or None."""
        head = await self._head(name)
        return None if head is None else dict(head["spec"])

    async def campaign_take(
        self, name: str, *, now: float, lease: float, limit: int
    ) -> list[TakenRecipient]:
        """Due recipients, the earliest first, now in flight until ``now + lease``."""
        if limit <= 0:
            self._opened()
            return []
        keys = self._campaign_keys(name, "data", "state", "due")
        found = await self._run(_TAKE_LUA, keys, [repr(float(now)), repr(float(now + lease)),
                                                 limit])
        taken = []
        for line, data, interrupted in found:
            channel, to, values = decode_json(_text(data))
            taken.append(TakenRecipient(Recipient(int(line), channel, to, values),
                                        int(interrupted)))
        return taken

    async def campaign_restart(self, name: str) -> int:
        """Every recipient in flight back to waiting, counted as interrupted."""
        keys = self._campaign_keys(name, "state", "due")
        return int(await self._run(_RESTART_LUA, keys, []))

    async def campaign_settle(
        self, name: str, outcomes: Sequence[Outcome], *, now: float
    ) -> None:
        """Record the outcomes of recipients in flight."""
        if not outcomes:
            return
        args: list[Any] = []
        for o in outcomes:
            args += [_line(o.line), o.state, o.detail, repr(float(o.due))]
        await self._run(_SETTLE_LUA, self._campaign_keys(name, "state", "due"), args)

    async def campaign_delivery(
        self, name: str, line: int, status: str, *, error: str = ""
    ) -> bool:
        """Record a status webhook about a sent recipient."""
        keys = self._campaign_keys(name, "state")
        return bool(await self._run(_DELIVERY_LUA, keys, [_line(line), status, error]))

    async def campaign_report(self, name: str) -> CampaignReport | None:
        """Counts by state, reason and delivery."""
        head = await self._head(name)
        if head is None:
            return None
        state_key, due_key = self._campaign_keys(name, "state", "due")
        with self._connected() as client:
            states = cast("dict[bytes, bytes]", await client.hgetall(state_key))
            dues = dict(cast("list[tuple[bytes, float]]",
                             await client.zrange(due_key, 0, -1, withscores=True)))
        rows = []
        for line, raw in states.items():
            doc = decode_json(raw.decode())
            rows.append(TallyRow(doc["s"], doc.get("r", ""), doc.get("v", ""), doc.get("e", ""),
                                 bool(doc.get("f")), doc.get("i", 0) > 0,
                                 float(dues.get(line, 0.0))))
        return tally(name, dict(head["spec"]), float(head["at"]), rows)

    async def _forget_campaigns(self, channel: str, user: str) -> int:
        """Delete the user's recipients of every campaign (part of ``forget``)."""
        key = self.prefix + "camp:u:" + user_part(channel, user)
        return int(await self._run(_FORGET_LUA, [key], [self.prefix]))

