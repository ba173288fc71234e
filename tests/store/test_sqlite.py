"""SQLite-specific behaviour: the file, its pragmas, its errors and its thread."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from botkit.errors import StoreError
from botkit.store import Conversation, ConversationKey, NewInboxEntry, NewOutbound, open_store
from botkit.store.sqlite import SCHEMA_VERSION, SQLiteStore

KEY = ConversationKey("whatsapp", "447700900001", "447700900000")
NOW = 1_700_000_000.0


def inbound(dedupe_key: str) -> NewInboxEntry:
    return NewInboxEntry(dedupe_key, KEY, "inbound", b'{"text":"hi"}', NOW)


def reply(text: str) -> NewOutbound:
    return NewOutbound(KEY, {"message_type": "text", "text": text}, f"ref-{text}")


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


async def on_store_thread(store: SQLiteStore, fn: Callable[[sqlite3.Connection], Any]) -> Any:
    """Run ``fn`` with the store's own connection, on the store's own thread."""
    assert store._executor is not None and store._conn is not None
    conn = store._conn
    return await asyncio.get_running_loop().run_in_executor(store._executor, lambda: fn(conn))


def raw_connection(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


async def test_open_store_url_builds_an_sqlite_store(db_path: Path) -> None:
    store = open_store(f"sqlite:///{db_path}")
    assert isinstance(store, SQLiteStore) and store.path == str(db_path)


async def test_a_new_instance_on_the_file_recovers_pending_work(db_path: Path) -> None:
    first = SQLiteStore(db_path)
    await first.open()
    done_id = await first.accept(inbound("m-1"))
    pending_id = await first.accept(inbound("m-2"))
    turn = await first.complete_turn(done_id, Conversation(KEY), [reply("a")], now=NOW)
    queued = await first.enqueue([reply("b")], now=NOW)
    await first.close()

    restarted = SQLiteStore(db_path)
    await restarted.open()
    try:
        assert [e.id for e in await restarted.pending_inbox()] == [pending_id]
        assert await restarted.pending_outbound() == turn.outbound + queued
        assert (await restarted.load(KEY)).version == 1
        health = await restarted.health()
        assert health == {"ok": True, "store": "sqlite", "inbox_pending": 1, "outbound_pending": 2}
    finally:
        await restarted.close()


async def test_commits_are_visible_to_another_connection_at_once(
    store: SQLiteStore, db_path: Path
) -> None:
    inbox_id = await store.accept(inbound("m-1"))
    reader = raw_connection(db_path)
    try:
        rows = reader.execute("SELECT id, done FROM inbox").fetchall()
    finally:
        reader.close()
    assert rows == [(inbox_id, 0)]


async def test_pragmas_and_schema(store: SQLiteStore) -> None:
    def pragmas(conn: sqlite3.Connection) -> tuple[Any, ...]:
        return tuple(
            conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "busy_timeout", "user_version")
        )

    journal_mode, synchronous, busy_timeout, user_version = await on_store_thread(store, pragmas)
    assert journal_mode == "wal"
    assert synchronous == 1  # NORMAL
    assert busy_timeout == 5000
    assert user_version == SCHEMA_VERSION

    def tables(conn: sqlite3.Connection) -> set[str]:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}

    assert {"conversations", "dedupe", "inbox", "outbox"} <= await on_store_thread(store, tables)


async def test_dedupe_keys_outlive_pruned_inbox_rows_and_ids_are_not_reused(
    store: SQLiteStore, db_path: Path
) -> None:
    inbox_id = await store.accept(inbound("m-1"))
    await store.complete_turn(inbox_id, Conversation(KEY), [], now=NOW)
    pruner = raw_connection(db_path)
    try:
        pruner.execute("DELETE FROM inbox WHERE done = 1")
    finally:
        pruner.close()

    assert await store.accept(inbound("m-1")) is None
    next_id = await store.accept(inbound("m-2"))
    assert next_id is not None and inbox_id is not None and next_id > inbox_id


async def test_a_failure_midway_rolls_the_whole_call_back(
    store: SQLiteStore, db_path: Path
) -> None:
    # Make the last statement of each call fail, after earlier statements have run.
    conn = raw_connection(db_path)
    try:
        conn.execute(
            "CREATE TRIGGER boom_outbox BEFORE INSERT ON outbox WHEN NEW.client_ref = 'ref-boom' "
            "BEGIN SELECT RAISE(ABORT, 'boom'); END"
        )
        conn.execute(
            "CREATE TRIGGER boom_inbox BEFORE INSERT ON inbox WHEN NEW.dedupe_key = 'boom' "
            "BEGIN SELECT RAISE(ABORT, 'boom'); END"
        )
    finally:
        conn.close()
    inbox_id = await store.accept(inbound("m-1"))

    with pytest.raises(StoreError, match="boom"):
        await store.complete_turn(inbox_id, Conversation(KEY), [reply("a"), reply("boom")], now=NOW)
    with pytest.raises(StoreError, match="boom"):
        await store.enqueue([reply("b"), reply("boom")], now=NOW)
    with pytest.raises(StoreError, match="boom"):
        await store.accept(inbound("boom"))

    assert [e.id for e in await store.pending_inbox()] == [inbox_id]
    assert await store.pending_outbound() == []
    assert await store.load(KEY) == Conversation(KEY)
    dedupe = await on_store_thread(
        store, lambda conn: conn.execute("SELECT key FROM dedupe").fetchall()
    )
    assert dedupe == [("m-1",)]  # the failed accept left no dedupe key behind
    committed = await store.complete_turn(inbox_id, Conversation(KEY), [reply("a")], now=NOW)
    assert committed.version == 1


async def test_marks_record_the_outcome_once(store: SQLiteStore) -> None:
    sent, failed = await store.enqueue([reply("a"), reply("b")], now=NOW)
    await store.mark_sent(sent.id, "uuid-a", now=NOW + 1)
    await store.mark_failed(failed.id, "1020: invalid params", now=NOW + 2)
    await store.mark_failed(sent.id, "late", now=NOW + 3)
    await store.mark_sent(failed.id, "late", now=NOW + 3)

    rows = await on_store_thread(
        store,
        lambda conn: conn.execute(
            "SELECT id, status, message_uuid, error, finished_at FROM outbox ORDER BY id"
        ).fetchall(),
    )
    assert rows == [
        (sent.id, "sent", "uuid-a", None, NOW + 1),
        (failed.id, "failed", None, "1020: invalid params", NOW + 2),
    ]


async def test_two_instances_on_one_file_accept_a_key_once(db_path: Path) -> None:
    stores = [SQLiteStore(db_path), SQLiteStore(db_path)]
    for store in stores:
        await store.open()
    try:
        results = await asyncio.gather(
            *(stores[n % 2].accept(inbound(f"m-{n // 4}")) for n in range(40))
        )
        ids = [r for r in results if r is not None]
        assert len(ids) == 10 and len(set(ids)) == 10
        assert len(await stores[0].pending_inbox()) == 10
    finally:
        for store in stores:
            await store.close()


async def test_an_unopenable_path_raises_store_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a regular file")
    path = blocker / "botkit.db"
    store = SQLiteStore(path)
    threads_before = set(threading.enumerate())

    with pytest.raises(StoreError, match=re.escape(repr(str(path)))):
        await store.open()

    assert set(threading.enumerate()) <= threads_before  # the executor was shut down
    with pytest.raises(StoreError, match=r"open\(\)"):
        await store.pending_inbox()
    await store.close()


async def test_a_file_that_is_not_a_database_raises_store_error(db_path: Path) -> None:
    db_path.write_bytes(b"this is not an SQLite database, just some bytes " * 100)
    store = SQLiteStore(db_path)

    with pytest.raises(StoreError, match=re.escape(str(db_path))):
        await store.open()


async def test_a_newer_schema_is_refused(db_path: Path) -> None:
    conn = raw_connection(db_path)
    try:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    finally:
        conn.close()

    with pytest.raises(StoreError, match="newer than"):
        await SQLiteStore(db_path).open()


async def test_a_locked_database_raises_store_error_and_writes_nothing(db_path: Path) -> None:
    store = SQLiteStore(db_path, busy_timeout=0.05)
    await store.open()
    other = raw_connection(db_path)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(StoreError, match=rf"{re.escape(str(db_path))}.*locked"):
            await store.accept(inbound("m-1"))
        assert (await store.health())["ok"] is True  # readers are not blocked in WAL
        other.execute("ROLLBACK")

        # The failed call left no transaction open and recorded no dedupe key.
        assert await store.accept(inbound("m-1")) is not None
    finally:
        other.close()
        await store.close()


async def test_calls_before_open_and_after_close_raise(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    with pytest.raises(StoreError, match=r"not open; call 'await store.open\(\)'"):
        await store.load(KEY)
    await store.open()
    await store.close()
    with pytest.raises(StoreError, match=re.escape(str(db_path))):
        await store.health()


async def test_sql_never_runs_on_the_event_loop_thread(store: SQLiteStore) -> None:
    threads: set[int] = set()
    await on_store_thread(
        store, lambda conn: conn.set_trace_callback(lambda _: threads.add(threading.get_ident()))
    )

    inbox_id = await store.accept(inbound("m-1"))
    conversation = await store.load(KEY)
    await store.pending_inbox()
    turn = await store.complete_turn(inbox_id, conversation, [reply("a")], now=NOW)
    await store.enqueue([reply("b")], now=NOW)
    await store.pending_outbound()
    await store.mark_sent(turn.outbound[0].id, "uuid", now=NOW)
    await store.mark_failed(turn.outbound[0].id, "late", now=NOW)
    await store.health()

    assert threads and threading.get_ident() not in threads
    assert len(threads) == 1  # one dedicated thread owns the connection


async def test_the_connection_refuses_use_from_the_loop_thread(store: SQLiteStore) -> None:
    assert store._conn is not None
    with pytest.raises(sqlite3.ProgrammingError, match="thread"):
        store._conn.execute("SELECT 1")


async def test_each_method_is_one_executor_job(store: SQLiteStore) -> None:
    assert store._executor is not None
    executor = store._executor
    jobs = 0
    submit = executor.submit

    def counting_submit(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        nonlocal jobs
        jobs += 1
        return submit(fn, *args, **kwargs)

    executor.submit = counting_submit  # type: ignore[method-assign]

    async def count(call: Any) -> int:
        nonlocal jobs
        jobs = 0
        await call
        return jobs

    inbox_id = await store.accept(inbound("m-1"))
    assert await count(store.accept(inbound("m-2"))) == 1
    assert await count(store.pending_inbox()) == 1
    assert await count(store.load(KEY)) == 1
    turn = store.complete_turn(inbox_id, Conversation(KEY), [reply("a"), reply("b")], now=NOW)
    assert await count(turn) == 1
    assert await count(store.enqueue([reply("c"), reply("d")], now=NOW)) == 1
    assert await count(store.pending_outbound()) == 1
    assert await count(store.mark_sent(1, "uuid", now=NOW)) == 1
    assert await count(store.mark_failed(2, "error", now=NOW)) == 1
    assert await count(store.health()) == 1


async def test_close_stops_the_thread(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    await store.open()
    (thread,) = [t for t in threading.enumerate() if t.name.startswith("botkit-sqlite")]
    await store.close()
    assert not thread.is_alive()


async def test_a_cancelled_open_leaves_nothing_open(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    opening = asyncio.create_task(store.open())
    await asyncio.sleep(0)  # let open() hand the connect job to the thread
    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening

    assert store._conn is None and store._executor is None
    assert not [t for t in threading.enumerate() if t.name.startswith("botkit-sqlite")]
    await store.open()  # and a later open() starts afresh
    assert await store.pending_inbox() == []
    await store.close()


async def test_a_version_1_file_gains_the_files_table_on_open(db_path: Path) -> None:
    old = sqlite3.connect(db_path)
    old.execute(
        "CREATE TABLE conversations (channel TEXT, user TEXT, bot TEXT, version INTEGER,"
        " doc TEXT, updated_at REAL, PRIMARY KEY (channel, user, bot))"
    )
    old.execute(
        "INSERT INTO conversations VALUES ('sms', 'u', 'b', 3, ?, 0)",
        ('{"flow":null,"state":"kept","data":{},"meta":{}}',),
    )
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    store = SQLiteStore(db_path)
    await store.open()
    try:
        assert (await store.load(ConversationKey("sms", "u", "b"))).state == "kept"
        await store.put_files({"f": ("text/vcard", b"v")}, now=NOW)
        assert await store.get_file("f") == ("text/vcard", b"v")
    finally:
        await store.close()
    check = sqlite3.connect(db_path)
    assert check.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    check.close()


async def test_per_conversation_and_pruning_queries_use_indexes(store: SQLiteStore) -> None:
    from botkit.store import _sqlite_hot as hot
    from botkit.store import _sqlite_jobs as module

    def plans(conn: sqlite3.Connection) -> dict[str, str]:
        def plan(sql: str, params: Any) -> str:
            rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            return " | ".join(row[-1] for row in rows)

        return {
            "pending_for": plan(module._SELECT_PENDING_FOR, ("sms", "u", "b", 10)),
            "lease": plan(hot._LEASE_TOKEN, ("sms", "u", "b")),
            "prune_inbox": plan(module._PRUNE_INBOX, {"cut": NOW}),
            "prune_dedupe": plan(module._PRUNE_DEDUPE, (NOW,)),
        }

    found = await on_store_thread(store, plans)
    # The partial index of unfinished rows: never a scan of the finished history.
    assert "USING INDEX inbox_pending" in found["pending_for"], found
    assert "INDEX" in found["lease"], found
    # Pruning walks rowids (the table's own order), never a sort or an index scan by time.
    assert "USING INTEGER PRIMARY KEY (rowid<?)" in found["prune_inbox"], found
    assert "dedupe_seen_at" in found["prune_dedupe"], found


@pytest.mark.parametrize("version", [3, 4])
async def test_an_older_file_gains_leases_and_loses_the_conversation_index(
    db_path: Path, version: int
) -> None:
    store = SQLiteStore(db_path)
    await store.open()
    inbox_id = await store.accept(inbound("m-1"))
    await store.close()

    def downgrade() -> None:
        conn = sqlite3.connect(db_path)
        if version == 3:
            conn.execute("DROP TABLE leases")
        else:  # version 4 briefly had an index per conversation, dropped since
            conn.execute(
                "CREATE INDEX inbox_pending_key ON inbox (channel, user, bot, id) WHERE done = 0"
            )
        conn.execute(f"PRAGMA user_version = {version}")
        conn.commit()
        conn.close()

    downgrade()
    store = SQLiteStore(db_path)
    await store.open()
    try:
        assert [e.id for e in await store.pending_for(KEY)] == [inbox_id]
        token = await store.acquire_lease(KEY, "w", ttl=10, now=NOW)
        assert token is not None
        await store.complete_turn(inbox_id, Conversation(KEY), [], now=NOW, fence=token)
    finally:
        await store.close()
    check = sqlite3.connect(db_path)
    indexes = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "inbox_pending_key" not in indexes
    assert check.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    check.close()
