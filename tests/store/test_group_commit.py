"""Group commit in the SQLite store: concurrent calls share one transaction, exactly.

What batching must not change: every call still gets its own answer (an id, ``None`` for
a redelivery, its own refusal), ids follow the order of the calls, and a batch that
SQLite cannot commit leaves nothing behind and fails every call in it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from botkit.errors import AlreadyDone, LeaseLost, StoreError, VersionConflict
from botkit.store import Conversation, ConversationKey, NewInboxEntry, NewOutbound
from botkit.store.group_commit import GroupCommit
from botkit.store.sqlite import SQLiteStore

ALICE = ConversationKey("whatsapp", "447700900001", "447700900000")
BOB = ConversationKey("sms", "447700900002", "447700900000")
NOW = 1_700_000_000.0


def inbound(dedupe_key: str, key: ConversationKey = ALICE) -> NewInboxEntry:
    return NewInboxEntry(dedupe_key, key, "inbound", b'{"text":"hi"}', NOW)


def reply(text: str, key: ConversationKey = ALICE) -> NewOutbound:
    return NewOutbound(key, {"message_type": "text", "text": text}, f"ref-{text}")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "botkit.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(db_path)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def group(store: SQLiteStore) -> GroupCommit:
    assert store._group is not None
    return store._group


def rows(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_concurrent_calls_share_one_flush(store: SQLiteStore) -> None:
    before = group(store).flushes
    ids = await asyncio.gather(*(store.accept(inbound(f"m-{n}")) for n in range(50)))
    assert group(store).flushes - before == 1  # one thread hop, one transaction
    assert all(isinstance(i, int) for i in ids)


async def test_ids_follow_the_order_of_the_calls(store: SQLiteStore, db_path: Path) -> None:
    ids = await asyncio.gather(*(store.accept(inbound(f"m-{n}")) for n in range(100)))
    assert ids == sorted(ids) and len(set(ids)) == 100
    stored = rows(db_path, "SELECT dedupe_key FROM inbox ORDER BY id")
    assert [key for (key,) in stored] == [f"m-{n}" for n in range(100)]


async def test_duplicates_within_one_batch_get_exactly_one_id(
    store: SQLiteStore, db_path: Path
) -> None:
    keys = [f"m-{n % 7}" for n in range(70)]  # each key ten times, interleaved
    before = group(store).flushes
    ids = await asyncio.gather(*(store.accept(inbound(key)) for key in keys))
    assert group(store).flushes - before == 1
    # The first call of each key gets the id; the nine later ones are redeliveries.
    assert [i is not None for i in ids] == [n < 7 for n in range(70)]
    assert rows(db_path, "SELECT count(*) FROM inbox") == [(7,)]
    assert rows(db_path, "SELECT count(*) FROM dedupe") == [(7,)]


async def test_callers_resume_in_the_order_of_their_ids(store: SQLiteStore) -> None:
    resumed: list[int] = []

    async def accept(n: int) -> None:
        inbox_id = await store.accept(inbound(f"m-{n}"))
        assert inbox_id is not None
        resumed.append(inbox_id)

    await asyncio.gather(*(accept(n) for n in range(64)))
    assert resumed == sorted(resumed)


async def test_a_failing_batch_fails_every_call_and_writes_nothing(
    store: SQLiteStore, db_path: Path
) -> None:
    first = await store.accept(inbound("m-first"))
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        # SQLite refuses the one entry's insert, after the batch's earlier calls ran.
        conn.execute(
            "CREATE TRIGGER boom BEFORE INSERT ON inbox WHEN NEW.dedupe_key = 'boom' "
            "BEGIN SELECT RAISE(ABORT, 'boom'); END"
        )
    finally:
        conn.close()
    calls = [
        store.accept(inbound("m-1")),
        store.complete_turn(first, Conversation(ALICE), [reply("a")], now=NOW),
        store.enqueue([reply("b", BOB)], now=NOW),
        store.accept(inbound("boom")),
        store.accept(inbound("m-2")),
        store.load(ALICE),
    ]
    before = group(store).flushes
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert group(store).flushes - before == 1
    assert all(isinstance(r, StoreError) for r in results), results
    assert all("boom" in str(r) for r in results)

    # Nothing of the batch is left: not the accepts, their dedupe keys, the turn or
    # the queued message.
    assert rows(db_path, "SELECT dedupe_key, done FROM inbox") == [("m-first", 0)]
    assert rows(db_path, "SELECT key FROM dedupe") == [("m-first",)]
    assert rows(db_path, "SELECT count(*) FROM outbox") == [(0,)]
    assert rows(db_path, "SELECT count(*) FROM conversations") == [(0,)]
    # And the same calls go through in the next batch, once SQLite takes them.
    assert await store.accept(inbound("m-1")) is not None


async def test_a_refusal_is_its_own_call_s_and_the_batch_commits(
    store: SQLiteStore, db_path: Path
) -> None:
    alice_entry = await store.accept(inbound("m-a"))
    bob_entry = await store.accept(inbound("m-b", BOB))
    done = await store.accept(inbound("m-done"))
    await store.complete_turn(done, Conversation(ALICE), [], now=NOW)  # Alice: version 1

    results = await asyncio.gather(
        store.accept(inbound("m-new")),
        store.complete_turn(alice_entry, Conversation(ALICE), [reply("x")], now=NOW),
        store.complete_turn(done, Conversation(ALICE, version=1), [reply("y")], now=NOW),
        store.complete_turn(bob_entry, Conversation(BOB), [reply("z", BOB)], now=NOW),
        return_exceptions=True,
    )
    new_id, stale, finished, committed = results
    assert isinstance(new_id, int)
    assert isinstance(stale, VersionConflict)  # Alice is at version 1, not 0
    assert isinstance(finished, AlreadyDone)
    assert not isinstance(committed, BaseException) and committed.version == 1

    # The refused turns wrote nothing; the others are committed.
    assert rows(db_path, f"SELECT done FROM inbox WHERE id = {alice_entry}") == [(0,)]
    assert rows(db_path, f"SELECT done FROM inbox WHERE id = {bob_entry}") == [(1,)]
    assert rows(db_path, "SELECT client_ref FROM outbox") == [("ref-z",)]
    assert (await store.load(ALICE)).version == 1


async def test_a_call_that_refuses_after_writing_rolls_its_batch_back(
    store: SQLiteStore, db_path: Path
) -> None:
    # The store's methods refuse before they write; were one not to, the queue could
    # not undo it alone, so the whole batch goes.
    def writes_then_refuses(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO dedupe (key, seen_at) VALUES ('half', 0)")
        raise VersionConflict("refused after a write")

    async def refusing() -> None:
        await group(store).call(writes_then_refuses, writes=True)

    results = await asyncio.gather(
        store.accept(inbound("m-1")),
        refusing(),
        store.accept(inbound("m-2")),
        return_exceptions=True,
    )
    assert all(isinstance(r, StoreError) for r in results), results
    assert rows(db_path, "SELECT count(*) FROM dedupe") == [(0,)]


async def test_a_locked_file_fails_the_batch_and_the_next_one_commits(db_path: Path) -> None:
    store = SQLiteStore(db_path, busy_timeout=0.05)
    await store.open()
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        results = await asyncio.gather(
            *(store.accept(inbound(f"m-{n}")) for n in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, StoreError) and "locked" in str(r) for r in results)
        other.execute("ROLLBACK")
        ids = await asyncio.gather(*(store.accept(inbound(f"m-{n}")) for n in range(5)))
        assert all(isinstance(i, int) for i in ids)
    finally:
        other.close()
        await store.close()


async def test_calls_queued_during_a_flush_join_the_next_one(store: SQLiteStore) -> None:
    queue = group(store)
    before = queue.flushes
    first = asyncio.gather(*(store.accept(inbound(f"a-{n}")) for n in range(10)))
    await asyncio.sleep(0)  # the first ten are queued, and their flush is due
    second = asyncio.gather(*(store.accept(inbound(f"b-{n}")) for n in range(10)))
    ids = await first + await second
    assert queue.flushes - before == 2
    assert ids == sorted(ids)


async def test_reads_alone_take_no_write_lock(db_path: Path) -> None:
    store = SQLiteStore(db_path, busy_timeout=0.05)
    await store.open()
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        loaded, pending = await asyncio.gather(store.load(ALICE), store.pending_inbox())
        assert loaded == Conversation(ALICE) and pending == []
    finally:
        other.execute("ROLLBACK")
        other.close()
        await store.close()


async def test_close_runs_the_calls_queued_before_it(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    await store.open()
    accepts = [asyncio.ensure_future(store.accept(inbound(f"m-{n}"))) for n in range(20)]
    await asyncio.sleep(0)
    await store.close()
    ids = [await a for a in accepts]
    assert all(isinstance(i, int) for i in ids)
    assert rows(db_path, "SELECT count(*) FROM inbox") == [(20,)]


async def test_a_caller_cancelled_before_its_flush_is_skipped(store: SQLiteStore) -> None:
    accepts = [asyncio.ensure_future(store.accept(inbound(f"m-{n}"))) for n in range(10)]
    await asyncio.sleep(0)  # all queued; their flush is due but has not started
    accepts[3].cancel()
    results = await asyncio.gather(*accepts, return_exceptions=True)
    assert isinstance(results[3], asyncio.CancelledError)
    assert all(isinstance(r, int) for n, r in enumerate(results) if n != 3)
    # Not answered, not written: a redelivery of it is accepted as new.
    assert await store.accept(inbound("m-3")) is not None


async def test_a_caller_cancelled_during_its_flush_finds_its_write_done(
    store: SQLiteStore,
) -> None:
    queue = group(store)
    accepts = [asyncio.ensure_future(store.accept(inbound(f"m-{n}"))) for n in range(10)]
    while queue.flushes == 0 or not queue._busy:  # wait for the flush to start
        await asyncio.sleep(0)
    accepts[3].cancel()
    results = await asyncio.gather(*accepts, return_exceptions=True)
    assert isinstance(results[3], asyncio.CancelledError)
    assert all(isinstance(r, int) for n, r in enumerate(results) if n != 3)
    assert await store.accept(inbound("m-3")) is None  # committed with its batch


async def test_merged_accepts_never_reuse_an_id_after_pruning(
    store: SQLiteStore, db_path: Path
) -> None:
    first = await asyncio.gather(*(store.accept(inbound(f"a-{n}")) for n in range(10)))
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("DELETE FROM inbox")  # pruned, as housekeeping does with old rows
    finally:
        conn.close()
    again = await asyncio.gather(*(store.accept(inbound(f"a-{n}")) for n in range(10)))
    assert again == [None] * 10  # the dedupe keys outlive the rows
    later = await asyncio.gather(*(store.accept(inbound(f"b-{n}")) for n in range(10)))
    assert min(i for i in later if i is not None) > max(i for i in first if i is not None)


async def test_a_full_batch_of_accepts_is_exact(store: SQLiteStore, db_path: Path) -> None:
    # More accepts than one statement may carry variables for, and more than one flush:
    # the merged inserts are cut into parts, and every id is still the next one.
    keys = [f"m-{n}" for n in range(600)] + [f"m-{n}" for n in range(0, 600, 3)]
    ids = await asyncio.gather(*(store.accept(inbound(key)) for key in keys))
    new = [i for i in ids if i is not None]
    assert new == list(range(new[0], new[0] + 600))
    assert ids[600:] == [None] * 200
    stored = rows(db_path, "SELECT id, dedupe_key FROM inbox ORDER BY id")
    assert stored == [(i, f"m-{n}") for n, i in enumerate(new)]
    assert rows(db_path, "SELECT count(*) FROM dedupe") == [(600,)]


async def test_merged_loads_give_each_caller_its_own_conversation(store: SQLiteStore) -> None:
    odd = ConversationKey("sms", 'user\x00with \u2603 and "quotes"', "bot")
    for key, state in ((ALICE, "alice"), (odd, "odd")):
        entry = await store.accept(inbound(f"m-{state}", key))
        await store.complete_turn(
            entry, Conversation(key, state=state, data={"k": state}), [], now=NOW
        )
    carol = ConversationKey("messenger", "1234", "page")
    before = group(store).flushes
    loaded = await asyncio.gather(
        *(store.load(key) for key in (ALICE, BOB, odd, ALICE, carol, odd))
    )
    assert group(store).flushes - before == 1
    assert [c.key for c in loaded] == [ALICE, BOB, odd, ALICE, carol, odd]
    assert [c.version for c in loaded] == [1, 0, 1, 1, 0, 1]
    assert [c.state for c in loaded] == ["alice", None, "odd", "alice", None, "odd"]
    assert loaded[0] is not loaded[3] and loaded[0].data is not loaded[3].data  # copies


async def test_merged_sent_marks_change_only_pending_messages(
    store: SQLiteStore, db_path: Path
) -> None:
    queued = await store.enqueue([reply(f"r{n}") for n in range(6)], now=NOW)
    await store.mark_failed(queued[2].id, "refused", now=NOW)
    before = group(store).flushes
    await asyncio.gather(*(store.mark_sent(m.id, f"uuid-{m.id}", now=NOW + m.id) for m in queued))
    assert group(store).flushes - before == 1
    stored = rows(db_path, "SELECT id, status, message_uuid, finished_at FROM outbox ORDER BY id")
    assert stored == [
        (m.id, "failed", None, NOW) if n == 2 else (m.id, "sent", f"uuid-{m.id}", NOW + m.id)
        for n, m in enumerate(queued)
    ]
    assert await store.pending_outbound() == []


async def test_a_message_marked_twice_in_one_batch_keeps_the_first_mark(
    store: SQLiteStore, db_path: Path
) -> None:
    a, b = await store.enqueue([reply("a"), reply("b")], now=NOW)
    await asyncio.gather(
        store.mark_sent(a.id, "first", now=NOW + 1),
        store.mark_sent(b.id, "only", now=NOW + 2),
        store.mark_sent(a.id, "second", now=NOW + 3),
    )
    stored = rows(db_path, "SELECT message_uuid, finished_at FROM outbox ORDER BY id")
    assert stored == [("first", NOW + 1), ("only", NOW + 2)]


def _dump(db_path: Path) -> dict[str, list[tuple[object, ...]]]:
    return {
        "inbox": rows(db_path, "SELECT id, dedupe_key, done, done_at FROM inbox ORDER BY id"),
        "conversations": rows(
            db_path, "SELECT channel, user, bot, version, doc FROM conversations ORDER BY 1, 2, 3"
        ),
        "timers": rows(db_path, "SELECT * FROM timers ORDER BY 1, 2, 3"),
        "outbox": rows(db_path, "SELECT id, user, body, client_ref, created_at FROM outbox"),
    }


async def test_merged_turns_do_exactly_what_turns_one_at_a_time_do(tmp_path: Path) -> None:
    """The same calls, once all in one batch and once one per batch: the same answers
    (results and refusals, with their words) and the same rows."""
    users = [ConversationKey("sms", f"4477009000{n:02d}", "447700900000") for n in range(8)]

    async def scenario(store: SQLiteStore, together: bool) -> list[object]:
        entries = [await store.accept(inbound(f"m-{n}", key)) for n, key in enumerate(users)]
        spare = await store.accept(inbound("m-spare", users[7]))
        # Users 2 and 3 have a stored conversation (version 1, user 3 with a timer).
        for n in (2, 3):
            meta = {"timer": {"id": "t", "due": NOW + 60}} if n == 3 else {}
            warm = await store.accept(inbound(f"warm-{n}", users[n]))
            await store.complete_turn(warm, Conversation(users[n], meta=meta), [], now=NOW)
        await store.complete_turn(entries[5], Conversation(users[5]), [], now=NOW)  # done
        calls = [
            # fresh conversation, two replies
            lambda: store.complete_turn(
                entries[0],
                Conversation(users[0], data={"a": 1}),
                [reply("x", users[0]), reply("y", users[0])],
                now=NOW + 1,
            ),
            # fresh conversation, no inbox entry (a notification-like turn), sets a timer
            lambda: store.complete_turn(
                None,
                Conversation(users[1], meta={"timer": {"id": "z", "due": NOW + 9}}),
                [],
                now=NOW + 2,
            ),
            # stored at version 1: the right version commits
            lambda: store.complete_turn(
                entries[2],
                Conversation(users[2], version=1, state="s"),
                [reply("z", users[2])],
                now=NOW + 3,
            ),
            # stored at version 1, timer cleared
            lambda: store.complete_turn(
                entries[3], Conversation(users[3], version=1), [], now=NOW + 4
            ),
            # stale version: refused
            lambda: store.complete_turn(
                entries[4], Conversation(users[4], version=3), [reply("no", users[4])], now=NOW + 5
            ),
            # finished entry: refused
            lambda: store.complete_turn(
                entries[5], Conversation(users[5], version=1), [], now=NOW + 6
            ),
            # another conversation's entry: refused
            lambda: store.complete_turn(spare, Conversation(users[6]), [], now=NOW + 7),
            # a fence with no lease: refused
            lambda: store.complete_turn(
                entries[7], Conversation(users[7]), [], now=NOW + 8, fence=12345
            ),
        ]
        if together:
            before = group(store).flushes
            results = await asyncio.gather(*(call() for call in calls), return_exceptions=True)
            assert group(store).flushes - before == 1
        else:
            results = []
            for call in calls:
                try:
                    results.append(await call())
                except Exception as exc:
                    results.append(exc)
        return [r if not isinstance(r, Exception) else (type(r), str(r)) for r in results]

    found = {}
    for together in (True, False):
        path = tmp_path / f"{together}.db"
        store = SQLiteStore(path)
        await store.open()
        try:
            answers = await scenario(store, together)
        finally:
            await store.close()
        found[together] = (answers, _dump(path))
    assert found[True] == found[False]
    answers = found[True][0]
    assert [type(a).__name__ for a in answers[:4]] == ["Committed"] * 4
    assert [a[0] for a in answers[4:]] == [VersionConflict, AlreadyDone, StoreError, LeaseLost]
