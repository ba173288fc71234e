"""The Redis store as a DrainStore: a drain opened in one call (lease, pending entries and
the conversation) and closed by its last commit, meaning what the separate calls mean."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from botkit.errors import LeaseLost
from botkit.store import ConversationKey, NewInboxEntry, NewOutbound
from botkit.store.base import DrainStore
from botkit.store.redis import RedisStore

KEY = ConversationKey("whatsapp", "447700900001", "447700900000")
OTHER = ConversationKey("sms", "447700900002", "447700900000")
NOW = 1_700_000_000.0


def inbound(dedupe_key: str, key: ConversationKey = KEY) -> NewInboxEntry:
    return NewInboxEntry(dedupe_key, key, "inbound", b'{"text":"' + dedupe_key.encode() + b'"}',
                         NOW)


@pytest.fixture
async def store(url: str, prefix: str) -> AsyncIterator[RedisStore]:
    store = RedisStore(url, prefix=prefix)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def test_opening_a_drain_takes_the_lease_and_reads_entries_and_conversation(
    store: RedisStore,
) -> None:
    assert isinstance(store, DrainStore)
    first = await store.accept(inbound("m1"))
    await store.accept(inbound("o1", OTHER))
    second = await store.accept(inbound("m2"))
    conversation = await store.load(KEY)
    conversation.data["n"] = 1
    await store.complete_turn(None, conversation, [], now=NOW)

    opened = await store.open_drain(KEY, "w1", ttl=30, now=NOW, limit=10)

    assert opened is not None
    assert [e.id for e in opened.entries] == [first, second]
    assert [e.body for e in opened.entries] == [b'{"text":"m1"}', b'{"text":"m2"}']
    assert opened.conversation.version == 1 and opened.conversation.data == {"n": 1}
    # The lease is taken: another owner waits, and the token fences commits.
    assert await store.open_drain(KEY, "w2", ttl=30, now=NOW + 1) is None
    assert await store.acquire_lease(KEY, "w2", ttl=30, now=NOW + 1) is None
    assert await store.release_lease(KEY, opened.token)


async def test_an_opened_drain_gives_at_most_the_limit_and_a_fresh_conversation(
    store: RedisStore,
) -> None:
    ids = [await store.accept(inbound(f"m{n}")) for n in range(5)]
    opened = await store.open_drain(KEY, "w1", ttl=30, now=NOW, limit=2)
    assert opened is not None
    assert [e.id for e in opened.entries] == ids[:2]
    assert opened.conversation.version == 0 and opened.conversation.data == {}
    # Nothing pending: the lease, and no entries.
    empty = await store.open_drain(OTHER, "w1", ttl=30, now=NOW, limit=2)
    assert empty is not None and empty.entries == []


async def test_the_last_commit_releases_the_lease_and_an_earlier_one_keeps_it(
    store: RedisStore,
) -> None:
    await store.accept(inbound("m1"))
    await store.accept(inbound("m2"))
    opened = await store.open_drain(KEY, "w1", ttl=30, now=NOW)
    assert opened is not None
    first, second = opened.entries
    reply = NewOutbound(KEY, {"message_type": "text", "text": "hi"}, "ref-1")

    # m2 is still pending: asked to release, the commit keeps the lease.
    committed = await store.complete_turn(
        first.id, opened.conversation, [reply], now=NOW, fence=opened.token, release=True
    )
    assert not committed.released and len(committed.outbound) == 1
    assert await store.acquire_lease(KEY, "w2", ttl=30, now=NOW) is None

    conversation = await store.load(KEY)
    committed = await store.complete_turn(
        second.id, conversation, [], now=NOW, fence=opened.token, release=True
    )
    assert committed.released
    assert await store.pending_for(KEY) == []
    # Released: another owner takes it at once, and the old token fences nothing.
    assert await store.acquire_lease(KEY, "w2", ttl=30, now=NOW) is not None
    with pytest.raises(LeaseLost):
        await store.complete_turn(None, await store.load(KEY), [], now=NOW,
                                  fence=opened.token, release=True)


async def test_without_release_or_fence_the_lease_stays(store: RedisStore) -> None:
    entry = await store.accept(inbound("m1"))
    opened = await store.open_drain(KEY, "w1", ttl=30, now=NOW)
    assert opened is not None and entry is not None
    committed = await store.complete_turn(entry, opened.conversation, [], now=NOW,
                                          fence=opened.token)
    assert not committed.released
    assert await store.acquire_lease(KEY, "w2", ttl=30, now=NOW) is None


async def test_an_opened_drain_says_whether_the_user_opted_out_as_load_does(
    store: RedisStore,
) -> None:
    await store.accept(inbound("m1"))
    await store.opt_out(KEY, at=NOW, via="STOP")
    opened = await store.open_drain(KEY, "w1", ttl=30, now=NOW)
    assert opened is not None and opened.conversation.opted_out
    assert (await store.load(KEY)).opted_out
    assert await store.release_lease(KEY, opened.token)
    await store.opt_in(KEY)
    opened = await store.open_drain(KEY, "w1", ttl=30, now=NOW)
    assert opened is not None and not opened.conversation.opted_out
