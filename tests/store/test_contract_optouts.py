"""The store contract for the opt-out list, the same on every store (memory, SQLite,
Redis, PostgreSQL): written on STOP and START, read with every conversation, kept by
``forget``, surviving a restart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botkit.store import Conversation, ConversationKey, Store
from botkit.store.optouts import OptOut

from .test_contract import ALICE, BOB, NOW, accepted, inbound, reply

if TYPE_CHECKING:
    from .conftest import StoreFactory

ALICE_TOO = ConversationKey(ALICE.channel, ALICE.user, "447700900999")  # another of our numbers
ALICE_SMS = ConversationKey("sms", ALICE.user, "447700900000")  # the same user, another channel


async def test_opting_out_is_per_channel_and_number_and_read_with_the_conversation(
    store: Store,
) -> None:
    await store.complete_turn(None, Conversation(ALICE, data={"n": 1}), [], now=NOW)

    assert await store.opt_out(ALICE, at=NOW, via="STOP") is True

    loaded = await store.load(ALICE)
    assert loaded.opted_out and loaded.data == {"n": 1} and loaded.version == 1
    assert not (await store.load(ALICE_TOO)).opted_out
    assert not (await store.load(ALICE_SMS)).opted_out
    assert await store.opted_out([ALICE, ALICE_TOO, ALICE_SMS, BOB]) == {ALICE}


async def test_the_time_each_user_opted_out_is_read_for_many_keys_at_once(store: Store) -> None:
    assert await store.opted_out_at([]) == {}
    await store.opt_out(ALICE, at=NOW + 0.25, via="STOP")
    await store.opt_out(BOB, at=NOW - 60, via="import")

    assert await store.opted_out_at([ALICE, ALICE_TOO, BOB]) == {ALICE: NOW + 0.25, BOB: NOW - 60}
    await store.opt_in(ALICE)
    assert await store.opted_out_at([ALICE, BOB]) == {BOB: NOW - 60}


async def test_a_user_never_seen_can_be_on_the_list(store: Store) -> None:
    await store.opt_out(BOB, at=NOW, via="import")
    loaded = await store.load(BOB)
    assert loaded.opted_out and loaded.version == 0 and loaded.data == {}


async def test_the_first_record_stays_and_opting_in_removes_it(store: Store) -> None:
    assert await store.opt_out(ALICE, at=NOW, via="STOP") is True
    assert await store.opt_out(ALICE, at=NOW + 5, via="QUIT") is False
    assert await store.opt_outs() == [OptOut(ALICE, NOW, "STOP")]

    assert await store.opt_in(ALICE) is True
    assert await store.opt_in(ALICE) is False
    assert not (await store.load(ALICE)).opted_out
    assert await store.opted_out([ALICE]) == set()
    assert await store.opt_outs() == []


async def test_saving_a_conversation_does_not_touch_the_list(store: Store) -> None:
    await store.opt_out(ALICE, at=NOW, via="STOP")
    loaded = await store.load(ALICE)
    await store.complete_turn(None, loaded, [], now=NOW + 1)
    again = await store.load(ALICE)
    assert again.opted_out and again.version == 1


async def test_the_list_pages_in_key_order(store: Store) -> None:
    keys = [ConversationKey("sms", f"4477009010{n:02d}", "447700900000") for n in range(7)]
    keys += [ALICE, ALICE_SMS]
    for n, key in enumerate(reversed(keys)):
        await store.opt_out(key, at=NOW + n, via=f"w{n}")
    listed: list[OptOut] = []
    after = None
    while page := await store.opt_outs(after=after, limit=3):
        assert len(page) <= 3
        listed += page
        after = page[-1].key
    expected = sorted(keys, key=lambda k: (k.channel, k.user, k.bot))
    assert [o.key for o in listed] == expected
    assert await store.opt_outs(limit=0) == []
    assert {o.via for o in listed} == {f"w{n}" for n in range(9)}


async def test_forget_keeps_the_opt_out_and_deletes_the_rest(store: Store) -> None:
    entry = await accepted(store, inbound("m-1"))
    await store.complete_turn(entry, Conversation(ALICE, data={"name": "Alice"}), [reply("hi")],
                              now=NOW)
    await store.opt_out(ALICE, at=NOW, via="STOP")

    assert await store.forget(ALICE.channel, ALICE.user) >= 3

    loaded = await store.load(ALICE)
    assert loaded.opted_out and loaded.data == {} and loaded.version == 0
    assert await store.opt_outs() == [OptOut(ALICE, NOW, "STOP")]
    assert not await store.history(ALICE.channel, ALICE.user)


async def test_the_list_survives_a_restart(store_factory: StoreFactory) -> None:
    async with store_factory.opened() as first:
        await first.opt_out(ALICE, at=NOW, via="STOPALL")
        await first.opt_out(ALICE_SMS, at=NOW, via="ALTO")
        await first.opt_in(ALICE_SMS)
    async with store_factory.opened(store_factory.reopen(first)) as second:
        assert (await second.load(ALICE)).opted_out
        assert await second.opt_outs() == [OptOut(ALICE, NOW, "STOPALL")]


async def test_unusual_text_in_keys_and_words_round_trips(store: Store) -> None:
    odd = ConversationKey("messenger", "user \u00e9\u2603 \"quoted\"", "page\\1")
    await store.opt_out(odd, at=NOW, via="\u914d\u4fe1\u505c\u6b62")
    assert (await store.load(odd)).opted_out
    assert await store.opt_outs() == [OptOut(odd, NOW, "\u914d\u4fe1\u505c\u6b62")]
    assert await store.opted_out([odd]) == {odd}
