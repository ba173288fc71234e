"""The store contract for refused send attempts: ``count_attempt`` and
``OutboundMessage.attempts``, on every store kind."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botkit.store import Conversation, Store

from .conftest import SHARED_KINDS
from .test_contract import ALICE, BOB, NOW, reply

if TYPE_CHECKING:
    from .conftest import StoreFactory

TTL = 30.0


async def attempts(store: Store) -> dict[str, int]:
    return {m.client_ref: m.attempts for m in await store.pending_outbound()}


async def test_refused_attempts_are_counted_on_pending_messages(store: Store) -> None:
    a, b = await store.enqueue([reply("a"), reply("b", BOB)], now=NOW)
    turn = await store.complete_turn(None, Conversation(ALICE), [reply("c")], now=NOW)
    assert [m.attempts for m in (a, b, *turn.outbound)] == [0, 0, 0]

    await store.count_attempt(a.id)
    await store.count_attempt(a.id)
    await store.count_attempt(b.id)
    assert await attempts(store) == {"ref-a": 2, "ref-b": 1, "ref-c": 0}

    # A finished message keeps the count it had; a late count, or an unknown id, changes
    # nothing.
    await store.mark_sent(b.id, "uuid-b", now=NOW + 1)
    await store.count_attempt(b.id)
    await store.count_attempt(999_999)
    assert await attempts(store) == {"ref-a": 2, "ref-c": 0}
    (record,) = (await store.history(BOB.channel, BOB.user)).outbox
    assert (record.status, record.message.attempts) == ("sent", 1)


async def test_counted_attempts_survive_a_restart(store_factory: StoreFactory) -> None:
    async with store_factory.opened() as store:
        a, _ = await store.enqueue([reply("a"), reply("b")], now=NOW)
        for _ in range(3):
            await store.count_attempt(a.id)
    async with store_factory.opened(store_factory.reopen(store)) as reopened:
        assert await attempts(reopened) == {"ref-a": 3, "ref-b": 0}


async def test_a_taken_over_message_keeps_its_count(store_factory: StoreFactory) -> None:
    """Another process taking a dead sender's messages over gets their counts, through
    either claim; a store of one process hands nothing over (its pending list has them)."""
    async with store_factory.opened() as store:
        await store.claim_outbound(ttl=TTL, now=NOW)
        first, other = await store.enqueue([reply("1"), reply("x", BOB)], now=NOW)
        await store.count_attempt(first.id)
        await store.count_attempt(other.id)
        await store.count_attempt(other.id)
    async with store_factory.opened(store_factory.reopen(store)) as taker:
        # queued behind the dead sender's pending reply of the same conversation
        (later,) = await taker.enqueue([reply("2")], now=NOW + 1)
        await taker.claim_outbound(ttl=TTL, now=NOW + 1)
        if store_factory.kind not in SHARED_KINDS:
            assert await taker.claim_outbound(ttl=TTL, now=NOW + TTL + 1) == []
            assert await attempts(taker) == {"ref-1": 1, "ref-x": 2, "ref-2": 0}
            return
        assert later.after_others
        earlier = await taker.claim_earlier(later, now=NOW + TTL + 1)
        assert earlier is not None
        assert [(m.client_ref, m.attempts) for m in earlier] == [("ref-1", 1)]
        taken = await taker.claim_outbound(ttl=TTL, now=NOW + TTL + 1)
        assert [(m.client_ref, m.attempts) for m in taken] == [("ref-x", 2)]

