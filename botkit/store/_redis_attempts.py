"""The Redis store's count of refused send attempts (``OutboundMessage.attempts``).

The outbox stream is append-only, so the count lives beside it in a small hash holding
only the messages refused at least once::

    P outbox:attempts   hash    outbound id -> refused attempts

Counting is the sender's failure path alone; a message sent at the first attempt never
touches the hash. The scripts that hand pending messages out (pending, the claims,
history) add the count to the entries they return; pruning and forgetting delete it with
the message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["RedisAttempts"]

# KEYS: outbox:pending, outbox:attempts.  ARGV: outbound id.
# Only a pending message is counted: a late count after its outcome changes nothing.
_COUNT_LUA = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
return redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
"""


class RedisAttempts:
    """Counting refused send attempts in Redis; mixed into RedisStore."""

    if TYPE_CHECKING:  # provided by RedisConnection

        def _keys(self, *names: str) -> list[str]: ...

        async def _run(self, lua: str, keys: list[str], args: list[Any]) -> Any: ...

    async def count_attempt(self, outbound_id: int) -> None:
        """Count one more refused attempt. Only a pending message changes."""
        await self._run(_COUNT_LUA, self._keys("outbox:pending", "outbox:attempts"), [outbound_id])
