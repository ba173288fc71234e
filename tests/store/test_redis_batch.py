"""The Redis store's script calls made at once share a pipeline (ScriptBatch), and each
still gets exactly its own answer or error, as it would alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from botkit.errors import StoreError
from botkit.store import ConversationKey, NewInboxEntry
from botkit.store._redis_batch import ScriptBatch
from botkit.store.redis import RedisStore

NOW = 1_700_000_000.0
ECHO = "return {KEYS[1], ARGV[1]}"
FAILS_ON_BAD = "if ARGV[1] == 'bad' then return redis.error_reply('refused: ' .. ARGV[1]) end " \
               "return redis.call('INCR', KEYS[1])"


@pytest.fixture
async def client(url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(url)
    yield client
    await client.aclose()


def _error(exc: Exception) -> StoreError:
    return StoreError(f"wrapped: {exc}")


async def test_calls_made_at_once_each_get_their_own_answer(
    client: redis.asyncio.Redis, prefix: str
) -> None:
    batch = ScriptBatch(client, _error)
    script = client.register_script(ECHO)
    answers = await asyncio.gather(
        *(batch.run(script, [f"{prefix}k{n}"], [n]) for n in range(300))
    )
    assert answers == [[f"{prefix}k{n}".encode(), str(n).encode()] for n in range(300)]


async def test_a_scripts_error_is_its_callers_alone(
    client: redis.asyncio.Redis, prefix: str
) -> None:
    batch = ScriptBatch(client, _error)
    script = client.register_script(FAILS_ON_BAD)
    key = f"{prefix}counter"
    results = await asyncio.gather(
        batch.run(script, [key], ["ok"]),
        batch.run(script, [key], ["bad"]),
        batch.run(script, [key], ["ok"]),
        return_exceptions=True,
    )
    assert results[0] == 1 and results[2] == 2
    assert isinstance(results[1], StoreError) and "refused: bad" in str(results[1])
    await client.delete(key)


async def test_scripts_redis_forgot_are_loaded_and_run_once(
    client: redis.asyncio.Redis, prefix: str
) -> None:
    batch = ScriptBatch(client, _error)
    script = client.register_script(FAILS_ON_BAD + " -- " + prefix)  # a script of its own
    key = f"{prefix}counter"
    assert await batch.run(script, [key], ["ok"]) == 1
    await client.script_flush()  # as after a restart of Redis
    assert await asyncio.gather(*(batch.run(script, [key], ["ok"]) for _ in range(5))) == [
        2, 3, 4, 5, 6]  # each ran exactly once
    await client.delete(key)


async def test_redis_failing_fails_every_call_of_the_flush_with_a_store_error() -> None:
    client = redis.asyncio.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    batch = ScriptBatch(client, _error)
    script = client.register_script(ECHO)
    results = await asyncio.gather(
        *(batch.run(script, ["k"], [n]) for n in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, StoreError) and "wrapped" in str(r) for r in results)
    await client.aclose()


async def test_concurrent_accepts_through_the_store_keep_distinct_ids_and_dedupe(
    url: str, prefix: str
) -> None:
    store = RedisStore(url, prefix=prefix)
    await store.open()
    try:
        key = ConversationKey("sms", "447700900001", "447700900000")
        entries = [NewInboxEntry(f"m{n % 50}", key, "inbound", b"{}", NOW) for n in range(100)]
        ids = await asyncio.gather(*(store.accept(e) for e in entries))
        accepted = [i for i in ids if i is not None]
        assert sorted(accepted) == list(range(1, 51))  # one per dedupe key, none twice
        assert [e.id for e in await store.pending_inbox()] == list(range(1, 51))
    finally:
        await store.close()
