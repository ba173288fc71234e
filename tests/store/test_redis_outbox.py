"""Which process sends which queued reply, on a Redis store shared by several processes.

Each ``RedisStore`` handle is one process's sender here: ``a`` and ``b`` are two
handles on one prefix, as two ``botkit run`` processes would have.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis

from botkit.store import Conversation, ConversationKey, NewOutbound
from botkit.store.redis import RedisStore

KEY = ConversationKey("whatsapp", "447700900001", "447700900000")
OTHER = ConversationKey("sms", "447700900002", "447700900000")
NOW = 1_700_000_000.0
TTL = 30.0
K = '["whatsapp","447700900001","447700900000"]'


def reply(text: str, key: ConversationKey = KEY) -> NewOutbound:
    return NewOutbound(key, {"message_type": "text", "text": text}, f"ref-{text}")


async def _opened(url: str, prefix: str, owner: str) -> RedisStore:
    store = RedisStore(url, prefix=prefix, owner=owner)
    await store.open()
    return store


@pytest.fixture
async def a(url: str, prefix: str) -> AsyncIterator[RedisStore]:
    store = await _opened(url, prefix, "process-a")
    yield store
    await store.close()


@pytest.fixture
async def b(url: str, prefix: str) -> AsyncIterator[RedisStore]:
    store = await _opened(url, prefix, "process-b")
    yield store
    await store.close()


async def test_a_live_senders_messages_are_not_taken(a: RedisStore, b: RedisStore) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)
    queued = await a.enqueue([reply("1"), reply("2")], now=NOW)

    assert await b.claim_outbound(ttl=TTL, now=NOW + TTL - 1) == []
    assert [m.id for m in await a.pending_outbound()] == [m.id for m in queued]


async def test_a_dead_senders_messages_are_taken_over_once_in_queue_order(
    a: RedisStore, b: RedisStore, url: str, prefix: str, raw: redis.Redis
) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)
    first = await a.enqueue([reply("1"), reply("x", OTHER)], now=NOW)
    turn = await a.complete_turn(None, Conversation(KEY), [reply("2")], now=NOW)
    c = await _opened(url, prefix, "process-c")
    try:
        await c.claim_outbound(ttl=TTL, now=NOW)  # a live third process
        # a's claim ran out (it died): b and c ask at once; each message goes to one.
        taken_b, taken_c = await asyncio.gather(
            b.claim_outbound(ttl=TTL, now=NOW + TTL + 0.5),
            c.claim_outbound(ttl=TTL, now=NOW + TTL + 0.5),
        )
    finally:
        await c.close()

    everything = [*first, *turn.outbound]
    taken = taken_b or taken_c
    assert (taken_b == []) != (taken_c == [])  # one script took a's whole set
    assert [(m.id, m.client_ref, m.key) for m in taken] == [
        (m.id, m.client_ref, m.key) for m in sorted(everything, key=lambda m: m.id)
    ]
    new_owner = "process-b" if taken_b else "process-c"
    assert set(raw.hgetall(f"{prefix}outbox:owner").values()) == {new_owner}
    assert raw.exists(f"{prefix}outbox:owned:process-a") == 0
    assert "process-a" not in raw.smembers(f"{prefix}outbox:owners")
    assert await b.claim_outbound(ttl=TTL, now=NOW + TTL + 1) == []


async def test_messages_of_a_handle_that_never_claimed_are_taken_at_once(
    a: RedisStore, b: RedisStore
) -> None:
    # A script that queued a notification and exited never ran a sender.
    queued = await a.enqueue([reply("notice")], now=NOW)

    taken = await b.claim_outbound(ttl=TTL, now=NOW)

    assert [m.id for m in taken] == [queued[0].id]
    assert taken[0].body == {"message_type": "text", "text": "notice"}


async def test_a_released_claim_lets_others_take_over_at_once(
    a: RedisStore, b: RedisStore
) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)
    queued = await a.enqueue([reply("1")], now=NOW)
    assert await b.claim_outbound(ttl=TTL, now=NOW + 1) == []

    await a.release_outbound()

    assert [m.id for m in await b.claim_outbound(ttl=TTL, now=NOW + 1)] == [queued[0].id]


async def test_a_renewed_claim_keeps_the_messages(a: RedisStore, b: RedisStore) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)
    await a.enqueue([reply("1")], now=NOW)
    await a.claim_outbound(ttl=TTL, now=NOW + TTL - 1)  # renewed in time

    assert await b.claim_outbound(ttl=TTL, now=NOW + TTL + 1) == []


async def test_sent_and_failed_messages_leave_no_ownership_behind(
    a: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)
    sent, failed = await a.enqueue([reply("1"), reply("2")], now=NOW)

    await a.mark_sent(sent.id, "uuid-1", now=NOW)
    await a.mark_failed(failed.id, "refused", now=NOW)

    assert raw.exists(f"{prefix}outbox:owner") == 0
    assert raw.exists(f"{prefix}outbox:owned:process-a") == 0
    assert raw.exists(f"{prefix}outbox:pending:{K}") == 0
    assert raw.smembers(f"{prefix}outbox:owners") == set()


async def test_a_message_queued_behind_another_senders_waits_for_it(
    a: RedisStore, b: RedisStore
) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)
    await b.claim_outbound(ttl=TTL, now=NOW)
    (first,) = await a.enqueue([reply("1")], now=NOW)
    (own_next,) = await a.enqueue([reply("2")], now=NOW)
    turn = await b.complete_turn(None, Conversation(KEY), [reply("3"), reply("4")], now=NOW)
    (elsewhere,) = await b.enqueue([reply("y", OTHER)], now=NOW)

    assert not first.after_others and not own_next.after_others
    assert [m.after_others for m in turn.outbound] == [True, True]
    assert not elsewhere.after_others  # another conversation: nothing to wait for
    # a is alive and still has 1 and 2 pending: b must wait.
    assert await b.claim_earlier(turn.outbound[0], now=NOW + 1) is None

    await a.mark_sent(first.id, "uuid-1", now=NOW + 1)
    assert await b.claim_earlier(turn.outbound[0], now=NOW + 1) is None
    await a.mark_sent(own_next.id, "uuid-2", now=NOW + 1)

    # Nothing earlier is pending now; the second reply has only b's own first before it.
    assert await b.claim_earlier(turn.outbound[0], now=NOW + 1) == []
    earlier = await b.claim_earlier(turn.outbound[1], now=NOW + 1)
    assert [m.id for m in earlier or []] == [turn.outbound[0].id]


async def test_earlier_messages_of_a_dead_sender_are_handed_over_in_order(
    a: RedisStore, b: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)
    await b.claim_outbound(ttl=TTL, now=NOW)
    earlier = await a.enqueue([reply("1"), reply("2"), reply("x", OTHER)], now=NOW)
    (later,) = await b.enqueue([reply("3")], now=NOW)
    assert later.after_others

    assert await b.claim_earlier(later, now=NOW + TTL - 1) is None  # a may be alive
    handed = await b.claim_earlier(later, now=NOW + TTL + 1)  # a's claim ran out

    assert [m.client_ref for m in handed or []] == ["ref-1", "ref-2"]
    owners = raw.hgetall(f"{prefix}outbox:owner")
    assert owners == {
        str(earlier[0].id): "process-b",
        str(earlier[1].id): "process-b",
        str(earlier[2].id): "process-a",  # another conversation: not b's business here
        str(later.id): "process-b",
    }


async def test_forget_removes_ownership_records(
    a: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)
    await a.enqueue([reply("1"), reply("x", OTHER)], now=NOW)

    await a.forget("whatsapp", "447700900001")

    assert list(raw.hvals(f"{prefix}outbox:owner")) == ["process-a"]  # OTHER's only
    assert raw.zcard(f"{prefix}outbox:owned:process-a") == 1
    assert raw.exists(f"{prefix}outbox:pending:{K}") == 0


async def test_refused_attempt_counts_go_with_their_messages(
    a: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    sent, failed, forgotten = await a.enqueue(
        [reply("1", OTHER), reply("2", OTHER), reply("3")], now=NOW
    )
    for message in (sent, failed, forgotten):
        await a.count_attempt(message.id)
    await a.mark_sent(sent.id, "uuid-1", now=NOW + 1)
    await a.mark_failed(failed.id, "refused", now=NOW + 1)
    attempts = f"{prefix}outbox:attempts"
    # a finished message keeps its count until it is pruned (history shows it)
    assert raw.hgetall(attempts) == {str(m.id): "1" for m in (sent, failed, forgotten)}

    await a.forget("whatsapp", "447700900001")
    assert sorted(raw.hkeys(attempts)) == sorted([str(sent.id), str(failed.id)])
    await a.prune(now=NOW + 10, inbox_before=NOW + 5, outbox_before=NOW + 5,
                  files_before=NOW + 5)
    assert raw.exists(attempts) == 0


async def test_long_dead_senders_that_own_nothing_are_forgotten(
    a: RedisStore, b: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)

    await b.claim_outbound(ttl=TTL, now=NOW + 2 * 24 * 3600)

    assert raw.zrange(f"{prefix}senders", 0, -1) == ["process-b"]


async def test_each_handle_is_its_own_sender_by_default(url: str, prefix: str) -> None:
    one, two = RedisStore(url, prefix=prefix), RedisStore(url, prefix=prefix)

    assert one.owner != two.owner


async def test_a_message_queued_behind_taken_over_ones_waits_for_them_too(
    a: RedisStore, b: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    # b learns of what it took over from one call and of its own new reply from
    # another; their answers may arrive in either order, so the new reply is flagged
    # and sends the taken ones first.
    await a.claim_outbound(ttl=TTL, now=NOW)
    left = await a.enqueue([reply("1"), reply("2")], now=NOW)
    taken = await b.claim_outbound(ttl=TTL, now=NOW + TTL + 1)
    assert [m.id for m in taken] == [m.id for m in left]

    (later,) = await b.enqueue([reply("3")], now=NOW + TTL + 1)
    (after_own,) = await b.enqueue([reply("y", OTHER)], now=NOW + TTL + 1)

    assert later.after_others and not after_own.after_others
    earlier = await b.claim_earlier(later, now=NOW + TTL + 1)
    assert [m.client_ref for m in earlier or []] == ["ref-1", "ref-2"]
    for message in left:
        await b.mark_sent(message.id, "uuid", now=NOW + TTL + 2)
    assert raw.exists(f"{prefix}outbox:taken") == 0
    (last,) = await b.enqueue([reply("4")], now=NOW + TTL + 2)
    assert not last.after_others  # only b's own reply 3 is pending before it
