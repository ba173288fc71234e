"""Which process sends which queued reply, on a PostgreSQL store shared by several processes.

Each ``PostgresStore`` handle is one process's sender here: ``a`` and ``b`` are two
handles on one schema, as two ``botkit run`` processes would have. Ownership is read
from the ``outbox`` (``owner``, ``taken``) and ``senders`` tables.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from botkit.store import Conversation, ConversationKey, NewOutbound
from botkit.store.postgres import PostgresStore

from .pg import drop_schemas, require_postgres, unique_schema

KEY = ConversationKey("whatsapp", "447700900001", "447700900000")
OTHER = ConversationKey("sms", "447700900002", "447700900000")
NOW = 1_700_000_000.0
TTL = 30.0


def reply(text: str, key: ConversationKey = KEY) -> NewOutbound:
    return NewOutbound(key, {"message_type": "text", "text": text}, f"ref-{text}")


@pytest.fixture
def url() -> str:
    return require_postgres()


@pytest.fixture
def schema(url: str) -> Iterator[str]:
    name = unique_schema()
    yield name
    drop_schemas(url, [name])


async def _opened(url: str, schema: str, owner: str) -> PostgresStore:
    store = PostgresStore(url, schema=schema, owner=owner)
    await store.open()
    return store


@pytest.fixture
async def a(url: str, schema: str) -> AsyncIterator[PostgresStore]:
    store = await _opened(url, schema, "process-a")
    yield store
    await store.close()


@pytest.fixture
async def b(url: str, schema: str) -> AsyncIterator[PostgresStore]:
    store = await _opened(url, schema, "process-b")
    yield store
    await store.close()


async def owners(url: str, schema: str) -> dict[int, tuple[str, bool]]:
    """Pending outbound id -> (owner, taken)."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            f"""SELECT id, owner, taken FROM "{schema}".outbox WHERE status = 'pending'"""
        )
    finally:
        await conn.close()
    return {r["id"]: (r["owner"], r["taken"]) for r in rows}


async def senders(url: str, schema: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(f'SELECT owner FROM "{schema}".senders ORDER BY owner')
    finally:
        await conn.close()
    return [r["owner"] for r in rows]


async def test_a_live_senders_messages_are_not_taken(a: PostgresStore, b: PostgresStore) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)
    queued = await a.enqueue([reply("1"), reply("2")], now=NOW)

    assert await b.claim_outbound(ttl=TTL, now=NOW + TTL - 1) == []
    assert [m.id for m in await a.pending_outbound()] == [m.id for m in queued]


async def test_a_dead_senders_messages_are_taken_over_once_in_queue_order(
    a: PostgresStore, b: PostgresStore, url: str, schema: str
) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)
    first = await a.enqueue([reply("1"), reply("x", OTHER)], now=NOW)
    turn = await a.complete_turn(None, Conversation(KEY), [reply("2")], now=NOW)
    c = await _opened(url, schema, "process-c")
    try:
        await c.claim_outbound(ttl=TTL, now=NOW)  # a live third process
        # a's claim ran out (it died): b and c ask at once; each message goes to one.
        taken_b, taken_c = await asyncio.gather(
            b.claim_outbound(ttl=TTL, now=NOW + TTL + 0.5),
            c.claim_outbound(ttl=TTL, now=NOW + TTL + 0.5),
        )
    finally:
        await c.close()

    everything = sorted([*first, *turn.outbound], key=lambda m: m.id)
    taken = taken_b or taken_c
    assert (taken_b == []) != (taken_c == [])  # claims run one at a time: one took all
    assert [(m.id, m.client_ref, m.key, m.body) for m in taken] == [
        (m.id, m.client_ref, m.key, m.body) for m in everything
    ]
    new_owner = "process-b" if taken_b else "process-c"
    assert set((await owners(url, schema)).values()) == {(new_owner, True)}
    assert await b.claim_outbound(ttl=TTL, now=NOW + TTL + 1) == []


async def test_messages_of_a_handle_that_never_claimed_are_taken_at_once(
    a: PostgresStore, b: PostgresStore
) -> None:
    # A script that queued a notification and exited never ran a sender.
    queued = await a.enqueue([reply("notice")], now=NOW)

    taken = await b.claim_outbound(ttl=TTL, now=NOW)

    assert [m.id for m in taken] == [queued[0].id]
    assert taken[0].body == {"message_type": "text", "text": "notice"}


async def test_a_released_claim_lets_others_take_over_at_once(
    a: PostgresStore, b: PostgresStore
) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)
    queued = await a.enqueue([reply("1")], now=NOW)
    assert await b.claim_outbound(ttl=TTL, now=NOW + 1) == []

    await a.release_outbound()

    assert [m.id for m in await b.claim_outbound(ttl=TTL, now=NOW + 1)] == [queued[0].id]


async def test_a_renewed_claim_keeps_the_messages(a: PostgresStore, b: PostgresStore) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)
    await a.enqueue([reply("1")], now=NOW)
    await a.claim_outbound(ttl=TTL, now=NOW + TTL - 1)  # renewed in time

    assert await b.claim_outbound(ttl=TTL, now=NOW + TTL + 1) == []


async def test_a_message_sent_while_its_claim_was_taken_is_not_taken(
    a: PostgresStore, b: PostgresStore, url: str, schema: str
) -> None:
    # a stalled past its claim, then marked its reply sent just before b's claim.
    await a.claim_outbound(ttl=TTL, now=NOW)
    sent, unsent = await a.enqueue([reply("1"), reply("2")], now=NOW)
    await a.mark_sent(sent.id, "uuid-1", now=NOW + TTL + 1)

    taken = await b.claim_outbound(ttl=TTL, now=NOW + TTL + 1)

    assert [m.id for m in taken] == [unsent.id]
    assert await owners(url, schema) == {unsent.id: ("process-b", True)}


async def test_a_message_queued_behind_another_senders_waits_for_it(
    a: PostgresStore, b: PostgresStore
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
    a: PostgresStore, b: PostgresStore, url: str, schema: str
) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)
    await b.claim_outbound(ttl=TTL, now=NOW)
    earlier = await a.enqueue([reply("1"), reply("2"), reply("x", OTHER)], now=NOW)
    (later,) = await b.enqueue([reply("3")], now=NOW)
    assert later.after_others

    assert await b.claim_earlier(later, now=NOW + TTL - 1) is None  # a may be alive
    handed = await b.claim_earlier(later, now=NOW + TTL + 1)  # a's claim ran out

    assert [m.client_ref for m in handed or []] == ["ref-1", "ref-2"]
    assert await owners(url, schema) == {
        earlier[0].id: ("process-b", True),
        earlier[1].id: ("process-b", True),
        earlier[2].id: ("process-a", False),  # another conversation: not b's business here
        later.id: ("process-b", False),
    }


async def test_long_dead_senders_are_forgotten(
    a: PostgresStore, b: PostgresStore, url: str, schema: str
) -> None:
    await a.claim_outbound(ttl=TTL, now=NOW)

    await b.claim_outbound(ttl=TTL, now=NOW + 2 * 24 * 3600)

    assert await senders(url, schema) == ["process-b"]


async def test_each_handle_is_its_own_sender_by_default(url: str, schema: str) -> None:
    one, two = PostgresStore(url, schema=schema), PostgresStore(url, schema=schema)

    assert one.owner != two.owner


async def test_a_message_queued_behind_taken_over_ones_waits_for_them_too(
    a: PostgresStore, b: PostgresStore
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
    (last,) = await b.enqueue([reply("4")], now=NOW + TTL + 2)
    assert not last.after_others  # only b's own reply 3 is pending before it


async def test_concurrent_queues_of_one_conversation_keep_ids_in_commit_order(
    a: PostgresStore, b: PostgresStore
) -> None:
    # Many handles queue to one user at once: whoever queues later sees every earlier
    # message (the per-conversation lock), so a reply is flagged exactly when a message
    # of the other handle was pending before it.
    await a.claim_outbound(ttl=TTL, now=NOW)
    await b.claim_outbound(ttl=TTL, now=NOW)
    results = await asyncio.gather(
        *(
            (a if n % 2 else b).enqueue([reply(f"{n}-a"), reply(f"{n}-b")], now=NOW)
            for n in range(20)
        )
    )
    queued = sorted((m for batch in results for m in batch), key=lambda m: m.id)
    owner_of = {m.id: ("a" if int(m.client_ref[4:].split("-")[0]) % 2 else "b") for m in queued}
    for index, message in enumerate(queued):
        before = {owner_of[m.id] for m in queued[:index]}
        assert message.after_others == bool(before - {owner_of[message.id]}), message
