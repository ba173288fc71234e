"""The Redis store's Lua scripts for the inbox, timers, leases, pruning and forgetting.

Each script is one atomic step of :class:`~botkit.store.redis.RedisStore` (Redis runs a
script without interleaving any other client's command); the key layout they work on is
described in :mod:`botkit.store.redis`. The outbox's scripts, which also decide which
process sends which reply, are in :mod:`botkit.store._redis_outbox`.
"""

from __future__ import annotations

__all__ = [
    "ACCEPT_LUA",
    "ACQUIRE_LEASE_LUA",
    "DUE_TIMERS_LUA",
    "ENTRIES_FUNCTION",
    "FIELD_FUNCTION",
    "FORGET_CONVERSATION_LUA",
    "FORGET_INBOX_LUA",
    "OPEN_DRAIN_LUA",
    "PENDING_LUA",
    "PRUNE_INBOX_LUA",
    "PRUNE_OUTBOX_LUA",
    "RELEASE_LEASE_LUA",
    "USER_FUNCTION",
    "WALK_FUNCTION",
]

# KEYS: dedupe key, inbox:seq, inbox, inbox:pending, inbox:pending:K, hist:in:U
# ARGV: ttl, accepted_at, dedupe key, K, kind, body
# Returns the new inbox id, or nil (None) for a redelivery. The dedupe key is checked
# first but set only after the XADD that may fail, so a failed accept leaves no key
# behind that would turn Vonage's retry into a "duplicate".
ACCEPT_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local id = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], id .. '-0', 'key', ARGV[4], 'dedupe', ARGV[3],
           'kind', ARGV[5], 'body', ARGV[6], 'at', ARGV[2])
redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[1])
redis.call('ZADD', KEYS[4], id, id)
redis.call('ZADD', KEYS[5], id, id)
redis.call('ZADD', KEYS[6], id, id)
return id
"""

# ``U``, the user part of a conversation key ``K``: ``["channel","user",`` (its text up
# to the comma before the bot). Inside an encoded string every quote is escaped, so the
# last ``","`` of K is that comma. The history sets ``hist:in:U`` and ``hist:out:U``
# are named with it.
USER_FUNCTION = """
local function user_of(member) return string.match(member, '^(.*",)"') end
"""


# The stream entries ``{stream id, {field, value...}}`` of the given ids, in their order;
# ids no longer in the stream are skipped. Given the outbox's ``attempts`` hash, an entry
# it counts refused attempts for gets an ``attempts`` field too.
ENTRIES_FUNCTION = """
local function entries_of(stream, ids, attempts)
  local entries = {}
  for _, id in ipairs(ids) do
    local found = redis.call('XRANGE', stream, id .. '-0', id .. '-0')
    if found[1] then
      local tries = attempts and redis.call('HGET', attempts, id)
      if tries then
        table.insert(found[1][2], 'attempts')
        table.insert(found[1][2], tries)
      end
      table.insert(entries, found[1])
    end
  end
  return entries
end
"""

# KEYS: a pending zset, its stream (and, for the outbox, outbox:attempts).
# ARGV: after id, limit.
# Returns the pending entries with id > after, in id order, as {stream id, {field, value...}}.
PENDING_LUA = (
    ENTRIES_FUNCTION
    + """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, ARGV[2])
return entries_of(KEYS[2], ids, KEYS[3])
"""
)

# KEYS: timers, timers:id.  ARGV: now, limit.
# Returns {K, due, timer id} for timers due at now or earlier, the earliest first.
DUE_TIMERS_LUA = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
local timers = {}
for i = 1, #due, 2 do
  table.insert(timers, {due[i], due[i + 1], redis.call('HGET', KEYS[2], due[i])})
end
return timers
"""

# KEYS[1]: lease:K, KEYS[2]: lease:seq.  ARGV: owner, now, expires, gc milliseconds.
# Returns a new token, or false while another owner's lease has not expired.
_ACQUIRE_FUNCTION = """
local function acquire()
  local held = redis.call('HMGET', KEYS[1], 'owner', 'expires')
  if held[1] and held[1] ~= ARGV[1] and tonumber(held[2]) > tonumber(ARGV[2]) then
    return false
  end
  local token = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', string.format('%d', token),
             'expires', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return token
end
"""

# KEYS: lease:K, lease:seq.  ARGV: owner, now, expires, gc milliseconds.
ACQUIRE_LEASE_LUA = _ACQUIRE_FUNCTION + "return acquire()\n"

# KEYS: lease:K, lease:seq, inbox:pending:K, inbox, conv:K, optouts
# ARGV: owner, now, expires, gc milliseconds, limit, K's opt-out field.
# Takes the lease as ACQUIRE_LEASE_LUA does; then returns {token, the conversation's
# pending entries (as PENDING_LUA), its version, its doc, 1 when the user is on the
# opt-out list}, or false while another owner holds the lease.
OPEN_DRAIN_LUA = (
    _ACQUIRE_FUNCTION
    + ENTRIES_FUNCTION
    + """
local token = acquire()
if not token then return false end
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '(0', '+inf', 'LIMIT', 0, ARGV[5])
local stored = redis.call('HMGET', KEYS[5], 'version', 'doc')
return {token, entries_of(KEYS[4], ids), stored[1], stored[2],
        redis.call('HEXISTS', KEYS[6], ARGV[6])}
"""
)

# KEYS: lease:K.  ARGV: token.  Returns 1 when the lease was this token's and is gone.
RELEASE_LEASE_LUA = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

FIELD_FUNCTION = """
local function field(fields, name)
  for i = 1, #fields, 2 do if fields[i] == name then return fields[i + 1] end end
end
"""

# One step of a walk through a stream in id order: from ARGV[1] (an exclusive start, '-'
# at first), ARGV[2] entries. ``visit(id, stream id, fields)`` returns how many records
# it deleted, or false to end the walk before that entry. Returns where to go on:
# {deleted, last id seen, finished}.
WALK_FUNCTION = (
    FIELD_FUNCTION
    + """
local function walk(stream, visit)
  local entries = redis.call('XRANGE', stream, ARGV[1], '+', 'COUNT', ARGV[2])
  local deleted, last = 0, ARGV[1]
  for _, entry in ipairs(entries) do
    local n = visit(string.match(entry[1], '^(%d+)-'), entry[1], entry[2])
    if n == false then return {deleted, last, 1} end
    deleted = deleted + n
    last = '(' .. entry[1]
  end
  return {deleted, last, #entries < tonumber(ARGV[2]) and 1 or 0}
end
"""
)

# KEYS: inbox, inbox:pending.  ARGV: start, count, cutoff, store prefix.
# Deletes finished entries accepted before the cutoff (and their place in their user's
# history); stops at the first one at or after.
PRUNE_INBOX_LUA = (
    WALK_FUNCTION
    + USER_FUNCTION
    + """
return walk(KEYS[1], function(id, stream_id, fields)
  if tonumber(field(fields, 'at')) >= tonumber(ARGV[3]) then return false end
  if redis.call('ZSCORE', KEYS[2], id) then return 0 end
  redis.call('ZREM', ARGV[4] .. 'hist:in:' .. user_of(field(fields, 'key')), id)
  return redis.call('XDEL', KEYS[1], stream_id)
end)
"""
)

# KEYS: outbox, outbox:done, outbox:attempts.  ARGV: start, count, cutoff, store prefix.
# Deletes sent or failed messages finished before the cutoff (and their place in their
# user's history); stops at the first message created at or after it (none after it can
# have finished earlier).
PRUNE_OUTBOX_LUA = (
    WALK_FUNCTION
    + USER_FUNCTION
    + """
return walk(KEYS[1], function(id, stream_id, fields)
  if tonumber(field(fields, 'at')) >= tonumber(ARGV[3]) then return false end
  local outcome = redis.call('HGET', KEYS[2], id)
  if not outcome or tonumber(cjson.decode(outcome)['at']) >= tonumber(ARGV[3]) then
    return 0
  end
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('ZREM', ARGV[4] .. 'hist:out:' .. user_of(field(fields, 'key')), id)
  return redis.call('XDEL', KEYS[1], stream_id)
end)
"""
)

# KEYS: inbox, inbox:pending.  ARGV: start, count, K prefix.
# Deletes the entries whose conversation key starts with the prefix (one user's),
# pending or not.
FORGET_INBOX_LUA = (
    WALK_FUNCTION
    + """
return walk(KEYS[1], function(id, stream_id, fields)
  if string.sub(field(fields, 'key'), 1, #ARGV[3]) ~= ARGV[3] then return 0 end
  redis.call('ZREM', KEYS[2], id)
  return redis.call('XDEL', KEYS[1], stream_id)
end)
"""
)

# KEYS: conv:K, timers, timers:id, lease:K, inbox:pending:K.  ARGV: K.
# Deletes one conversation's own keys; returns how many records went.
FORGET_CONVERSATION_LUA = """
local removed = redis.call('DEL', KEYS[1], KEYS[4])
removed = removed + redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[5])
return removed
"""
