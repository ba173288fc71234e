"""The Redis store's outbox: the scripts that queue replies (a turn's, or sent outside a
turn) and decide which process sends which queued reply.

Several processes share one Redis store, and each sends the replies it queued. A reply
left unsent by a process that died must be sent by another, soon, and exactly the
replies of dead processes: taking a live process's reply would send it twice. So every
store handle is a *sender* with a name (its ``owner``), and every pending message has an
owner. A sender keeps a *claim* alive (a deadline in ``senders``, renewed every few
seconds by :meth:`~botkit.store.redis.RedisStore.claim_outbound`); once the deadline
passes, or for an owner that never claimed (a script that queued and exited), any
sender may take its messages over. Deadlines are judged on the callers' clocks, like
conversation leases.

Replies of one conversation go out in queue order even across processes: a message
queued while an earlier message of its conversation is pending under another owner, or
was taken over from one, is flagged (``after_others``), and its sender first asks
:data:`CLAIM_EARLIER_LUA`, which answers "wait" while that owner lives and hands the
earlier messages over (in order, to send first) once it is dead. Taken-over messages
count too because the sender learns of them from a concurrent call whose answer may
arrive after the one that queued the later message.

Keys, beyond those in :mod:`botkit.store.redis` (``P`` the prefix, ``K`` a conversation)::

    P senders           zset    owner -> claim deadline (the callers' clock)
    P outbox:owners     set     owners that may own pending messages
    P outbox:owner      hash    pending outbound id -> its owner
    P outbox:taken      set     pending outbound ids taken over from another owner
    P outbox:owned:O    zset    owner O's pending outbound ids (score = id); gone when empty
    P outbox:pending:K  zset    K's pending outbound ids (score = id); gone when empty
    P outbox:attempts   hash    outbound id -> refused attempts (ids refused at least once;
                                see :mod:`._redis_attempts`)

Per-owner and per-conversation keys are named inside the scripts from the prefix (an
argument): the store runs on one Redis server, never a cluster.
"""

from __future__ import annotations

from botkit.store._redis_lua import (
    ENTRIES_FUNCTION,
    FIELD_FUNCTION,
    USER_FUNCTION,
    WALK_FUNCTION,
)

__all__ = [
    "CLAIM_EARLIER_LUA",
    "CLAIM_OUTBOUND_LUA",
    "COMPLETE_TURN_LUA",
    "ENQUEUE_LUA",
    "FINISH_OUTBOUND_LUA",
    "FORGET_OUTBOX_LUA",
    "QUEUE_FUNCTION",
    "SENDER_GC",
]

SENDER_GC = 24 * 3600.0
"""Seconds after its deadline a sender owning nothing is forgotten (``senders`` stays small
however often processes restart)."""


# Queue the (K, client_ref, body) triples found in ARGV from index ``first`` on, created
# at ``at``, owned by ``owner``. Returns {id, after_others, id, after_others, ...}:
# after_others is 1 when, before this call, K had a pending message another owner holds
# or one taken over from another owner.
QUEUE_FUNCTION = USER_FUNCTION + """
local function queue(seq, stream, pending, at, first, owner, prefix)
  local result, others, members = {}, {}, {}
  for i = first, #ARGV, 3 do
    local member = ARGV[i]
    if others[member] == nil then
      others[member] = 0
      for _, id in ipairs(redis.call('ZRANGE', prefix .. 'outbox:pending:' .. member, 0, -1)) do
        if redis.call('HGET', prefix .. 'outbox:owner', id) ~= owner
            or redis.call('SISMEMBER', prefix .. 'outbox:taken', id) == 1 then
          others[member] = 1
          break
        end
      end
    end
    local id = redis.call('INCR', seq)
    redis.call('XADD', stream, id .. '-0', 'key', member, 'ref', ARGV[i + 1],
               'body', ARGV[i + 2], 'at', at)
    table.insert(result, id)
    table.insert(result, others[member])
    table.insert(members, member)
  end
  for j, member in ipairs(members) do
    local id = result[2 * j - 1]
    redis.call('ZADD', pending, id, id)
    redis.call('ZADD', prefix .. 'outbox:pending:' .. member, id, id)
    redis.call('ZADD', prefix .. 'hist:out:' .. user_of(member), id, id)
    redis.call('HSET', prefix .. 'outbox:owner', id, owner)
    redis.call('ZADD', prefix .. 'outbox:owned:' .. owner, id, id)
  end
  if #members > 0 then redis.call('SADD', prefix .. 'outbox:owners', owner) end
  return result
end
"""

# KEYS: outbox:pending, outbox:done, outbox:owner, outbox, outbox:owners
# ARGV: outbound id, outcome JSON, prefix
# Only a pending message changes: the first terminal state wins, whoever sent it.
FINISH_OUTBOUND_LUA = (
    FIELD_FUNCTION
    + """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('SREM', ARGV[3] .. 'outbox:taken', ARGV[1])
local owner = redis.call('HGET', KEYS[3], ARGV[1])
if owner then
  redis.call('HDEL', KEYS[3], ARGV[1])
  local owned = ARGV[3] .. 'outbox:owned:' .. owner
  redis.call('ZREM', owned, ARGV[1])
  if redis.call('EXISTS', owned) == 0 then redis.call('SREM', KEYS[5], owner) end
end
local found = redis.call('XRANGE', KEYS[4], ARGV[1] .. '-0', ARGV[1] .. '-0')
if found[1] then
  redis.call('ZREM', ARGV[3] .. 'outbox:pending:' .. field(found[1][2], 'key'), ARGV[1])
end
return 1
"""
)

# Move pending message ``id`` from owner ``from`` to ``to`` (a helper of the claims below).
_TAKE_FUNCTION = """
local function take(prefix, owner_hash, id, from, to)
  redis.call('HSET', owner_hash, id, to)
  redis.call('SADD', prefix .. 'outbox:taken', id)
  redis.call('ZREM', prefix .. 'outbox:owned:' .. from, id)
  redis.call('ZADD', prefix .. 'outbox:owned:' .. to, id, id)
end
"""

# KEYS: senders, outbox:owner, outbox, outbox:owners
# ARGV: owner, now, deadline, limit, prefix, forget senders older than this
# Renews the owner's claim, then takes over (up to limit) the pending messages of owners
# whose claim expired or who never claimed. Returns the taken stream entries.
CLAIM_OUTBOUND_LUA = (
    ENTRIES_FUNCTION
    + _TAKE_FUNCTION
    + """
local me, now, limit, prefix = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[4]), ARGV[5]
redis.call('ZADD', KEYS[1], ARGV[3], me)
local taken = {}
for _, owner in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  if #taken >= limit then break end
  if owner ~= me then
    local deadline = redis.call('ZSCORE', KEYS[1], owner)
    if not deadline or tonumber(deadline) < now then
      local owned = prefix .. 'outbox:owned:' .. owner
      for _, id in ipairs(redis.call('ZRANGE', owned, 0, limit - #taken - 1)) do
        take(prefix, KEYS[2], id, owner, me)
        table.insert(taken, id)
      end
      if redis.call('EXISTS', owned) == 0 then redis.call('SREM', KEYS[4], owner) end
    end
  end
end
if #taken > 0 then redis.call('SADD', KEYS[4], me) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[6])
return entries_of(KEYS[3], taken, prefix .. 'outbox:attempts')
"""
)

# KEYS: senders, outbox:owner, outbox:pending:K, outbox, outbox:owners
# ARGV: owner, now, the message's id, prefix
# false while an earlier pending message of K belongs to another owner with a live claim;
# else takes every earlier pending message of K over and returns them (stream entries).
CLAIM_EARLIER_LUA = (
    ENTRIES_FUNCTION
    + _TAKE_FUNCTION
    + """
local me, now, prefix = ARGV[1], tonumber(ARGV[2]), ARGV[4]
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[3])
local owners = {}
for i, id in ipairs(ids) do
  local owner = redis.call('HGET', KEYS[2], id) or ''
  owners[i] = owner
  if owner ~= me then
    local deadline = redis.call('ZSCORE', KEYS[1], owner)
    if deadline and tonumber(deadline) >= now then return false end
  end
end
for i, id in ipairs(ids) do
  if owners[i] ~= me then
    take(prefix, KEYS[2], id, owners[i], me)
    redis.call('SADD', KEYS[5], me)
  end
end
return entries_of(KEYS[4], ids, prefix .. 'outbox:attempts')
"""
)

# KEYS: outbox, outbox:pending, outbox:done, outbox:owner.  ARGV: start, count, K prefix,
# store prefix. Deletes the outbound messages whose conversation key starts with the K
# prefix (one user's), wherever they are in their life, with their ownership records;
# returns {deleted, last id seen, finished}.
FORGET_OUTBOX_LUA = (
    WALK_FUNCTION
    + """
return walk(KEYS[1], function(id, stream_id, fields)
  local key = field(fields, 'key')
  if string.sub(key, 1, #ARGV[3]) ~= ARGV[3] then return 0 end
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', ARGV[4] .. 'outbox:attempts', id)
  redis.call('SREM', ARGV[4] .. 'outbox:taken', id)
  local owner = redis.call('HGET', KEYS[4], id)
  if owner then
    redis.call('HDEL', KEYS[4], id)
    redis.call('ZREM', ARGV[4] .. 'outbox:owned:' .. owner, id)
  end
  redis.call('DEL', ARGV[4] .. 'outbox:pending:' .. key)
  return redis.call('XDEL', KEYS[1], stream_id)
end)
"""
)


# KEYS: conv:K, inbox:pending, outbox:seq, outbox, outbox:pending, timers, timers:id,
#       inbox:pending:K, lease:K
# ARGV: expected version, doc, now, inbox id or '', K, timer id or '', timer due,
#       fence or '', owner, prefix, release ('1' or ''), then one (K, client_ref, body)
#       triple per message
# Returns, with nothing written: {-1} when the lease is not the fence, {-2} when the inbox
# entry is not pending, {-3} when it is another conversation's, {0, stored version} when
# the compare-and-set loses. Else {new version, released, (outbound id, after_others)...}:
# with release and a fence, the lease is dropped when no entry of K is pending any more.
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
local result = queue(KEYS[3], KEYS[4], KEYS[5], ARGV[3], 12, ARGV[9], ARGV[10])
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
local released = 0
if ARGV[11] == '1' and ARGV[8] ~= '' and redis.call('EXISTS', KEYS[8]) == 0 then
  redis.call('DEL', KEYS[9])
  released = 1
end
table.insert(result, 1, released)
table.insert(result, 1, stored + 1)
return result
"""
)

# KEYS: outbox:seq, outbox, outbox:pending
# ARGV: now, owner, prefix, then one (K, client_ref, body) triple per message.
# Returns {id, after_others, ...} as the queue function does.
ENQUEUE_LUA = (
    QUEUE_FUNCTION + "return queue(KEYS[1], KEYS[2], KEYS[3], ARGV[1], 4, ARGV[2], ARGV[3])\n"
)
