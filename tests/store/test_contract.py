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

from botkit.errors import AlreadyDone, LeaseLost, StoreError, VersionConflict
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

from .conftest import SHARED_KINDS, STORE_KINDS

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


async def test_finishing_a_finished_or_unknown_inbox_entry_is_refused(store: Store) -> None:
    inbox_entry = inbound("m-1")
    inbox_id = await accepted(store, inbox_entry)
    await store.complete_turn(inbox_id, Conversation(ALICE), [reply("first")], now=NOW)
    before = await store.pending_outbound()

    # The same event's turn run again, even on the fresh version, must not commit again.
    fresh = await store.load(ALICE)
    fresh.data["again"] = True
    with pytest.raises(AlreadyDone, match=f"inbox entry {inbox_id} is not pending"):
        await store.complete_turn(inbox_id, fresh, [reply("second")], now=NOW)
    with pytest.raises(AlreadyDone):
        await store.complete_turn(999_999, fresh, [reply("third")], now=NOW)

    assert await store.load(ALICE) == Conversation(ALICE, version=1)
    assert await store.pending_outbound() == before
    assert await store.accept(inbox_entry) is None


async def test_finishing_another_conversations_entry_is_refused(store: Store) -> None:
    inbox_id = await accepted(store, inbound("m-1", BOB))

    with pytest.raises(StoreError, match=f"belongs to conversation {BOB}") as info:
        await store.complete_turn(inbox_id, Conversation(ALICE), [reply("x")], now=NOW)

    assert type(info.value) is StoreError
    assert await store.load(ALICE) == Conversation(ALICE)
    assert [e.id for e in await store.pending_for(BOB)] == [inbox_id]
    assert await store.pending_outbound() == []


async def test_one_entry_finished_by_racing_turns_commits_once(store: Store) -> None:
    inbox_id = await accepted(store, inbound("m-1"))
    await store.complete_turn(None, Conversation(ALICE), [], now=NOW)

    async def turn(n: int) -> Committed:
        # Each racer retries its version conflicts, as a worker does: only the inbox
        # entry can stop the second commit.
        while True:
            conversation = await store.load(ALICE)
            conversation.data["by"] = n
            try:
                return await store.complete_turn(inbox_id, conversation, [reply(str(n))], now=NOW)
            except VersionConflict:
                continue

    results = await asyncio.gather(*(turn(n) for n in range(10)), return_exceptions=True)

    assert sum(isinstance(r, Committed) for r in results) == 1
    assert all(isinstance(r, AlreadyDone) for r in results if not isinstance(r, Committed))
    assert (await store.load(ALICE)).version == 2
    assert len(await store.pending_outbound()) == 1


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
    assert health["store"] in {"memory", "sqlite", "redis", "postgresql"}
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
        lambda: store.count_attempt(1),
        lambda: store.health(),
        lambda: store.pending_for(ALICE),
        lambda: store.acquire_lease(ALICE, "a", ttl=1, now=NOW),
        lambda: store.release_lease(ALICE, 1),
        lambda: store.prune(now=NOW, inbox_before=NOW, outbox_before=NOW, files_before=NOW),
        lambda: store.forget("sms", "447700900001"),
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

ALICE_TOO = ConversationKey(ALICE.channel, ALICE.user, "447700900999")  # same user, other bot
KEYS = [ALICE, BOB, CAROL, ALICE_TOO]
OWNERS = ["a", "b"]
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
        self.finished: dict[int, NewInboxEntry] = {}  # finished and not pruned
        self.gone: list[int] = []  # pruned or forgotten ids
        self.conversations: dict[ConversationKey, Conversation] = {}
        self.outbox: dict[int, OutboundMessage] = {}  # pending only, in queue order
        self.outbox_done: dict[int, tuple[OutboundMessage, float]] = {}  # with finish time
        self.outbox_ids: list[int] = []  # every id handed out
        self.leases: dict[ConversationKey, tuple[str, int, float]] = {}
        self.tokens: list[int] = []  # every token handed out

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
        return max([*self.inbox, *self.finished, *self.gone], default=0)

    def queue(self, outbound: list[NewOutbound], queued: list[OutboundMessage], at: float) -> None:
        assert [(m.key, m.body, m.client_ref) for m in queued] == [
            (m.key, m.body, m.client_ref) for m in outbound
        ]
        ids = [m.id for m in queued]
        assert ids == sorted(set(ids)) and all(i > max(self.outbox_ids, default=0) for i in ids)
        assert all(m.created_at == at and m.attempts == 0 for m in queued)
        self.outbox.update((m.id, m) for m in queued)
        self.outbox_ids += ids

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
        own = [i for i, e in self.inbox.items() if e.key == key]
        inbox_id = data.draw(
            st.sampled_from([None, *own, *own, *self.inbox, *self.finished, *self.gone, 10**6])
        )
        lease = self.leases.get(key)
        fence = data.draw(
            st.sampled_from([None, None, *([lease[1]] if lease else []), *self.tokens[-2:]])
        )
        current = self.conversations.get(key, Conversation(key)).version
        conversation = Conversation(key, current + skew, "flow", state, payload, {"k": payload})
        at = self.tick()
        refused: type[StoreError] | None = None
        if fence is not None and (lease is None or lease[1] != fence):
            refused = LeaseLost
        elif inbox_id is not None and inbox_id not in self.inbox:
            refused = AlreadyDone
        elif inbox_id is not None and self.inbox[inbox_id].key != key:
            refused = StoreError
        elif skew:
            refused = VersionConflict
        if refused is not None:
            with pytest.raises(StoreError) as info:
                self.run(
                    self.store.complete_turn(inbox_id, conversation, outbound, now=at, fence=fence)
                )
            assert type(info.value) is refused
            return
        committed = self.run(
            self.store.complete_turn(inbox_id, conversation, outbound, now=at, fence=fence)
        )
        assert committed.version == current + 1
        self.conversations[key] = Conversation(
            key, current + 1, "flow", state, payload, {"k": payload}
        )
        if inbox_id is not None:
            self.finished[inbox_id] = self.inbox.pop(inbox_id)
        self.queue(outbound, committed.outbound, at)

    @rule(outbound=st.lists(new_outbound, max_size=3))
    def enqueue(self, outbound: list[NewOutbound]) -> None:
        at = self.tick()
        self.queue(outbound, self.run(self.store.enqueue(outbound, now=at)), at)

    @precondition(lambda self: bool(self.outbox_ids))
    @rule(data=st.data(), sent=st.booleans())
    def mark(self, data: st.DataObject, sent: bool) -> None:
        outbound_id = data.draw(st.sampled_from([*self.outbox_ids, 10**6]))
        at = self.tick()
        if sent:
            self.run(self.store.mark_sent(outbound_id, "uuid", now=at))
        else:
            self.run(self.store.mark_failed(outbound_id, "refused", now=at))
        message = self.outbox.pop(outbound_id, None)
        if message is not None:
            self.outbox_done[outbound_id] = (message, at)

    @rule(key=st.sampled_from(KEYS), owner=st.sampled_from(OWNERS), ttl=st.sampled_from([1, 5]))
    def acquire_lease(self, key: ConversationKey, owner: str, ttl: float) -> None:
        at = self.tick()
        token = self.run(self.store.acquire_lease(key, owner, ttl=ttl, now=at))
        held = self.leases.get(key)
        if held is not None and held[0] != owner and held[2] > at:
            assert token is None
            return
        assert token is not None and token > max(self.tokens, default=0)
        self.tokens.append(token)
        self.leases[key] = (owner, token, at + ttl)

    @precondition(lambda self: bool(self.tokens))
    @rule(data=st.data(), key=st.sampled_from(KEYS))
    def release_lease(self, data: st.DataObject, key: ConversationKey) -> None:
        token = data.draw(st.sampled_from(self.tokens))
        released = self.run(self.store.release_lease(key, token))
        held = self.leases.get(key)
        assert released is (held is not None and held[1] == token)
        if released:
            del self.leases[key]

    @rule(back=st.sampled_from([0.0, 3.0, 10.0, 100.0]))
    def prune(self, back: float) -> None:
        cutoff = self.now - back  # accepted_at and created_at grow: no early stop here
        prune = self.store.prune(
            now=self.now, inbox_before=cutoff, outbox_before=cutoff, files_before=0
        )
        pruned = self.run(prune)
        inbox = [i for i, e in self.finished.items() if e.accepted_at < cutoff]
        outbox = [i for i, (_, at) in self.outbox_done.items() if at < cutoff]
        assert pruned == {"inbox": len(inbox), "outbox": len(outbox), "dedupe": 0, "files": 0}
        for i in inbox:
            del self.finished[i]
        for i in outbox:
            del self.outbox_done[i]
        self.gone += inbox

    @rule(key=st.sampled_from(KEYS))
    def forget(self, key: ConversationKey) -> None:
        removed = self.run(self.store.forget(key.channel, key.user))

        def theirs(k: ConversationKey) -> bool:
            return (k.channel, k.user) == (key.channel, key.user)

        expected = 0
        for table in (self.conversations, self.leases):
            for k in [k for k in table if theirs(k)]:
                del table[k]
                expected += 1
        for entries in (self.inbox, self.finished):
            for i in [i for i, e in entries.items() if theirs(e.key)]:
                del entries[i]
                self.gone.append(i)
                expected += 1
        for outbox in (self.outbox, self.outbox_done):
            for i in [i for i, m in outbox.items() if theirs(_message(m).key)]:
                del outbox[i]
                expected += 1
        assert removed == expected

    @invariant()
    def store_agrees_with_model(self) -> None:
        pending = self.run(self.store.pending_inbox())
        assert [(e.id, e.dedupe_key, e.key, e.kind, e.body, e.accepted_at) for e in pending] == [
            (i, e.dedupe_key, e.key, e.kind, e.body, e.accepted_at) for i, e in self.inbox.items()
        ]
        for key in KEYS:
            assert [e.id for e in self.run(self.store.pending_for(key))] == [
                i for i, e in self.inbox.items() if e.key == key
            ]
        assert self.run(self.store.pending_outbound()) == list(self.outbox.values())
        for key in KEYS:
            assert self.run(self.store.load(key)) == self.conversations.get(key, Conversation(key))
        health = self.run(self.store.health())
        assert (health["inbox_pending"], health["outbound_pending"]) == (
            len(self.inbox),
            len(self.outbox),
        )


def _message(row: OutboundMessage | tuple[OutboundMessage, float]) -> OutboundMessage:
    return row if isinstance(row, OutboundMessage) else row[0]


def test_random_operations_agree_with_a_reference_model(store_factory: StoreFactory) -> None:
    # A sync test: each Hypothesis example runs its store on its own event loop.
    machine = type("StoreModelRun", (StoreModel,), {"factory": store_factory})
    quick = settings(max_examples=40, stateful_step_count=30, deadline=None, database=None)
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


# -- one conversation's inbox, leases and fencing -------------------------------------


async def test_shared_is_true_only_for_stores_processes_share(store_factory: StoreFactory) -> None:
    assert store_factory.new().shared is (store_factory.kind in SHARED_KINDS)


async def test_pending_for_lists_one_conversations_entries_in_order(store: Store) -> None:
    ids = {
        (key, n): await accepted(store, inbound(f"{key.channel}-{n}", key))
        for n in range(4)
        for key in (ALICE, BOB)
    }
    alice = [ids[ALICE, n] for n in range(4)]

    assert [e.id for e in await store.pending_for(ALICE)] == alice
    assert [e.dedupe_key for e in await store.pending_for(BOB)] == [f"sms-{n}" for n in range(4)]
    assert await store.pending_for(CAROL) == []
    assert [e.id for e in await store.pending_for(ALICE, limit=2)] == alice[:2]
    assert await store.pending_for(ALICE, limit=0) == []

    await store.complete_turn(alice[1], Conversation(ALICE), [], now=NOW)
    entries = await store.pending_for(ALICE)
    assert [e.id for e in entries] == [alice[0], *alice[2:]]
    body = inbound("whatsapp-0").body
    assert entries[0] == InboxEntry(alice[0], "whatsapp-0", ALICE, "inbound", body, NOW)


async def test_lease_tokens_fence_one_owner_at_a_time(store: Store) -> None:
    first = await store.acquire_lease(ALICE, "a", ttl=10, now=NOW)
    assert isinstance(first, int)
    assert await store.acquire_lease(ALICE, "b", ttl=10, now=NOW + 9.9) is None
    other = await store.acquire_lease(BOB, "b", ttl=10, now=NOW)  # other conversations: free
    assert isinstance(other, int) and other > first

    renewed = await store.acquire_lease(ALICE, "a", ttl=10, now=NOW + 5)  # the holder renews
    assert isinstance(renewed, int) and renewed > other
    assert await store.acquire_lease(ALICE, "b", ttl=10, now=NOW + 14.9) is None
    assert await store.release_lease(ALICE, first) is False  # an old token releases nothing
    assert await store.acquire_lease(ALICE, "b", ttl=10, now=NOW + 14.9) is None

    taken = await store.acquire_lease(ALICE, "b", ttl=10, now=NOW + 15)  # expired: b takes it
    assert isinstance(taken, int) and taken > renewed
    assert await store.release_lease(ALICE, renewed) is False
    assert await store.acquire_lease(ALICE, "a", ttl=10, now=NOW + 16) is None

    assert await store.release_lease(ALICE, taken) is True
    assert await store.release_lease(ALICE, taken) is False
    again = await store.acquire_lease(ALICE, "a", ttl=10, now=NOW + 16)
    # Tokens never repeat, also after the lease was released (its record deleted).
    assert isinstance(again, int) and again > taken


async def test_a_fenced_turn_commits_only_while_its_lease_holds(store: Store) -> None:
    first_id = await accepted(store, inbound("m-1"))
    second_id = await accepted(store, inbound("m-2"))
    token = await store.acquire_lease(ALICE, "a", ttl=1, now=NOW)
    assert token is not None
    conversation = await store.load(ALICE)
    conversation.data["by"] = "a"
    committed = await store.complete_turn(
        first_id, conversation, [reply("a")], now=NOW + 0.5, fence=token
    )
    assert committed.version == 1

    # a hangs past its lease; b takes the conversation over.
    stale = await store.load(ALICE)
    taken = await store.acquire_lease(ALICE, "b", ttl=1, now=NOW + 2)
    assert taken is not None
    stale.data["by"] = "a, late"
    with pytest.raises(LeaseLost, match=f"no longer token {token}"):
        await store.complete_turn(second_id, stale, [reply("late")], now=NOW + 3, fence=token)
    assert (await store.load(ALICE)).data == {"by": "a"}
    assert [e.id for e in await store.pending_for(ALICE)] == [second_id]
    assert await store.pending_outbound() == committed.outbound

    fresh = await store.load(ALICE)
    fresh.data["by"] = "b"
    await store.complete_turn(second_id, fresh, [], now=NOW + 3, fence=taken)
    assert (await store.load(ALICE)).data == {"by": "b"}
    assert await store.release_lease(ALICE, taken) is True

    # With no lease at all, a fenced write is refused too; an unfenced one is not.
    with pytest.raises(LeaseLost):
        await store.complete_turn(None, await store.load(ALICE), [], now=NOW, fence=taken)
    assert (await store.complete_turn(None, await store.load(ALICE), [], now=NOW)).version == 3


async def test_refusals_come_in_order_lease_entry_version(store: Store) -> None:
    inbox_id = await accepted(store, inbound("m-1"))
    await store.complete_turn(inbox_id, Conversation(ALICE), [], now=NOW)
    token = await store.acquire_lease(ALICE, "a", ttl=10, now=NOW)
    assert token is not None
    stale = Conversation(ALICE)  # version 0: a conflict too

    with pytest.raises(LeaseLost):
        await store.complete_turn(inbox_id, stale, [], now=NOW, fence=token + 1000)
    with pytest.raises(AlreadyDone):
        await store.complete_turn(inbox_id, stale, [], now=NOW, fence=token)
    with pytest.raises(VersionConflict):
        await store.complete_turn(None, stale, [], now=NOW, fence=token)


async def test_lease_tokens_keep_growing_after_a_reopen(store_factory: StoreFactory) -> None:
    async with store_factory.opened() as store:
        token = await store.acquire_lease(ALICE, "a", ttl=10, now=NOW)
        assert token is not None
        assert await store.release_lease(ALICE, token)

    async with store_factory.opened(store_factory.reopen(store)) as reopened:
        again = await reopened.acquire_lease(ALICE, "a", ttl=10, now=NOW)
        assert again is not None and again > token
        held = await reopened.acquire_lease(BOB, "a", ttl=10, now=NOW)
        assert held is not None

    async with store_factory.opened(store_factory.reopen(store)) as reopened:
        assert await reopened.acquire_lease(BOB, "b", ttl=10, now=NOW + 1) is None


# -- housekeeping ---------------------------------------------------------------------


async def test_prune_deletes_old_finished_work_and_keeps_the_rest(store: Store) -> None:
    day = 86_400.0
    old_done = await accepted(store, inbound("m-1", at=NOW))
    old_pending = await accepted(store, inbound("m-2", at=NOW + 1))
    recent_done = await accepted(store, inbound("m-3", at=NOW + 2 * day))
    for inbox_id, at in ((old_done, NOW + 10), (recent_done, NOW + 2 * day)):
        conversation = await store.load(ALICE)
        await store.complete_turn(inbox_id, conversation, [], now=at)
    sent, failed, waiting = await store.enqueue([reply("a"), reply("b"), reply("c")], now=NOW)
    (late,) = await store.enqueue([reply("d")], now=NOW + 2 * day)
    await store.mark_sent(sent.id, "uuid-a", now=NOW + 1)
    await store.mark_failed(failed.id, "refused", now=NOW + 1)
    await store.mark_sent(late.id, "uuid-d", now=NOW + 2 * day)

    cutoff = NOW + day
    pruned = await store.prune(
        now=NOW + day, inbox_before=cutoff, outbox_before=cutoff, files_before=0.0
    )

    assert pruned == {"inbox": 1, "outbox": 2, "dedupe": 0, "files": 0}
    assert [e.id for e in await store.pending_inbox()] == [old_pending]
    assert await store.pending_outbound() == [waiting]
    # Pruned entries stay finished: their dedupe keys still refuse redeliveries, and a
    # late write for one is refused.
    assert await store.accept(inbound("m-1")) is None
    with pytest.raises(AlreadyDone):
        await store.complete_turn(old_done, await store.load(ALICE), [], now=NOW)
    again = await store.prune(
        now=NOW + day, inbox_before=cutoff, outbox_before=cutoff, files_before=0.0
    )
    assert again == {"inbox": 0, "outbox": 0, "dedupe": 0, "files": 0}
    # Everything finished goes once the cutoff passes it.
    later = NOW + 3 * day
    final = await store.prune(now=NOW, inbox_before=later, outbox_before=later, files_before=0)
    assert (final["inbox"], final["outbox"]) == (1, 1)
    assert [e.id for e in await store.pending_inbox()] == [old_pending]


async def test_prune_stops_at_the_first_entry_after_the_cutoff(store: Store) -> None:
    # Walking in id order, it stops at the first entry accepted at or after the cutoff,
    # even if a later one (a process with a slow clock) was accepted earlier.
    first = await accepted(store, inbound("m-1", at=NOW))
    await accepted(store, inbound("m-2", at=NOW + 100))
    skewed = await accepted(store, inbound("m-3", at=NOW + 1))
    for inbox_id in (first, skewed):
        await store.complete_turn(inbox_id, await store.load(ALICE), [], now=NOW + 200)
    (early,) = await store.enqueue([reply("a")], now=NOW)
    await store.enqueue([reply("b")], now=NOW + 100)
    (skewed_out,) = await store.enqueue([reply("c")], now=NOW + 1)
    for message in (early, skewed_out):
        await store.mark_sent(message.id, "uuid", now=NOW + 2)

    cutoff = NOW + 50
    pruned = await store.prune(now=NOW, inbox_before=cutoff, outbox_before=cutoff, files_before=0)

    assert (pruned["inbox"], pruned["outbox"]) == (1, 1)


async def test_prune_keeps_dedupe_keys_for_25_hours(store: Store) -> None:
    await accepted(store, inbound("m-1", at=NOW))

    await store.prune(
        now=NOW + 24.9 * 3600, inbox_before=NOW, outbox_before=NOW, files_before=0.0
    )

    assert await store.accept(inbound("m-1", at=NOW + 24.9 * 3600)) is None


# Redis expires dedupe keys and files by TTLs on the server's clock, which a FakeClock
# cannot move: test_redis.py::test_dedupe_keys_and_files_expire covers it there.
@pytest.mark.parametrize(
    "store_factory", [kind for kind in STORE_KINDS if kind != "redis"], indirect=True
)
async def test_prune_deletes_older_dedupe_keys_and_files(store_factory: StoreFactory) -> None:
    async with store_factory.opened() as store:
        await accepted(store, inbound("m-1", at=NOW))
        await accepted(store, inbound("m-2", at=NOW + 3600))
        await store.put_files({"old": ("text/vcard", b"a")}, now=NOW)
        await store.put_files({"new": ("text/vcard", b"b")}, now=NOW + 3600)

        pruned = await store.prune(
            now=NOW + 25.5 * 3600, inbox_before=0.0, outbox_before=0.0, files_before=NOW + 1
        )

        assert pruned == {"inbox": 0, "outbox": 0, "dedupe": 1, "files": 1}
        assert await store.get_file("old") is None
        assert await store.get_file("new") == ("text/vcard", b"b")
        assert isinstance(await store.accept(inbound("m-1", at=NOW + 25.5 * 3600)), int)
        assert await store.accept(inbound("m-2", at=NOW + 25.5 * 3600)) is None


async def test_forget_deletes_everything_about_one_user(store: Store) -> None:
    other_bot = ConversationKey(ALICE.channel, ALICE.user, "447700900999")
    done = await accepted(store, inbound("m-1"))
    pending = await accepted(store, inbound("m-2"))
    await accepted(store, inbound("m-3", other_bot))
    bob_entry = await accepted(store, inbound("b-1", BOB))
    timer = {"timer": {"id": "t1", "due": NOW + 60}}
    await store.complete_turn(
        done, Conversation(ALICE, data={"name": "Ada"}, meta=timer), [reply("a")], now=NOW
    )
    await store.complete_turn(None, Conversation(other_bot), [], now=NOW)
    await store.complete_turn(None, Conversation(BOB, data={"b": 1}), [reply("b", BOB)], now=NOW)
    (queued,) = await store.enqueue([reply("c")], now=NOW)
    await store.mark_sent(queued.id, "uuid", now=NOW)
    await store.acquire_lease(ALICE, "a", ttl=60, now=NOW)

    removed = await store.forget(ALICE.channel, ALICE.user)

    # 2 conversations, 3 inbox entries, 2 outbound messages, 1 timer, 1 lease
    assert removed == 9
    assert await store.load(ALICE) == Conversation(ALICE)
    assert await store.load(other_bot) == Conversation(other_bot)
    assert await store.pending_for(ALICE) == [] and await store.pending_for(other_bot) == []
    assert [e.id for e in await store.pending_inbox()] == [bob_entry]
    assert [m.key for m in await store.pending_outbound()] == [BOB]
    assert await store.due_timers(now=NOW + 3600) == []
    assert await store.acquire_lease(ALICE, "b", ttl=60, now=NOW) is not None
    assert (await store.load(BOB)).data == {"b": 1}
    with pytest.raises(AlreadyDone):
        await store.complete_turn(pending, Conversation(ALICE), [], now=NOW)
    assert await store.accept(inbound("m-1")) is None  # dedupe keys stay
    assert await store.forget(ALICE.channel, ALICE.user) == 1  # the lease b just took
    assert await store.forget("sms", "nobody") == 0


async def test_forget_matches_the_user_exactly(store: Store) -> None:
    tricky = [
        ConversationKey("sms", "4477*", "b"),
        ConversationKey("sms", "4477", "b"),
        ConversationKey("sms", "44771", "b"),
        ConversationKey("sms", 'a"]', "b"),
        ConversationKey("mms", "4477", "b"),
    ]
    for n, key in enumerate(tricky):
        await accepted(store, inbound(f"m-{n}", key))
        await store.complete_turn(None, Conversation(key), [], now=NOW)

    assert await store.forget("sms", "4477*") == 2
    assert await store.forget("sms", "4477") == 2
    remaining = [key for key in tricky if (await store.load(key)).version == 1]
    assert remaining == [tricky[2], tricky[3], tricky[4]]
    assert {e.key for e in await store.pending_inbox()} == set(remaining)
