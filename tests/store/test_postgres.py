"""PostgreSQL-specific behaviour: the URL, schema versions and migrations, text that
PostgreSQL cannot hold, notices, a server that goes away, and other processes.

The contract every store keeps is in ``test_contract.py``; which process sends which
reply is in ``test_postgres_outbox.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

import botkit
from botkit.cli import main
from botkit.errors import AlreadyDone, ConfigError, StoreError, VersionConflict
from botkit.store import (
    Conversation,
    ConversationKey,
    NewInboxEntry,
    NewOutbound,
    _pg_schema,
    open_store,
)
from botkit.store._pg_schema import SCHEMA_VERSION, SchemaTooNew
from botkit.store.notices import LEASE, REPLIES
from botkit.store.postgres import LEASE_GC, PostgresStore

from .cut_proxy import CutProxy
from .pg import drop_schemas, require_postgres, run_sync, unique_schema
from .pg_server import PrivatePostgres

KEY = ConversationKey("whatsapp", "447700900001", "447700900000")
NOW = 1_700_000_000.0
WAIT = 20.0  # the most a wait below may take before the test fails


def inbound(dedupe_key: str, key: ConversationKey = KEY) -> NewInboxEntry:
    return NewInboxEntry(dedupe_key, key, "inbound", b'{"text":"hi"}', NOW)


def reply(text: str, key: ConversationKey = KEY) -> NewOutbound:
    return NewOutbound(key, {"message_type": "text", "text": text}, f"ref-{text}")


@pytest.fixture
def url() -> str:
    return require_postgres()


@pytest.fixture
def schema(url: str) -> Iterator[str]:
    """A schema of the test's own, dropped afterwards."""
    name = unique_schema()
    yield name
    drop_schemas(url, [name])


@pytest.fixture
async def store(url: str, schema: str) -> AsyncIterator[PostgresStore]:
    store = PostgresStore(url, schema=schema)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def sql(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """Run one statement on a connection of its own; the rows it returns."""
    conn = await asyncpg.connect(url)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(query, *args)
        return rows
    finally:
        await conn.close()


# -- the URL -------------------------------------------------------------------------


def test_open_store_builds_a_postgres_store_with_the_defaults() -> None:
    store = open_store("postgresql://bot:pw@db.example:5432/bots")
    assert isinstance(store, PostgresStore)
    assert (store.url, store.schema, store.database.pool_size, store.database.auto_migrate) == (
        "postgresql://bot:pw@db.example:5432/bots",
        "botkit",
        10,
        True,
    )
    assert store.shared


def test_the_url_names_schema_pool_and_migrations() -> None:
    store = open_store(
        "postgres://db/bots?sslmode=require&schema=Pizza_2&pool_size=4&migrate=manual"
    )
    assert isinstance(store, PostgresStore)
    # botkit's parameters are taken out; the driver's stay.
    assert store.url == "postgres://db/bots?sslmode=require"
    assert (store.schema, store.database.pool_size, store.database.auto_migrate) == (
        "Pizza_2",
        4,
        False,
    )


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("schema=", "schema name ''"),
        ("schema=a-b", "schema name 'a-b'"),
        ("schema=" + "x" * 49, "at most 48"),
        ("schema=1abc", "schema name '1abc'"),
        ("pool_size=ten", "pool_size='ten'"),
        ("pool_size=0", "pool_size must be 1 or more"),
        ("migrate=sometimes", "migrate='sometimes'"),
    ],
)
def test_bad_parameters_are_refused_with_their_name(query: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        open_store(f"postgresql://db/bots?{query}")


def test_open_store_without_asyncpg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # makes "import asyncpg" fail
    for name in [
        n for n in sys.modules if n.startswith(("botkit.store.postgres", "botkit.store._pg"))
    ]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ConfigError, match=r"pip install 'botkit\[postgres\]'"):
        open_store("postgresql://db/bots")


async def test_open_fails_with_the_url_but_not_the_password() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = PostgresStore(f"postgresql://bot:s3cret@127.0.0.1:{port}/bots")

    with pytest.raises(
        StoreError, match=rf"cannot reach PostgreSQL at postgresql://bot:\*\*\*@127.0.0.1:{port}"
    ) as info:
        await store.open()

    assert "s3cret" not in str(info.value)
    with pytest.raises(StoreError, match=r"open\(\)"):
        await store.load(KEY)
    await store.close()


# -- schema versions and migrations ----------------------------------------------------


async def test_open_creates_the_schema_at_this_version(url: str, schema: str) -> None:
    store = PostgresStore(url, schema=schema)
    await store.open()
    await store.close()
    await store.open()  # a second start finds it done
    await store.close()

    rows = await sql(url, f'SELECT version FROM "{schema}".schema_version')
    assert [r["version"] for r in rows] == [SCHEMA_VERSION]
    tables = await sql(
        url, "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
    )
    assert {r["table_name"] for r in tables} >= {
        "conversations", "dedupe", "inbox", "outbox", "senders", "files", "timers", "leases",
    }  # fmt: skip


async def test_processes_starting_together_migrate_once(url: str, schema: str) -> None:
    stores = [PostgresStore(url, schema=schema) for _ in range(5)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        ids = await asyncio.gather(*(s.accept(inbound(f"m-{n}")) for n, s in enumerate(stores)))
        assert sorted(i for i in ids if i is not None) == [1, 2, 3, 4, 5]
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_a_schema_newer_than_the_code_is_refused(url: str, schema: str) -> None:
    store = PostgresStore(url, schema=schema)
    await store.open()
    await store.accept(inbound("m-1"))
    await store.close()
    await sql(url, f'UPDATE "{schema}".schema_version SET version = $1', SCHEMA_VERSION + 1)

    with pytest.raises(SchemaTooNew, match=f"at version {SCHEMA_VERSION + 1}, newer than"):
        await PostgresStore(url, schema=schema).open()
    with pytest.raises(SchemaTooNew, match="Upgrade botkit"):
        await PostgresStore(url, schema=schema).migrate()

    # Nothing was touched: the data and the version are as the newer code left them.
    rows = await sql(url, f'SELECT dedupe_key FROM "{schema}".inbox')
    assert [r["dedupe_key"] for r in rows] == ["m-1"]
    versions = await sql(url, f'SELECT version FROM "{schema}".schema_version')
    assert [r["version"] for r in versions] == [SCHEMA_VERSION + 1]


def test_botkit_run_refuses_a_newer_schema_and_says_why(
    url: str, schema: str, tmp_path: Path
) -> None:
    store_url = f"{url}?schema={schema}"
    run_sync(lambda: PostgresStore.from_url(store_url).migrate())
    run_sync(
        lambda: sql(url, f'UPDATE "{schema}".schema_version SET version = $1', SCHEMA_VERSION + 7)
    )
    bot = tmp_path / "bot.py"
    bot.write_text("from botkit import Bot, Settings\nbot = Bot(Settings.from_env())\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOTKIT_", "VONAGE_"))}
    env.update(
        BOTKIT_STORE=store_url,
        BOTKIT_SANDBOX="off",
        VONAGE_API_KEY="key",
        VONAGE_API_SECRET="secret",
        PYTHONPATH=str(Path(botkit.__file__).parents[1]),
    )

    done = subprocess.run(
        [sys.executable, "-m", "botkit.cli", "run", f"{bot}:bot", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert f"is at version {SCHEMA_VERSION + 7}, newer than this botkit knows" in output
    assert "Application startup failed" in output


def test_botkit_migrate_migrates_by_hand(
    url: str, schema: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOTKIT_STORE", f"{url}?schema={schema}&migrate=manual")

    assert main(["migrate"]) == 0
    assert (
        f"migrated schema '{schema}' from version 0 to {SCHEMA_VERSION}" in capsys.readouterr().out
    )
    assert main(["migrate"]) == 0
    assert "nothing to do" in capsys.readouterr().out

    run_sync(
        lambda: sql(url, f'UPDATE "{schema}".schema_version SET version = $1', SCHEMA_VERSION + 1)
    )
    assert main(["migrate"]) == 2
    assert "newer than this botkit knows" in capsys.readouterr().err


def test_botkit_migrate_on_another_store_says_there_is_nothing_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOTKIT_STORE", f"sqlite:///{tmp_path / 'bot.db'}")
    assert main(["migrate"]) == 0
    assert "SQLiteStore creates or upgrades what it keeps" in capsys.readouterr().out


async def test_migrate_manual_refuses_a_schema_that_is_behind(url: str, schema: str) -> None:
    store = PostgresStore(url, schema=schema, auto_migrate=False)
    with pytest.raises(StoreError, match="run 'botkit migrate'"):
        await store.open()
    assert await store.migrate() == (0, SCHEMA_VERSION)
    await store.open()
    try:
        assert await store.accept(inbound("m-1")) == 1
    finally:
        await store.close()


async def test_a_new_migration_is_applied_at_start_and_a_failed_one_leaves_nothing(
    url: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = PostgresStore(url, schema=schema)
    await store.open()
    await store.accept(inbound("m-1"))
    await store.close()
    broken = ("CREATE TABLE @schema.half_done (x int)", "SELECT 1 / 0")
    monkeypatch.setattr(_pg_schema, "MIGRATIONS", (*_pg_schema.MIGRATIONS, broken))
    monkeypatch.setattr(_pg_schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)

    with pytest.raises(StoreError, match="division by zero"):
        await PostgresStore(url, schema=schema).open()
    assert await sql(url, "SELECT to_regclass($1) AS t", f'"{schema}".half_done') == [(None,)]
    versions = await sql(url, f'SELECT version FROM "{schema}".schema_version')
    assert [r["version"] for r in versions] == [SCHEMA_VERSION]

    added = ("CREATE TABLE @schema.added (x int)", "INSERT INTO @schema.added VALUES (7)")
    monkeypatch.setattr(_pg_schema, "MIGRATIONS", (*_pg_schema.MIGRATIONS[:-1], added))
    store = PostgresStore(url, schema=schema)
    await store.open()
    try:
        assert [e.dedupe_key for e in await store.pending_inbox()] == ["m-1"]  # data kept
    finally:
        await store.close()
    assert await sql(url, f'SELECT x FROM "{schema}".added') == [(7,)]
    versions = await sql(url, f'SELECT version FROM "{schema}".schema_version')
    assert [r["version"] for r in versions] == [SCHEMA_VERSION + 1]


async def test_version_7_counts_attempts_of_messages_queued_before_it(
    url: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as older:  # a botkit of version 6 queues, then stops
        older.setattr(_pg_schema, "MIGRATIONS", _pg_schema.MIGRATIONS[:6])
        older.setattr(_pg_schema, "SCHEMA_VERSION", 6)
        store = PostgresStore(url, schema=schema)
        await store.open()
        (queued,) = await store.enqueue([reply("a")], now=1.0)
        await store.close()

    store = PostgresStore(url, schema=schema)
    await store.open()
    try:
        await store.count_attempt(queued.id)
        assert [m.attempts for m in await store.pending_outbound()] == [1]
        # claim_outbound was made again to return the count: a taker goes on from it
        (taken,) = await store.claim_outbound(ttl=30, now=1.0)
        assert (taken.id, taken.attempts) == (queued.id, 1)
    finally:
        await store.close()
    versions = await sql(url, f'SELECT version FROM "{schema}".schema_version')
    assert [r["version"] for r in versions] == [SCHEMA_VERSION]


async def test_a_database_not_in_utf8_is_refused(url: str) -> None:
    name = f"botkit_latin1_{unique_schema()[-8:]}"
    await sql(url, f"CREATE DATABASE {name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' "
                   "TEMPLATE template0")  # fmt: skip
    try:
        other = url.rsplit("/", 1)[0] + f"/{name}"
        with pytest.raises(StoreError, match="encoded LATIN1; botkit needs UTF8"):
            await PostgresStore(other).open()
    finally:
        await sql(url, f"DROP DATABASE {name}")


# -- what PostgreSQL cannot hold, and how it is kept ------------------------------------


async def test_nul_surrogates_and_the_escape_mark_round_trip(
    store: PostgresStore, url: str, schema: str
) -> None:
    odd = ["nul\x00inside", "lone \ud83d surrogate", "\x01starts with the mark", "\x01\x80",
           "é ok"]
    for n, text in enumerate(odd):
        key = ConversationKey("sms", text, "bot")
        inbox_id = await store.accept(NewInboxEntry(text, key, "inbound", b"x", NOW))
        assert inbox_id is not None
        assert await store.accept(NewInboxEntry(text, key, "inbound", b"x", NOW)) is None
        conversation = Conversation(key, meta={"timer": {"id": text, "due": NOW + n}})
        message = NewOutbound(key, {"text": text}, text)
        await store.complete_turn(inbox_id, conversation, [message], now=NOW)
        await store.put_files({text: (text, b"\x00")}, now=NOW)
        assert await store.get_file(text) == (text, b"\x00")

    pending = await store.pending_outbound()
    assert [(m.key.user, m.client_ref, m.body["text"]) for m in pending] == [(t, t, t) for t in odd]
    assert [(t.key.user, t.timer_id) for t in await store.due_timers(now=NOW + 10)] == [
        (t, t) for t in odd
    ]
    # The conversation, its inbox entry, its reply and its timer.
    assert await store.forget("sms", odd[0]) == 4
    # Text PostgreSQL can hold is stored as it is, readable in psql.
    rows = await sql(url, f'SELECT "user", client_ref FROM "{schema}".outbox ORDER BY id')
    assert rows[-1]["user"] == "é ok" and rows[-1]["client_ref"] == "é ok"
    assert rows[0]["user"] != odd[1]  # escaped: PostgreSQL could not take it as it is


async def test_stores_on_other_schemas_share_nothing(store: PostgresStore, url: str) -> None:
    other_schema = unique_schema()
    other = PostgresStore(url, schema=other_schema)
    await other.open()
    try:
        await store.accept(inbound("m-1"))
        await store.complete_turn(None, Conversation(KEY), [reply("a")], now=NOW)

        assert await other.pending_inbox() == []
        assert await other.load(KEY) == Conversation(KEY)
        assert await other.accept(inbound("m-1")) == 1
        assert await other.acquire_lease(KEY, "x", ttl=10, now=NOW) == 1
    finally:
        await other.close()
        drop_schemas(url, [other_schema])


async def test_prune_deletes_leases_their_holders_never_released(
    store: PostgresStore, url: str, schema: str
) -> None:
    other = ConversationKey("sms", "447700900002", "447700900000")
    await store.acquire_lease(KEY, "died", ttl=10, now=NOW)
    await store.acquire_lease(other, "alive", ttl=10, now=NOW + LEASE_GC)

    await store.prune(now=NOW + LEASE_GC + 11, inbox_before=0, outbox_before=0, files_before=0)

    rows = await sql(url, f'SELECT owner FROM "{schema}".leases')
    assert [r["owner"] for r in rows] == ["alive"]


async def test_failing_statements_become_store_errors_and_write_nothing(
    store: PostgresStore, url: str, schema: str
) -> None:
    inbox_id = await store.accept(inbound("m-1"))
    await sql(url, f"""ALTER TABLE "{schema}".outbox ADD CHECK (client_ref <> 'ref-bad')""")

    with pytest.raises(StoreError, match=r"PostgreSQL store postgresql://.*check constraint"):
        await store.complete_turn(inbox_id, Conversation(KEY), [reply("ok"), reply("bad")], now=NOW)

    assert [e.id for e in await store.pending_inbox()] == [inbox_id]
    assert await store.load(KEY) == Conversation(KEY)
    assert await store.pending_outbound() == []


# -- writes whose answer was lost --------------------------------------------------------


async def _through(proxy: CutProxy, url: str, schema: str) -> PostgresStore:
    """A store reaching the test database through ``proxy``, its writes prepared already
    (so that a write sends only its execution, and a cut lands after it ran)."""
    parts = urlsplit(url)
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    store = PostgresStore(proxied, schema=schema, pool_size=1)
    await store.open()
    await _prepare(store)
    return store


async def _prepare(store: PostgresStore) -> None:
    """Run each write once on the pool's (one) connection, which keeps it prepared."""
    other = ConversationKey("sms", "447700900002", "447700900000")
    conversation = await store.load(other)
    await store.complete_turn(None, conversation, [reply("warm", other)], now=NOW)
    await store.enqueue([reply("warm too", other)], now=NOW)


async def test_a_write_that_committed_but_lost_its_answer_returns_what_it_queued(
    url: str, schema: str
) -> None:
    parts = urlsplit(url)
    async with CutProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        store = await _through(proxy, url, schema)
        try:
            inbox_id = await store.accept(inbound("m-1"))
            proxy.armed = "answer"
            turn = await store.complete_turn(
                inbox_id, Conversation(KEY), [reply("a"), reply("b")], now=NOW
            )
            await _prepare(store)  # on the connection the pool made after the cut
            proxy.armed = "answer"
            queued = await store.enqueue([reply("c")], now=NOW)

            assert proxy.cuts == 2  # both answers were lost, and both writes committed
            assert turn.version == 1
            assert [(m.client_ref, m.after_others) for m in [*turn.outbound, *queued]] == [
                ("ref-a", True), ("ref-b", True), ("ref-c", True),
            ]  # fmt: skip
            mine = [m for m in await store.pending_outbound() if m.key == KEY]
            assert mine == [
                dataclasses.replace(m, after_others=False) for m in [*turn.outbound, *queued]
            ]
            assert await store.pending_for(KEY) == []
            assert (await store.load(KEY)).version == 1
        finally:
            await store.close()


async def test_a_write_that_never_reached_the_server_is_refused(url: str, schema: str) -> None:
    parts = urlsplit(url)
    async with CutProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        store = await _through(proxy, url, schema)
        try:
            inbox_id = await store.accept(inbound("m-1"))
            before = await store.pending_outbound()
            proxy.armed = "request"
            with pytest.raises(StoreError, match="PostgreSQL store"):
                await store.complete_turn(inbox_id, Conversation(KEY), [reply("a")], now=NOW)

            assert proxy.cuts == 1
            assert await store.pending_outbound() == before
            assert [e.id for e in await store.pending_for(KEY)] == [inbox_id]
            assert await store.load(KEY) == Conversation(KEY)
        finally:
            await store.close()


# -- notices --------------------------------------------------------------------------


async def _opened(url: str, schema: str) -> PostgresStore:
    store = PostgresStore(url, schema=schema)
    await store.open()
    assert store.database.listener is not None
    assert await store.database.listener.wait_listening(WAIT)
    return store


async def test_a_released_lease_someone_waits_for_wakes_the_waiter(url: str, schema: str) -> None:
    holder, waiter = await _opened(url, schema), await _opened(url, schema)
    other = ConversationKey("sms", "447700900002", "447700900000")
    try:
        token = await holder.acquire_lease(KEY, "a", ttl=60, now=NOW)
        quiet = await holder.acquire_lease(other, "a", ttl=60, now=NOW)
        assert token is not None and quiet is not None
        with waiter.notices.watch((LEASE, KEY)) as released:
            assert await waiter.acquire_lease(KEY, "b", ttl=60, now=NOW) is None  # waits
            assert await holder.release_lease(other, quiet)  # nobody waited: no notice
            assert await holder.release_lease(KEY, token)
            await asyncio.wait_for(released.sleeper(asyncio.sleep)(WAIT), WAIT)
            assert released.noticed is False  # the sleep ended on the notice, and took it
        assert waiter.notices.heard == 1
        assert await waiter.acquire_lease(KEY, "b", ttl=60, now=NOW) is not None
    finally:
        await holder.close()
        await waiter.close()


async def test_a_finished_reply_wakes_the_sender_of_a_later_one(url: str, schema: str) -> None:
    a, b = await _opened(url, schema), await _opened(url, schema)
    try:
        await a.claim_outbound(ttl=60, now=NOW)
        await b.claim_outbound(ttl=60, now=NOW)
        (first,) = await a.enqueue([reply("1")], now=NOW)
        (later,) = await b.enqueue([reply("2")], now=NOW)
        assert later.after_others
        with b.notices.watch((REPLIES, KEY)) as finished:
            assert await b.claim_earlier(later, now=NOW) is None
            await a.mark_sent(first.id, "uuid-1", now=NOW)
            await asyncio.wait_for(finished.sleeper(asyncio.sleep)(WAIT), WAIT)
        assert b.notices.heard == 1
        assert await b.claim_earlier(later, now=NOW) == []
    finally:
        await a.close()
        await b.close()


# -- a server that goes away ------------------------------------------------------------


@pytest.fixture
def private_server() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.close()


async def test_a_restarted_server_is_used_again_without_reopening(
    private_server: PrivatePostgres,
) -> None:
    store = PostgresStore(private_server.url)
    await store.open()
    try:
        listener = store.database.listener
        assert listener is not None and await listener.wait_listening(WAIT)
        first = await store.accept(inbound("m-1"))
        private_server.stop()  # a crash: pg_ctl stop -m immediate

        with pytest.raises(StoreError, match="PostgreSQL store postgresql://"):
            await store.accept(inbound("m-2"))
        health = await store.health()
        assert health["ok"] is False and "PostgreSQL store" in health["error"]

        private_server.start()
        second = await store.accept(inbound("m-2"))
        assert first is not None and second is not None and second > first
        assert [e.dedupe_key for e in await store.pending_inbox()] == ["m-1", "m-2"]
        assert (await store.health())["ok"] is True
        # The listening connection came back by itself too.
        for _ in range(200):
            if listener.connections == 2 and listener.listening:
                break
            await asyncio.sleep(0.05)
        assert (listener.connections, listener.listening) == (2, True)
    finally:
        await store.close()


# -- several processes ------------------------------------------------------------------


SOURCE_ROOT = Path(botkit.__file__).parents[1]  # workers import this botkit, not another
WORKER = """
import asyncio, sys
from botkit.errors import VersionConflict
from botkit.store import ConversationKey, NewInboxEntry, NewOutbound
from botkit.store.postgres import PostgresStore

async def main(url, schema, worker):
    key = ConversationKey("sms", "447700900001", "447700900000")
    store = PostgresStore(url, schema=schema)
    await store.open()
    conflicts = 0
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    for n in range(40):
        await store.accept(NewInboxEntry(f"m-{n}", key, "inbound", b"{}", 1.0))
        conversation = await store.load(key)
        conversation.data["n"] = conversation.data.get("n", 0) + 1
        reply = NewOutbound(key, {"text": f"{worker}-{n}"}, f"{worker}-{n}")
        try:
            await store.complete_turn(None, conversation, [reply], now=2.0)
        except VersionConflict:
            conflicts += 1
    await store.close()
    print(conflicts)

asyncio.run(main(*sys.argv[1:]))
"""


def test_processes_sharing_one_schema_lose_no_update(url: str, schema: str) -> None:
    # Four processes accept the same 40 dedupe keys and each try 40 increments of one
    # conversation; every increment that is not refused as a conflict must count.
    run_sync(lambda: PostgresStore(url, schema=schema).migrate())
    args = [sys.executable, "-c", textwrap.dedent(WORKER), url, schema]
    workers = [
        subprocess.Popen(
            [*args, str(w)],
            cwd=SOURCE_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    try:
        for w in workers:
            assert w.stdout is not None and w.stdout.readline().strip() == "ready"
        for w in workers:  # all of them at once, then wait
            assert w.stdin is not None
            w.stdin.write("go\n")
            w.stdin.flush()
        outputs = [w.communicate(timeout=60)[0] for w in workers]
    finally:
        for w in workers:
            w.kill()
    assert [w.returncode for w in workers] == [0, 0, 0, 0]
    conflicts = sum(int(out) for out in outputs)
    assert conflicts > 0, "the processes never raced; the test proves nothing"
    committed = 4 * 40 - conflicts

    async def check() -> None:
        store = PostgresStore(url, schema=schema)
        await store.open()
        try:
            conversation = await store.load(ConversationKey("sms", "447700900001", "447700900000"))
            assert (conversation.version, conversation.data) == (committed, {"n": committed})
            inbox = await store.pending_inbox()
            assert len(inbox) == 40
            assert sorted(e.dedupe_key for e in inbox) == sorted(f"m-{n}" for n in range(40))
            assert len(await store.pending_outbound()) == committed
        finally:
            await store.close()

    run_sync(check)


async def test_racing_handles_commit_each_version_once(url: str, schema: str) -> None:
    stores = [PostgresStore(url, schema=schema) for _ in range(4)]
    for s in stores:
        await s.open()
    try:
        ids = await asyncio.gather(*(s.accept(inbound("m-1")) for s in stores for _ in range(5)))
        (inbox_id,) = [i for i in ids if i is not None]

        turns = [
            s.complete_turn(inbox_id, Conversation(KEY), [reply("x")], now=NOW) for s in stores
        ]
        results = await asyncio.gather(*turns, return_exceptions=True)
        assert sum(not isinstance(r, BaseException) for r in results) == 1
        # The entry is checked before the version: the losers learn it is done.
        assert sum(isinstance(r, AlreadyDone) for r in results) == 3

        turns = [s.complete_turn(None, Conversation(KEY), [reply("y")], now=NOW) for s in stores]
        results = await asyncio.gather(*turns, return_exceptions=True)
        assert sum(isinstance(r, VersionConflict) for r in results) == 4
        assert len(await stores[0].pending_outbound()) == 1
    finally:
        for s in stores:
            await s.close()
