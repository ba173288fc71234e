"""The store contract for human handoff: a user's history and the handoff index, the same
on every store (memory, SQLite, Redis, PostgreSQL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botkit.store import Conversation, ConversationKey, NewInboxEntry, Store
from botkit.store.handoff import HandoffMark, History

from .test_contract import ALICE, BOB, NOW, accepted, inbound, reply

if TYPE_CHECKING:
    from .conftest import StoreFactory

ALICE_TOO = ConversationKey(ALICE.channel, ALICE.user, "447700900999")  # another of our numbers
ALICE_SMS = ConversationKey("sms", ALICE.user, "447700900000")  # the same user, another channel


def status(dedupe_key: str, key: ConversationKey = ALICE, *, at: float = NOW) -> NewInboxEntry:
    return NewInboxEntry(dedupe_key, key, "status", b'{"status":"delivered"}', at)


async def test_history_is_the_users_inbox_and_outbox_on_one_channel(store: Store) -> None:
    first = await accepted(store, inbound("m-1", at=NOW))
    await store.complete_turn(first, Conversation(ALICE), [reply("hello")], now=NOW + 1)
    await accepted(store, inbound("m-2", ALICE_TOO, at=NOW + 2))  # pending, other number
    await accepted(store, status("s-1", at=NOW + 3))
    await accepted(store, inbound("b-1", BOB))
    await accepted(store, inbound("a-sms", ALICE_SMS))
    await store.enqueue([reply("bob", BOB), reply("later")], now=NOW + 4)

    history = await store.history(ALICE.channel, ALICE.user)

    assert [(e.dedupe_key, e.key, e.kind) for e in history.inbox] == [
        ("m-1", ALICE, "inbound"),
        ("m-2", ALICE_TOO, "inbound"),
        ("s-1", ALICE, "status"),
    ]
    assert history.inbox[0].body == inbound("m-1").body
    assert history.inbox[0].accepted_at == NOW
    assert [(r.message.body["text"], r.message.client_ref, r.status) for r in history.outbox] == [
        ("hello", "ref-hello", "pending"),
        ("later", "ref-later", "pending"),
    ]
    assert [r.message.created_at for r in history.outbox] == [NOW + 1, NOW + 4]
    assert history.outbox[0].message.key == ALICE
    assert bool(history)


async def test_history_of_an_unknown_user_is_empty(store: Store) -> None:
    await accepted(store, inbound("m-1"))
    history = await store.history("sms", "nobody")
    assert history == History() and not history


async def test_history_shows_what_became_of_each_message(store: Store) -> None:
    sent, failed, waiting = await store.enqueue([reply("a"), reply("b"), reply("c")], now=NOW)
    await store.mark_sent(sent.id, "uuid-a", now=NOW + 1)
    await store.mark_failed(failed.id, "refused: 1020", now=NOW + 2)

    records = (await store.history(ALICE.channel, ALICE.user)).outbox

    assert [(r.status, r.message_uuid, r.error, r.finished_at) for r in records] == [
        ("sent", "uuid-a", None, NOW + 1),
        ("failed", None, "refused: 1020", NOW + 2),
        ("pending", None, None, None),
    ]
    assert [r.message.id for r in records] == [sent.id, failed.id, waiting.id]


async def test_history_keeps_the_newest_up_to_the_limit(store: Store) -> None:
    for n in range(5):
        await accepted(store, inbound(f"m-{n}", at=NOW + n))
    await store.enqueue([reply(str(n)) for n in range(5)], now=NOW)

    history = await store.history(ALICE.channel, ALICE.user, limit=2)

    assert [e.dedupe_key for e in history.inbox] == ["m-3", "m-4"]
    assert [r.message.body["text"] for r in history.outbox] == ["3", "4"]
    assert await store.history(ALICE.channel, ALICE.user, limit=0) == History()


async def test_history_lasts_as_long_as_the_records(store: Store) -> None:
    old = await accepted(store, inbound("old", at=NOW))
    await store.complete_turn(old, Conversation(ALICE), [reply("old")], now=NOW)
    [sent] = (await store.history(ALICE.channel, ALICE.user)).outbox
    await store.mark_sent(sent.message.id, "u-1", now=NOW)
    await accepted(store, inbound("new", at=NOW + 100))

    await store.prune(now=NOW + 100, inbox_before=NOW + 50, outbox_before=NOW + 50,
                      files_before=0)

    history = await store.history(ALICE.channel, ALICE.user)
    assert [e.dedupe_key for e in history.inbox] == ["new"]
    assert history.outbox == []


async def test_forget_takes_the_history_and_the_marks(store: Store) -> None:
    await accepted(store, inbound("m-1"))
    await store.enqueue([reply("hi")], now=NOW)
    await store.mark_handoff(ALICE, since=NOW)
    await store.mark_handoff(BOB, since=NOW)

    removed = await store.forget(ALICE.channel, ALICE.user)

    assert removed == 3  # 1 inbox entry, 1 outbound message, 1 mark
    assert await store.history(ALICE.channel, ALICE.user) == History()
    assert await store.handoffs() == [HandoffMark(BOB, NOW)]
    await accepted(store, inbound("m-2"))  # a new history starts from nothing
    assert [e.dedupe_key for e in (await store.history(ALICE.channel, ALICE.user)).inbox] == [
        "m-2"
    ]


async def test_the_handoff_index_lists_marks_the_longest_first(store: Store) -> None:
    assert await store.handoffs() == []
    await store.mark_handoff(ALICE, since=NOW + 10)
    await store.mark_handoff(BOB, since=NOW)
    await store.mark_handoff(ALICE_TOO, since=NOW + 5)

    assert await store.handoffs() == [
        HandoffMark(BOB, NOW), HandoffMark(ALICE_TOO, NOW + 5), HandoffMark(ALICE, NOW + 10)
    ]
    assert await store.handoffs(limit=1) == [HandoffMark(BOB, NOW)]
    assert await store.handoffs(limit=0) == []

    await store.mark_handoff(BOB, since=NOW + 20)  # marked again: it moves
    await store.unmark_handoff(ALICE_TOO)
    await store.unmark_handoff(ALICE_SMS)  # never marked: nothing happens
    assert await store.handoffs() == [HandoffMark(ALICE, NOW + 10), HandoffMark(BOB, NOW + 20)]


async def test_history_and_marks_survive_a_reopen(store_factory: StoreFactory) -> None:
    async with store_factory.opened() as store:
        await accepted(store, inbound("m-1"))
        await store.mark_handoff(ALICE, since=NOW)
    async with store_factory.opened(store_factory.reopen(store)) as again:
        assert [e.dedupe_key for e in (await again.history(ALICE.channel, ALICE.user)).inbox] == [
            "m-1"
        ]
        assert await again.handoffs() == [HandoffMark(ALICE, NOW)]
