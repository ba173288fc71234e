"""Redis-specific behaviour: the URL, the key layout, expiry, errors and other processes."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

import botkit
from botkit.errors import AlreadyDone, ConfigError, StoreError, VersionConflict
from botkit.store import Conversation, ConversationKey, NewInboxEntry, NewOutbound, open_store
from botkit.store.redis import DEDUPE_TTL, FILE_TTL, LEASE_GC, RedisStore, redact

from .conftest import delete_prefixed, unique_prefix

KEY = ConversationKey("whatsapp", "447700900001", "447700900000")
NOW = 1_700_000_000.0


def inbound(dedupe_key: str) -> NewInboxEntry:
    return NewInboxEntry(dedupe_key, KEY, "inbound", b'{"text":"hi"}', NOW)


def reply(text: str) -> NewOutbound:
    return NewOutbound(KEY, {"message_type": "text", "text": text}, f"ref-{text}")


@pytest.fixture
async def store(url: str, prefix: str) -> AsyncIterator[RedisStore]:
    store = RedisStore(url, prefix=prefix)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


# -- the URL -------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["redis://localhost:6379/0", "rediss://:pw@cache.example:6380/2"])
def test_open_store_builds_a_redis_store(url: str) -> None:
    store = open_store(url)
    assert isinstance(store, RedisStore)
    assert (store.url, store.prefix) == (url, "botkit:")


@pytest.mark.parametrize(
    ("url", "expected", "prefix"),
    [
        ("redis://localhost:6379/0?prefix=bot-a:", "redis://localhost:6379/0", "bot-a:"),
        (
            "rediss://:pw@host/2?socket_timeout=5&prefix=t%3A1:",
            "rediss://:pw@host/2?socket_timeout=5",
            "t:1:",
        ),
    ],
)
def test_the_url_may_name_the_key_prefix(url: str, expected: str, prefix: str) -> None:
    store = open_store(url)
    assert isinstance(store, RedisStore)
    assert (store.url, store.prefix) == (expected, prefix)


def test_an_empty_prefix_is_refused() -> None:
    with pytest.raises(ConfigError, match="prefix"):
        open_store("redis://localhost:6379/0?prefix=")


def test_open_store_without_redis_py_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # makes "import redis" fail
    importing_redis = ("botkit.store.redis", "botkit.store._redis")
    for name in [m for m in sys.modules if m.startswith(importing_redis)]:
        monkeypatch.delitem(sys.modules, name)  # as if never imported, on a machine without it

    with pytest.raises(ConfigError, match=r"pip install 'botkit\[redis\]'"):
        open_store("redis://localhost:6379/0")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://localhost:6379/0", "redis://localhost:6379/0"),
        ("redis://:s3cret@host:6379/1", "redis://:***@host:6379/1"),
        ("rediss://bot:s3cret@host/0", "rediss://bot:***@host/0"),
        ("redis://host/0?password=s3cret&db=2", "redis://host/0?password=%2A%2A%2A&db=2"),
    ],
)
def test_redact_hides_passwords(url: str, shown: str) -> None:
    assert redact(url) == shown


async def test_open_fails_with_the_url_but_not_the_password() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = RedisStore(f"redis://:s3cret@127.0.0.1:{port}/0")

    with pytest.raises(
        StoreError, match=rf"cannot reach Redis at redis://:\*\*\*@127.0.0.1:{port}/0"
    ) as info:
        await store.open()

    assert "s3cret" not in str(info.value)
    with pytest.raises(StoreError, match=r"open\(\)"):
        await store.load(KEY)
    await store.close()


async def test_an_invalid_url_fails_on_open() -> None:
    with pytest.raises(StoreError, match="invalid Redis store URL 'redis://host:port/0'"):
        await RedisStore("redis://host:port/0").open()


# -- the layout ----------------------------------------------------------------------


async def test_keys_follow_the_documented_layout(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    inbox_id = await store.accept(inbound("m-1"))
    pending_id = await store.accept(inbound("m-2"))
    conversation = Conversation(KEY, meta={"timer": {"id": "t1", "due": NOW + 60}})
    turn = await store.complete_turn(inbox_id, conversation, [reply("a"), reply("b")], now=NOW)
    await store.mark_sent(turn.outbound[0].id, "uuid-a", now=NOW + 1)
    await store.put_files({"f1": ("text/vcard", b"BEGIN:VCARD")}, now=NOW)
    token = await store.acquire_lease(KEY, "worker-1", ttl=60, now=NOW)

    k = '["whatsapp","447700900001","447700900000"]'
    types = {str(key).removeprefix(prefix): raw.type(key) for key in raw.scan_iter(f"{prefix}*")}
    assert types == {
        f"conv:{k}": "hash",
        f"inbox:pending:{k}": "zset",
        f"lease:{k}": "hash",
        "lease:seq": "string",
        "dedupe:m-1": "string",
        "dedupe:m-2": "string",
        "inbox:seq": "string",
        "inbox": "stream",
        "inbox:pending": "zset",
        "outbox:seq": "string",
        "outbox": "stream",
        "outbox:pending": "zset",
        "outbox:done": "hash",
        f"outbox:pending:{k}": "zset",
        "outbox:owner": "hash",
        f"outbox:owned:{store.owner}": "zset",
        "outbox:owners": "set",
        "timers": "zset",
        "timers:id": "hash",
        "file:f1": "hash",
        'hist:in:["whatsapp","447700900001",': "zset",
        'hist:out:["whatsapp","447700900001",': "zset",
    }
    # Stream ids are the store's ids, and only unfinished work is pending.
    assert [i for i, _ in raw.xrange(f"{prefix}inbox") or []] == [
        f"{inbox_id}-0",
        f"{pending_id}-0",
    ]
    assert raw.zrange(f"{prefix}inbox:pending", 0, -1) == [str(pending_id)]
    assert raw.zrange(f"{prefix}inbox:pending:{k}", 0, -1) == [str(pending_id)]
    assert raw.hgetall(f"{prefix}lease:{k}") == {
        "owner": "worker-1",
        "token": str(token),
        "expires": repr(NOW + 60),
    }
    assert raw.zrange(f"{prefix}outbox:pending", 0, -1) == [str(turn.outbound[1].id)]
    # Only the unsent message has an owner, listed under its owner and its conversation.
    assert raw.hgetall(f"{prefix}outbox:owner") == {str(turn.outbound[1].id): store.owner}
    assert raw.zrange(f"{prefix}outbox:owned:{store.owner}", 0, -1) == [str(turn.outbound[1].id)]
    assert raw.zrange(f"{prefix}outbox:pending:{k}", 0, -1) == [str(turn.outbound[1].id)]
    assert raw.hget(f"{prefix}conv:{k}", "version") == "1"
    assert raw.zscore(f"{prefix}timers", k) == NOW + 60
    assert raw.hget(f"{prefix}timers:id", k) == "t1"
    outcome = raw.hget(f"{prefix}outbox:done", str(turn.outbound[0].id))
    assert outcome == '{"status":"sent","message_uuid":"uuid-a","at":1700000001.0}'
    # The user's history: every inbox entry and outbound message, finished or not.
    u = '["whatsapp","447700900001",'
    assert raw.zrange(f"{prefix}hist:in:{u}", 0, -1) == [str(inbox_id), str(pending_id)]
    assert raw.zrange(f"{prefix}hist:out:{u}", 0, -1) == [str(m.id) for m in turn.outbound]


async def test_dedupe_keys_and_files_expire(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    # These TTLs run on the Redis server's clock, not on the injected one, on purpose:
    # an absolute expiry computed from ``now`` (EXAT) would make a FakeClock set in the past
    # (NOW is 2023) expire every key at once, and a clock ahead of the server keep keys too
    # long. So this test reads the TTL Redis holds, right after the write, instead of moving
    # a fake clock 25 hours on (the contract's prune tests do that for the other stores).
    await store.accept(inbound("m-1"))
    await store.put_files({"f1": ("text/vcard", b"x")}, now=NOW)

    assert DEDUPE_TTL >= 25 * 3600
    assert DEDUPE_TTL - 5 <= raw.ttl(f"{prefix}dedupe:m-1") <= DEDUPE_TTL
    assert FILE_TTL - 5 <= raw.ttl(f"{prefix}file:f1") <= FILE_TTL
    assert raw.ttl(f"{prefix}inbox") == -1  # the rest waits for housekeeping


async def test_a_released_or_finished_conversation_leaves_no_keys_behind(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    # What exists per conversation beyond its own hash must go when it is idle, so
    # nothing grows with every user ever seen.
    keys = [ConversationKey("sms", f"4477009{n:05d}", "447700900000") for n in range(20)]
    for n, key in enumerate(keys):
        inbox_id = await store.accept(NewInboxEntry(f"m-{n}", key, "inbound", b"{}", NOW))
        token = await store.acquire_lease(key, "w", ttl=60, now=NOW)
        assert inbox_id is not None and token is not None
        await store.complete_turn(inbox_id, Conversation(key), [], now=NOW, fence=token)
        assert await store.release_lease(key, token)

    names = {str(k).removeprefix(prefix).partition(":[")[0] for k in raw.scan_iter(f"{prefix}*")}
    assert "lease" not in names and "inbox:pending" not in names
    assert len([k for k in raw.scan_iter(f"{prefix}conv:*")]) == 20


async def test_an_unreleased_lease_key_expires_on_redis_clock(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    await store.acquire_lease(KEY, "dead-worker", ttl=30, now=NOW)

    ttl = raw.pttl(f'{prefix}lease:["whatsapp","447700900001","447700900000"]')
    assert (30 + LEASE_GC) * 1000 - 5000 <= ttl <= (30 + LEASE_GC) * 1000


async def test_prune_walks_long_streams_in_steps(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    ids = [await store.accept(inbound(f"m-{n}")) for n in range(1200)]
    for inbox_id in ids[:-1]:
        assert inbox_id is not None
        await store.complete_turn(inbox_id, await store.load(KEY), [reply("a")], now=NOW)
    for message in await store.pending_outbound(limit=2000):
        await store.mark_sent(message.id, "uuid", now=NOW)

    pruned = await store.prune(
        now=NOW, inbox_before=NOW + 1, outbox_before=NOW + 1, files_before=NOW
    )

    assert pruned == {"inbox": 1199, "outbox": 1199, "dedupe": 0, "files": 0}
    assert raw.xlen(f"{prefix}inbox") == 1
    assert raw.xlen(f"{prefix}outbox") == 0
    assert raw.hlen(f"{prefix}outbox:done") == 0
    # The user's history sets shrink with the streams: only the pending entry is left.
    u = '["whatsapp","447700900001",'
    assert raw.zrange(f"{prefix}hist:in:{u}", 0, -1) == [str(ids[-1])]
    assert not raw.exists(f"{prefix}hist:out:{u}")


async def test_forget_leaves_no_history_set_or_mark(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    await store.accept(inbound("m-1"))
    await store.enqueue([reply("a")], now=NOW)
    await store.mark_handoff(KEY, since=NOW)

    await store.forget(KEY.channel, KEY.user)

    assert [str(k) for k in raw.scan_iter(f"{prefix}hist:*")] == []
    assert raw.zcard(f"{prefix}handoffs") == 0


async def test_stores_on_other_prefixes_share_nothing(
    store: RedisStore, url: str, prefix: str
) -> None:
    other_prefix = unique_prefix()
    other = RedisStore(url, prefix=other_prefix)
    await other.open()
    try:
        await store.accept(inbound("m-1"))
        await store.complete_turn(None, Conversation(KEY), [reply("a")], now=NOW)

        assert await other.accept(inbound("m-1")) == 1
        assert (await other.load(KEY)).version == 0
        assert await other.pending_outbound() == []
    finally:
        await other.close()
        delete_prefixed(url, [other_prefix])


async def test_surrogates_in_refs_and_dedupe_keys_round_trip(store: RedisStore) -> None:
    entry = NewInboxEntry("m-\ud83d", KEY, "inbound", b"{}", NOW)
    inbox_id = await store.accept(entry)
    (queued,) = await store.enqueue([NewOutbound(KEY, {"t": 1}, "ref-\udc00")], now=NOW)

    assert [(e.id, e.dedupe_key) for e in await store.pending_inbox()] == [(inbox_id, "m-\ud83d")]
    assert await store.pending_outbound() == [queued]
    assert await store.accept(entry) is None


# -- scripts and errors ----------------------------------------------------------------


async def test_scripts_are_reloaded_after_the_server_forgets_them(
    store: RedisStore, raw: redis.Redis
) -> None:
    await store.accept(inbound("m-1"))
    raw.script_flush()  # as after a Redis restart

    assert await store.accept(inbound("m-2")) == 2
    assert (await store.complete_turn(1, Conversation(KEY), [], now=NOW)).version == 1


async def test_redis_errors_become_store_errors_and_write_nothing(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    k = '["whatsapp","447700900001","447700900000"]'
    raw.set(f"{prefix}conv:{k}", "not a hash")
    inbox_id = await store.accept(inbound("m-1"))

    with pytest.raises(StoreError, match=r"Redis store redis://.*WRONGTYPE"):
        await store.load(KEY)
    with pytest.raises(StoreError, match="WRONGTYPE"):
        await store.complete_turn(inbox_id, Conversation(KEY), [reply("a")], now=NOW)

    assert [e.id for e in await store.pending_inbox()] == [inbox_id]
    assert await store.pending_outbound() == []


@pytest.fixture
def own_server() -> Iterator[str]:
    """A private redis-server (no persistence) that the test may stop."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--requirepass",
        "s3cret",
    ]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    url = f"redis://:s3cret@127.0.0.1:{port}/0"
    try:
        with redis.Redis.from_url(url) as client:
            for _ in range(100):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


async def test_a_lost_server_gives_store_errors_and_an_unhealthy_report(own_server: str) -> None:
    store = RedisStore(own_server)
    await store.open()
    try:
        assert await store.accept(inbound("m-1")) == 1
        with redis.Redis.from_url(own_server) as client:
            client.shutdown(nosave=True)

        with pytest.raises(StoreError, match=r"Redis store redis://:\*\*\*@127.0.0.1") as info:
            await store.accept(inbound("m-2"))
        assert "s3cret" not in str(info.value)
        health = await store.health()
        assert health["ok"] is False and health["store"] == "redis"
        assert "s3cret" not in health["error"]
    finally:
        await store.close()
        await store.close()


# -- several clients and processes -----------------------------------------------------


async def test_racing_clients_commit_each_version_once(url: str, prefix: str) -> None:
    stores = [RedisStore(url, prefix=prefix) for _ in range(4)]
    for s in stores:
        await s.open()
    try:
        ids = await asyncio.gather(*(s.accept(inbound("m-1")) for s in stores for _ in range(5)))
        assert [i for i in ids if i is not None] == [1]

        turns = [s.complete_turn(1, Conversation(KEY), [reply("x")], now=NOW) for s in stores]
        results = await asyncio.gather(*turns, return_exceptions=True)
        assert sum(not isinstance(r, BaseException) for r in results) == 1
        # The entry is checked before the version: the losers learn it is done.
        assert sum(isinstance(r, AlreadyDone) for r in results) == 3

        turns = [s.complete_turn(None, Conversation(KEY), [reply("y")], now=NOW) for s in stores]
        results = await asyncio.gather(*turns, return_exceptions=True)
        assert sum(isinstance(r, VersionConflict) for r in results) == 4
        assert len(await stores[0].pending_outbound()) == 1
    finally:
        for s in stores:
            await s.close()


SOURCE_ROOT = Path(botkit.__file__).parents[1]  # workers import this botkit, not another
WORKER = """
import asyncio, sys
import redis.asyncio
from botkit.errors import VersionConflict
from botkit.store import ConversationKey, NewInboxEntry, NewOutbound
from botkit.store.redis import RedisStore

async def main(url, prefix, worker, workers):
    key = ConversationKey("sms", "447700900001", "447700900000")
    async with redis.asyncio.from_url(url) as client:  # start together
        await client.incr(prefix + "test:ready")
        while int(await client.get(prefix + "test:ready")) < int(workers):
            await asyncio.sleep(0.005)
    store = RedisStore(url, prefix=prefix)
    await store.open()
    conflicts = 0
    for n in range(40):
        await store.accept(NewInboxEntry(f"m-{n}", key, "inbound", b"{}", 1.0))
        conversation = await store.load(key)
        conversation.data["n"] = conversation.data.get("n", 0) + 1
        reply = NewOutbound(key, {"text": f"{worker}-{n}"}, f"{worker}-{n}")
        try:
            await store.complete_turn(None, conversation, [reply], now=2.0)
        except VersionConflict:
            conflicts += 1
    await store.close()
    print(conflicts)

asyncio.run(main(*sys.argv[1:]))
"""


def test_processes_sharing_one_redis_lose_no_update(url: str, prefix: str) -> None:
    # Four processes accept the same 40 dedupe keys and each try 40 increments of one
    # conversation; every increment that is not refused as a conflict must count.
    args = [sys.executable, "-c", textwrap.dedent(WORKER), url, prefix]
    workers = [
        subprocess.Popen([*args, str(w), "4"], cwd=SOURCE_ROOT, stdout=subprocess.PIPE, text=True)
        for w in range(4)
    ]
    outputs = [w.communicate(timeout=60)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0]
    conflicts = sum(int(out) for out in outputs)
    assert conflicts > 0, "the processes never raced; the test proves nothing"
    committed = 4 * 40 - conflicts

    async def check() -> None:
        store = RedisStore(url, prefix=prefix)
        await store.open()
        try:
            conversation = await store.load(ConversationKey("sms", "447700900001", "447700900000"))
            assert (conversation.version, conversation.data) == (committed, {"n": committed})
            inbox = await store.pending_inbox()
            assert [e.id for e in inbox] == list(range(1, 41))
            assert sorted(e.dedupe_key for e in inbox) == sorted(f"m-{n}" for n in range(40))
            outbound = await store.pending_outbound()
            assert [m.id for m in outbound] == list(range(1, committed + 1))
        finally:
            await store.close()

    asyncio.run(check())
