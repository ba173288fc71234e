"""The store contract: every store must pass every test here, with identical results."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from botkit.errors import StoreError, VersionConflict
from botkit.store import (
    Committed,
    Conversation,
    ConversationKey,
    InboxEntry,
    NewInboxEntry,
    NewOutbound,
    OutboundMessage,
    Store,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from .conftest import StoreFactory

T = TypeVar("T")

ALICE = ConversationKey("whatsapp", "447700900001", "447700900000")
BOB = ConversationKey("sms", "447700900002", "447700900000")
CAROL = ConversationKey("messenger", "1234567890", "page-1")
NOW = 1_700_000_000.0


def inbound(dedupe_key: str, key: ConversationKey = ALICE, *, at: float = NOW) -> NewInboxEntry:
    body = b'{"message_uuid":"%s","text":"hi"}' % dedupe_key.encode()
    return NewInboxEntry(dedupe_key=dedupe_key, key=key, kind="inbound", body=body, accepted_at=at)


async def accepted(store: Store, entry: NewInboxEntry) -> int:
    """Accept an entry that must be new, and return its inbox id."""
    inbox_id = await store.accept(entry)
    assert isinstance(inbox_id, int), f"{entry.dedupe_key} was taken for a redelivery"
    return inbox_id


def reply(text: str, key: ConversationKey = ALICE) -> NewOutbound:
    return NewOutbound(
        key=key,
        body={"message_type": "text", "text": text, "to": key.user, "from": key.bot},
        client_ref=f"ref-{text}",
    )


# -- inbox ---------------------------------------------------------------------------


async def test_accept_then_duplicate_returns_none_and_keeps_one_entry(store: Store) -> None:
    first = await store.accept(inbound("m-1"))
    again = await store.accept(inbound("m-1", at=NOW + 60))

    assert isinstance(first, int)
    assert again is None
    pending = await store.pending_inbox()
    assert [e.id for e in pending] == [first]
    assert pending[0] == InboxEntry(
        id=first,
        dedupe_key="m-1",
        key=ALICE,
        kind="inbound",
        body=inbound("m-1").body,
        accepted_at=NOW,
    )


async def test_dedupe_key_outlives_the_finished_entry(store: Store) -> None:
    inbox_id = await accepted(store, inbound("m-1"))
    await store.complete_turn(inbox_id, Conversation(ALICE), [], now=NOW)

    assert await store.accept(inbound("m-1")) is None
    assert await store.pending_inbox() == []


async def test_inbox_ids_grow_in_acceptance_order(store: Store) -> None:
    ids = [await accepted(store, inbound(f"m-{n}", at=NOW + n)) for n in range(5)]

    assert ids == sorted(ids) and len(set(ids)) == 5
    assert [e.id for e in await store.pending_inbox()] == ids
    assert [e.dedupe_key for e in await store.pending_inbox()] == [f"m-{n}" for n in range(5)]


async def test_inbox_body_and_kind_round_trip(store: Store) -> None:
    body = bytes(range(256))  # not UTF-8: bodies are stored as raw bytes
    entry = NewInboxEntry(dedupe_key="s-1", key=BOB, kind="status", body=body, accepted_at=1.5)
    inbox_id = await accepted(store, entry)

    assert await store.pending_inbox() == [
        InboxEntry(inbox_id, dedupe_key="s-1", key=BOB, kind="status", body=body, accepted_at=1.5)
    ]


async def test_pending_inbox_after_id_and_limit(store: Store) -> None:
    ids = [await accepted(store, inbound(f"m-{n}")) for n in range(6)]
    await store.complete_turn(ids[2], Conversation(ALICE), [], now=NOW)
    pending = [i for i in ids if i != ids[2]]

    assert [e.id for e in await store.pending_inbox()] == pending
    assert [e.id for e in await store.pending_inbox(after_id=ids[1])] == pending[2:]
    assert [e.id for e in await store.pending_inbox(limit=2)] == pending[:2]
    assert [e.id for e in await store.pending_inbox(after_id=ids[0], limit=2)] == [
        ids[1],
        ids[3],
    ]
    assert await store.pending_inbox(after_id=ids[-1]) == []
    assert await store.pending_inbox(limit=0) == []
    assert await store.pending_inbox(limit=-1) == []


async def test_concurrent_accepts_of_one_dedupe_key_give_exactly_one_id(store: Store) -> None:
    results = await asyncio.gather(*(store.accept(inbound("m-1", at=NOW + n)) for n in range(50)))

    ids = [r for r in results if r is not None]
    assert len(ids) == 1
    assert [e.id for e in await store.pending_inbox()] == ids


async def test_concurrent_accepts_of_distinct_keys_all_land(store: Store) -> None:
    results = await asyncio.gather(*(store.accept(inbound(f"m-{n}")) for n in range(50)))

    assert None not in results
    assert len(set(results)) == 50
    assert len(await store.pending_inbox()) == 50


# -- conversations and turns ------------------------------------------------------------


async def test_load_of_unknown_key_is_fresh_at_version_zero(store: Store) -> None:
    assert await store.load(ALICE) == Conversation(ALICE)


async def test_complete_turn_marks_done_and_returns_outbound_in_order(store: Store) -> None:
    inbox_id = await accepted(store, inbound("m-1"))
    other_id = await accepted(store, inbound("m-2"))
    conversation = await store.load(ALICE)
    conversation.flow, conversation.state = "signup", "ask_name"
    conversation.data["name"] = "Ada"

    committed = await store.complete_turn(
        inbox_id, conversation, [reply("one"), reply("two"), reply("three")], now=NOW + 1
    )

    assert committed.version == 1
    assert [m.client_ref for m in committed.outbound] == ["ref-one", "ref-two", "ref-three"]
    ids = [m.id for m in committed.outbound]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert committed.outbound[0] == OutboundMessage(
        id=ids[0], key=ALICE, body=reply("one").body, client_ref="ref-one", created_at=NOW + 1
    )
    assert [e.id for e in await store.pending_inbox()] == [other_id]
    assert await store.pending_outbound() == committed.outbound
    stored = await store.load(ALICE)
    assert stored == Conversation(
        ALICE, version=1, flow="signup", state="ask_name", data={"name": "Ada"}
    )

    stored.state = "done"
    again = await store.complete_turn(other_id, stored, [], now=NOW + 2)
    assert again == Committed(version=2, outbound=[])
    assert (await store.load(ALICE)).state == "done"
    assert await store.pending_inbox() == []


async def test_complete_turn_without_an_inbox_entry(store: Store) -> None:
    inbox_id = await accepted(store, inbound("m-1"))

    committed = await store.complete_turn(None, Conversation(BOB), [reply("hi", BOB)], now=NOW)

    assert committed.version == 1
    assert [e.id for e in await store.pending_inbox()] == [inbox_id]
    assert [m.key for m in await store.pending_outbound()] == [BOB]


async def test_finishing_an_unknown_or_finished_inbox_entry_is_a_no_op(store: Store) -> None:
    inbox_id = await accepted(store, inbound("m-1"))
    await store.complete_turn(inbox_id, Conversation(ALICE), [], now=NOW)

    committed = await store.complete_turn(inbox_id, await store.load(ALICE), [], now=NOW)
    assert committed.version == 2
    committed = await store.complete_turn(999_999, await store.load(ALICE), [], now=NOW)
    assert committed.version == 3


async def test_stale_version_conflicts_and_writes_nothing(store: Store) -> None:
    first_id = await accepted(store, inbound("m-1"))
    second_id = await accepted(store, inbound("m-2"))
    stale = await store.load(ALICE)
    winner = await store.load(ALICE)
    winner.data["turn"] = "winner"
    await store.complete_turn(first_id, winner, [reply("winner")], now=NOW)
    before = await store.pending_outbound()

    stale.data["turn"] = "loser"
    with pytest.raises(VersionConflict, match=r"version 1, not 0"):
        await store.complete_turn(second_id, stale, [reply("loser")], now=NOW)

    assert [e.id for e in await store.pending_inbox()] == [second_id]
    assert await store.pending_outbound() == before
    stored = await store.load(ALICE)
    assert (stored.version, stored.data) == (1, {"turn": "winner"})

    stale.version = 1  # the caller retries on the fresh version: now it commits
    stale.data["turn"] = "retried"
    committed = await store.complete_turn(second_id, stale, [], now=NOW)
    assert committed.version == 2
    assert await store.pending_inbox() == []


async def test_version_zero_when_a_row_exists_conflicts(store: Store) -> None:
    await store.complete_turn(None, Conversation(ALICE, data={"a": 1}), [], now=NOW)
    inbox_id = await accepted(store, inbound("m-1"))

    with pytest.raises(VersionConflict):
        await store.complete_turn(inbox_id, Conversation(ALICE), [reply("x")], now=NOW)

    assert (await store.load(ALICE)).data == {"a": 1}
    assert [e.id for e in await store.pending_inbox()] == [inbox_id]
    assert await store.pending_outbound() == []


@pytest.mark.parametrize("version", [1, 5, -1])
async def test_a_version_never_stored_conflicts(store: Store, version: int) -> None:
    with pytest.raises(VersionConflict, match=f"version 0, not {version}"):
        await store.complete_turn(None, Conversation(ALICE, version=version), [], now=NOW)

    assert await store.load(ALICE) == Conversation(ALICE)


async def test_concurrent_turns_on_one_version_commit_once(store: Store) -> None:
    base = await store.load(ALICE)
    turns = [
        store.complete_turn(None, Conversation(ALICE, data={"n": n}), [reply(str(n))], now=NOW)
        for n in range(10)
    ]
    results = await asyncio.gather(*turns, return_exceptions=True)

    won = [r for r in results if isinstance(r, Committed)]
    assert len(won) == 1 and won[0].version == base.version + 1
    assert all(isinstance(r, VersionConflict) for r in results if r is not won[0])
    assert len(await store.pending_outbound()) == 1


async def test_load_returns_copies(store: Store) -> None:
    conversation = Conversation(ALICE, data={"cart": [{"sku": "a"}]}, meta={"menu": {"x": 1}})
    await store.complete_turn(None, conversation, [], now=NOW)
    conversation.data["cart"].append({"sku": "after-commit"})  # the caller's object

    loaded = await store.load(ALICE)
    loaded.data["cart"][0]["sku"] = "changed"
    loaded.meta["menu"]["x"] = 2
    loaded.state = "changed"

    again = await store.load(ALICE)
    assert again.data == {"cart": [{"sku": "a"}]}
    assert again.meta == {"menu": {"x": 1}}
    assert again.state is None
    assert again is not loaded and again.data is not loaded.data

    fresh = await store.load(BOB)
    fresh.data["x"] = 1
    assert await store.load(BOB) == Conversation(BOB)


async def test_conversation_round_trips_through_json(store: Store) -> None:
    data: dict[str, Any] = {
        "name": "Zoë Ñandú",
        "greeting": "こんにちは 👋🏽",
        "rtl": "مرحبا",
        "broken": "\ud83d",  # a lone surrogate, as an escaped webhook can carry
        "nested": {"a": [1, 2.5, None, True, False, {"b": []}], "": {}},
        "big": 2**70,
        "negative": -1e-300,
        "quote": 'say "hi"\n\\',
    }
    meta = {"window": {"opened_at": 1_700_000_000.123456}, "menu": ["1️⃣", "2️⃣"]}
    conversation = Conversation(ALICE, flow="onboarding ✨", state="ä", data=data, meta=meta)

    await store.complete_turn(None, conversation, [], now=NOW)

    loaded = await store.load(ALICE)
    assert loaded == Conversation(
        ALICE, version=1, flow="onboarding ✨", state="ä", data=data, meta=meta
    )


async def test_tuples_come_back_as_lists(store: Store) -> None:
    await store.complete_turn(None, Conversation(ALICE, data={"pair": (1, 2)}), [], now=NOW)

    assert (await store.load(ALICE)).data == {"pair": [1, 2]}


@pytest.mark.parametrize("bad", [{"when": object()}, {"x": float("nan")}, {"s": {1, 2}}])
async def test_data_that_is_not_json_raises_and_writes_nothing(
    store: Store, bad: dict[str, Any]
) -> None:
    inbox_id = await accepted(store, inbound("m-1"))

    with pytest.raises(StoreError, match="not JSON-serialisable"):
        await store.complete_turn(inbox_id, Conversation(ALICE, data=bad), [reply("x")], now=NOW)
    with pytest.raises(StoreError, match="not JSON-serialisable"):
        await store.complete_turn(
            inbox_id, Conversation(ALICE), [NewOutbound(ALICE, bad, "ref")], now=NOW
        )

    assert await store.load(ALICE) == Conversation(ALICE)
    assert [e.id for e in await store.pending_inbox()] == [inbox_id]
    assert await store.pending_outbound() == []


# -- outbox --------------------------------------------------------------------------


async def test_enqueue_pending_outbound_and_marks(store: Store) -> None:
    queued = await store.enqueue([reply("a"), reply("b", BOB), reply("c")], now=NOW)
    turn = await store.complete_turn(None, Conversation(CAROL), [reply("d", CAROL)], now=NOW)
    a, b, c = queued
    (d,) = turn.outbound

    assert [m.client_ref for m in queued] == ["ref-a", "ref-b", "ref-c"]
    assert a.id < b.id < c.id < d.id
    assert (b.key, b.body, b.created_at, b.attempts) == (BOB, reply("b", BOB).body, NOW, 0)
    assert await store.pending_outbound() == [a, b, c, d]
    assert await store.pending_outbound(limit=2) == [a, b]
    assert await store.pending_outbound(limit=0) == []

    await store.mark_sent(b.id, "uuid-b", now=NOW + 1)
    await store.mark_failed(a.id, "1020: invalid params", now=NOW + 1)
    assert await store.pending_outbound() == [c, d]

    # Only a pending message changes: the first terminal state wins; unknown ids are ignored.
    await store.mark_failed(b.id, "late", now=NOW + 2)
    await store.mark_sent(a.id, "late", now=NOW + 2)
    await store.mark_sent(999_999, "nobody", now=NOW + 2)
    assert await store.pending_outbound() == [c, d]

    await store.mark_sent(c.id, "uuid-c", now=NOW + 3)
    await store.mark_sent(d.id, "uuid-d", now=NOW + 3)
    assert await store.pending_outbound() == []


async def test_enqueue_nothing(store: Store) -> None:
    assert await store.enqueue([], now=NOW) == []
    assert await store.pending_outbound() == []


async def test_outbound_bodies_are_copies(store: Store) -> None:
    message = reply("a")
    (queued,) = await store.enqueue([message], now=NOW)
    queued.body["text"] = "changed"
    message.body["text"] = "changed too"

    (pending,) = await store.pending_outbound()
    assert pending.body["text"] == "a"
    pending.body["text"] = "changed again"
    assert (await store.pending_outbound())[0].body["text"] == "a"


# -- lifecycle and health -------------------------------------------------------------


async def test_health_counts_pending_work(store: Store) -> None:
    health = await store.health()
    assert health["ok"] is True
    assert health["store"] in {"memory", "sqlite", "redis"}
    assert (health["inbox_pending"], health["outbound_pending"]) == (0, 0)

    first = await accepted(store, inbound("m-1"))
    await accepted(store, inbound("m-2"))
    assert await store.accept(inbound("m-2")) is None
    (queued,) = await store.enqueue([reply("a")], now=NOW)
    await store.complete_turn(first, Conversation(ALICE), [reply("b"), reply("c")], now=NOW)
    await store.mark_sent(queued.id, "uuid", now=NOW)

    health = await store.health()
    assert (health["inbox_pending"], health["outbound_pending"]) == (1, 2)


async def test_calls_before_open_raise_store_error(store_factory: StoreFactory) -> None:
    store = store_factory.new()
    calls: list[Callable[[], Coroutine[Any, Any, object]]] = [
        lambda: store.accept(inbound("m-1")),
        lambda: store.pending_inbox(),
        lambda: store.load(ALICE),
        lambda: store.complete_turn(None, Conversation(ALICE), [], now=NOW),
        lambda: store.enqueue([reply("a")], now=NOW),
        lambda: store.pending_outbound(),
        lambda: store.mark_sent(1, "uuid", now=NOW),
        lambda: store.mark_failed(1, "error", now=NOW),
        lambda: store.health(),
    ]
    for call in calls:
        with pytest.raises(StoreError, match=r"open\(\)"):
            await call()
    await store.close()  # closing a store that was never opened is harmless


async def test_open_is_idempotent_and_close_is_repeatable(store_factory: StoreFactory) -> None:
    store = store_factory.new()
    await store.open()
    await store.open()
    inbox_id = await accepted(store, inbound("m-1"))
    await store.open()
    assert [e.id for e in await store.pending_inbox()] == [inbox_id]
    await store.close()
    await store.close()

    with pytest.raises(StoreError, match=r"open\(\)"):
        await store.pending_inbox()


async def test_committed_data_survives_close_and_reopen(store_factory: StoreFactory) -> None:
    async with store_factory.opened() as store:
        done_id = await accepted(store, inbound("m-1"))
        pending_id = await accepted(store, inbound("m-2"))
        turn = await store.complete_turn(
            done_id, Conversation(ALICE, data={"n": 1}), [reply("a")], now=NOW
        )
        queued = await store.enqueue([reply("b", BOB)], now=NOW)

    async with store_factory.opened(store_factory.reopen(store)) as reopened:
        assert [e.id for e in await reopened.pending_inbox()] == [pending_id]
        assert await reopened.pending_outbound() == turn.outbound + queued
        assert await reopened.load(ALICE) == Conversation(ALICE, version=1, data={"n": 1})
        assert await reopened.accept(inbound("m-1")) is None
        assert await accepted(reopened, inbound("m-3")) > pending_id


# -- a reference model, driven by Hypothesis -------------------------------------------

KEYS = [ALICE, BOB, CAROL]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
json_objects = st.dictionaries(st.text(max_size=5), json_values, max_size=3)
new_outbound = st.builds(
    NewOutbound, key=st.sampled_from(KEYS), body=json_objects, client_ref=st.text(max_size=8)
)


class StoreModel(RuleBasedStateMachine):
    """Random sequences of store operations, checked against a plain-Python reference."""

    factory: ClassVar[StoreFactory]

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.store = self.factory.new()
        self.run(self.store.open())
        self.now = NOW
        self.seen: set[str] = set()
        self.inbox: dict[int, NewInboxEntry] = {}  # pending only, in acceptance order
        self.finished: list[int] = []
        self.conversations: dict[ConversationKey, Conversation] = {}
        self.outbox: dict[int, OutboundMessage] = {}  # pending only, in queue order
        self.outbox_done: list[int] = []

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coro)

    def teardown(self) -> None:
        try:
            self.run(self.store.close())
        finally:
            self.runner.close()

    def tick(self) -> float:
        self.now += 1.5
        return self.now

    def last_inbox_id(self) -> int:
        return max([*self.inbox, *self.finished], default=0)

    def last_outbox_id(self) -> int:
        return max([*self.outbox, *self.outbox_done], default=0)

    def queue(self, outbound: list[NewOutbound], queued: list[OutboundMessage], at: float) -> None:
        assert [(m.key, m.body, m.client_ref) for m in queued] == [
            (m.key, m.body, m.client_ref) for m in outbound
        ]
        ids = [m.id for m in queued]
        assert ids == sorted(set(ids)) and all(i > self.last_outbox_id() for i in ids)
        assert all(m.created_at == at and m.attempts == 0 for m in queued)
        self.outbox.update((m.id, m) for m in queued)

    @rule(
        dedupe_key=st.sampled_from("abcdefgh"),
        key=st.sampled_from(KEYS),
        kind=st.sampled_from(["inbound", "status"]),
        body=st.binary(max_size=16),
    )
    def accept(self, dedupe_key: str, key: ConversationKey, kind: Any, body: bytes) -> None:
        entry = NewInboxEntry(dedupe_key, key, kind, body, self.tick())
        inbox_id = self.run(self.store.accept(entry))
        if dedupe_key in self.seen:
            assert inbox_id is None
            return
        assert inbox_id is not None and inbox_id > self.last_inbox_id()
        self.seen.add(dedupe_key)
        self.inbox[inbox_id] = entry

    @rule(
        data=st.data(),
        key=st.sampled_from(KEYS),
        skew=st.sampled_from([0, 0, 0, -1, 1]),
        state=st.none() | st.text(max_size=5),
        payload=json_objects,
        outbound=st.lists(new_outbound, max_size=3),
    )
    def complete_turn(
        self,
        data: st.DataObject,
        key: ConversationKey,
        skew: int,
        state: str | None,
        payload: dict[str, Any],
        outbound: list[NewOutbound],
    ) -> None:
        inbox_id = data.draw(st.sampled_from([None, *self.inbox, *self.finished, 10**6]))
        current = self.conversations.get(key, Conversation(key)).version
        conversation = Conversation(key, current + skew, "flow", state, payload, {"k": payload})
        at = self.tick()
        if skew:
            with pytest.raises(VersionConflict):
                self.run(self.store.complete_turn(inbox_id, conversation, outbound, now=at))
            return
        committed = self.run(self.store.complete_turn(inbox_id, conversation, outbound, now=at))
        assert committed.version == current + 1
        self.conversations[key] = Conversation(
            key, current + 1, "flow", state, payload, {"k": payload}
        )
        if inbox_id in self.inbox:
            del self.inbox[inbox_id]
            self.finished.append(inbox_id)
        self.queue(outbound, committed.outbound, at)

    @rule(outbound=st.lists(new_outbound, max_size=3))
    def enqueue(self, outbound: list[NewOutbound]) -> None:
        at = self.tick()
        self.queue(outbound, self.run(self.store.enqueue(outbound, now=at)), at)

    @precondition(lambda self: bool(self.outbox or self.outbox_done))
    @rule(data=st.data(), sent=st.booleans())
    def mark(self, data: st.DataObject, sent: bool) -> None:
        outbound_id = data.draw(st.sampled_from([*self.outbox, *self.outbox_done, 10**6]))
        if sent:
            self.run(self.store.mark_sent(outbound_id, "uuid", now=self.tick()))
        else:
            self.run(self.store.mark_failed(outbound_id, "refused", now=self.tick()))
        if self.outbox.pop(outbound_id, None) is not None:
            self.outbox_done.append(outbound_id)

    @invariant()
    def store_agrees_with_model(self) -> None:
        pending = self.run(self.store.pending_inbox())
        assert [(e.id, e.dedupe_key, e.key, e.kind, e.body, e.accepted_at) for e in pending] == [
            (i, e.dedupe_key, e.key, e.kind, e.body, e.accepted_at) for i, e in self.inbox.items()
        ]
        assert self.run(self.store.pending_outbound()) == list(self.outbox.values())
        for key in KEYS:
            assert self.run(self.store.load(key)) == self.conversations.get(key, Conversation(key))
        health = self.run(self.store.health())
        assert (health["inbox_pending"], health["outbound_pending"]) == (
            len(self.inbox),
            len(self.outbox),
        )


def test_random_operations_agree_with_a_reference_model(store_factory: StoreFactory) -> None:
    # A sync test: each Hypothesis example runs its store on its own event loop.
    machine = type("StoreModelRun", (StoreModel,), {"factory": store_factory})
    quick = settings(max_examples=40, stateful_step_count=25, deadline=None, database=None)
    run_state_machine_as_test(machine, settings=quick)  # type: ignore[no-untyped-call]


async def test_files_are_kept_and_replaced(store: Store) -> None:
    assert await store.get_file("nope") is None
    vcard = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana \xc3\xb1\r\nEND:VCARD\r\n"
    await store.put_files({"abc": ("text/vcard", vcard), "def": ("text/plain", b"x")}, now=1.0)
    assert await store.get_file("abc") == ("text/vcard", vcard)
    await store.put_files({"abc": ("text/vcard", b"new")}, now=2.0)
    assert await store.get_file("abc") == ("text/vcard", b"new")
    assert await store.get_file("def") == ("text/plain", b"x")


async def test_timers_are_indexed_with_the_conversation(store: Store) -> None:
    from botkit.store.base import DueTimer

    a = ConversationKey("sms", "447700900001", "447700900000")
    b = ConversationKey("whatsapp", "447700900002", "447700900000")
    first = Conversation(a, meta={"timer": {"id": "t1", "due": 100.0}})
    await store.complete_turn(None, first, [], now=1.0)
    await store.complete_turn(
        None, Conversation(b, meta={"timer": {"id": "t2", "due": 50.0}}), [], now=1.0
    )
    assert await store.due_timers(now=49.0) == []
    assert await store.due_timers(now=100.0) == [DueTimer(b, "t2", 50.0), DueTimer(a, "t1", 100.0)]
    assert await store.due_timers(now=100.0, limit=1) == [DueTimer(b, "t2", 50.0)]
    moved = await store.load(a)
    moved.meta["timer"] = {"id": "t3", "due": 200.0}
    await store.complete_turn(None, moved, [], now=2.0)
    assert await store.due_timers(now=150.0) == [DueTimer(b, "t2", 50.0)]
    cleared = await store.load(b)
    del cleared.meta["timer"]
    await store.complete_turn(None, cleared, [], now=3.0)
    assert await store.due_timers(now=1e9) == [DueTimer(a, "t3", 200.0)]


async def test_a_conflicting_turn_leaves_the_timer_index_alone(store: Store) -> None:
    key = ConversationKey("sms", "447700900001", "447700900000")
    await store.complete_turn(
        None, Conversation(key, meta={"timer": {"id": "t1", "due": 5.0}}), [], now=1.0
    )
    stale = Conversation(key, version=0, meta={})
    with pytest.raises(VersionConflict):
        await store.complete_turn(None, stale, [], now=2.0)
    assert [t.timer_id for t in await store.due_timers(now=10.0)] == ["t1"]
