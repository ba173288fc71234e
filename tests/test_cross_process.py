"""Several bots on one shared store behave as one bot: order, isolation, takeover, sweep.

Two :class:`Bot` instances in one test process share a Redis key prefix or a PostgreSQL
schema (each test runs on both), each with its own store handle and its own lease owner,
as two processes would. They share an event
loop, which is what lets a test see whether handler runs of one conversation overlap.
Real processes (uvicorn workers, ``kill -9``) are tested in ``tests/reliability/``.

Timing: only :func:`test_a_hung_turn_loses_its_lease_and_its_late_write` asserts on real
time (reliability.md C4: unblocked within lease + 1 s); every wait is bounded.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis

from botkit import Bot, Context, FakeClock, Settings
from botkit.cli import main
from botkit.store import ConversationKey, NewInboxEntry, NewOutbound, Store
from botkit.store.memory import MemoryStore
from botkit.store.postgres import PostgresStore
from botkit.store.redis import RedisStore
from botkit.store.sqlite import SQLiteStore
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, FakeSleeper, inbound_webhook
from botkit.webhooks import ingest

from .store.conftest import delete_prefixed, require_redis, unique_prefix
from .store.pg import drop_schemas, require_postgres, run_sync, unique_schema

KEY = ConversationKey("sms", DEFAULT_USER["sms"], DEFAULT_BOT["sms"])
WAIT = 30.0  # the most any wait below may take before the test fails


@dataclass
class FakeApi:
    """The Messages API answering 202 at once; keeps every accepted body."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            self.bodies.append(json.loads(request.content))
            return httpx.Response(202, json={"message_uuid": f"out-{next(self._ids)}"})

        return httpx.MockTransport(handle)

    @property
    def texts(self) -> list[str]:
        return [str(body.get("text")) for body in self.bodies]


def webhook(text: str, *, uuid: str | None = None, at: float | None = None) -> bytes:
    body = inbound_webhook(
        "sms", "text", {"text": text}, timestamp=at or time.time(), message_uuid=uuid
    )
    return json.dumps(body).encode()


def make_bot(store: Store, api: FakeApi, *, lease: float = 60.0, **kwargs: Any) -> Bot:
    settings = Settings(store="memory://", api_key="k", api_secret="s", lock_lease=lease)
    return Bot(settings, store=store, transport=api.transport(), **kwargs)


async def within(awaitable: Awaitable[Any], seconds: float = WAIT) -> Any:
    return await asyncio.wait_for(awaitable, seconds)


async def until(condition: Callable[[], bool], seconds: float = WAIT) -> None:
    """Poll ``condition`` (every 10 ms, real time) until it holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition never held")
        await asyncio.sleep(0.01)


@dataclass
class Shared:
    """One shared store's storage (a Redis prefix or a PostgreSQL schema): new handles on
    it, as each process would open, and what it holds."""

    kind: str
    url: str
    name: str

    def new(self) -> Store:
        if self.kind == "redis":
            return RedisStore(self.url, prefix=self.name)
        return PostgresStore(self.url, schema=self.name)

    def inbox_order(self) -> list[str]:
        """Every inbox entry's dedupe key, in acceptance (id) order."""
        if self.kind == "redis":
            with redis.Redis.from_url(self.url, decode_responses=True) as client:
                return [fields["dedupe"] for _, fields in client.xrange(f"{self.name}inbox")]
        return [row[0] for row in self._sql("SELECT dedupe_key FROM @.inbox ORDER BY id")]

    def leases_left(self) -> int:
        """Lease records still stored."""
        if self.kind == "redis":
            with redis.Redis.from_url(self.url) as client:
                return len(list(client.scan_iter(f"{self.name}lease:[[]*")))
        return int(self._sql("SELECT count(*) FROM @.leases")[0][0])

    def _sql(self, query: str) -> list[Any]:
        async def fetch() -> list[Any]:
            conn = await asyncpg.connect(self.url)
            try:
                return list(await conn.fetch(query.replace("@", f'"{self.name}"')))
            finally:
                await conn.close()

        return run_sync(fetch)


@pytest.fixture(params=["redis", "postgres"])
def shared(request: pytest.FixtureRequest) -> Iterator[Shared]:
    """Each test once on Redis, once on PostgreSQL; the storage is removed afterwards."""
    if request.param == "redis":
        url = require_redis()
        storage = Shared("redis", url, unique_prefix())
        try:
            yield storage
        finally:
            delete_prefixed(url, [storage.name])
        return
    url = require_postgres()
    storage = Shared("postgres", url, unique_schema())
    try:
        yield storage
    finally:
        drop_schemas(url, [storage.name])


class Recorder:
    """A counting handler that notices overlapping runs of one conversation."""

    def __init__(self) -> None:
        self.active = 0
        self.most_active = 0
        self.order: list[str] = []

    def install(self, bot: Bot, name: str) -> None:
        @bot.on_text()
        async def count(ctx: Context) -> None:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
            try:
                # Give the other bot every chance to run a turn of this conversation now.
                for _ in range(3):
                    await asyncio.sleep(0)
                data = ctx.conversation.data
                data["n"] = data.get("n", 0) + 1
                self.order.append(ctx.message.message_uuid)
                await ctx.reply(f"{name} #{data['n']}")
            finally:
                self.active -= 1


# -- C1/C2: one conversation, two bots ----------------------------------------------------


async def test_two_bots_serve_one_conversation_in_acceptance_order(shared: Shared) -> None:
    n = 100
    api, recorder = FakeApi(), Recorder()
    bots = [make_bot(shared.new(), api) for _ in range(2)]
    for name, bot in zip("ab", bots, strict=True):
        recorder.install(bot, name)
    uuids = [f"m-{i:03d}" for i in range(n)]

    async with bots[0].running(), bots[1].running():
        assert bots[0].worker.owner != bots[1].worker.owner
        # 80 in flight at once, accepted alternately by each bot: they race for the lease.
        accepts = [
            ingest(bots[i % 2], webhook(str(i), uuid=u), None, status=False)
            for i, u in enumerate(uuids[:80])
        ]
        assert await within(asyncio.gather(*accepts)) == [True] * 80
        await within(asyncio.gather(*(bot.idle() for bot in bots)))
        # Then one at a time, alternately: the conversation passes from bot to bot.
        for i, u in enumerate(uuids[80:], start=80):
            assert await ingest(bots[i % 2], webhook(str(i), uuid=u), None, status=False)
            await within(asyncio.gather(*(bot.idle() for bot in bots)))
        await until(lambda: len(api.bodies) == n)

    accepted = shared.inbox_order()
    assert sorted(accepted) == uuids
    assert recorder.order == accepted  # processing order = acceptance order
    assert recorder.most_active == 1  # never two turns of the conversation at once
    assert [bot.metrics["accepted"] for bot in bots] == [n // 2, n // 2]
    assert sum(bot.metrics["turns"] for bot in bots) == n
    assert min(bot.metrics["turns"] for bot in bots) >= 10  # both served the conversation
    store = shared.new()
    await store.open()
    try:
        conversation = await store.load(KEY)
        assert (conversation.version, conversation.data) == (n, {"n": n})
        assert await store.pending_inbox() == []
        assert await store.pending_outbound() == []
    finally:
        await store.close()
    numbers = sorted(int(text.split("#")[1]) for text in api.texts)
    assert numbers == list(range(1, n + 1))  # each reply once: no lost or repeated update
    assert len({body["client_ref"] for body in api.bodies}) == n
    assert shared.leases_left() == 0  # released: nothing left per user


async def test_many_conversations_run_concurrently_on_two_bots(shared: Shared) -> None:
    api, recorder = FakeApi(), Recorder()
    bots = [make_bot(shared.new(), api) for _ in range(2)]
    for name, bot in zip("ab", bots, strict=True):
        recorder.install(bot, name)
    users = [f"4477009{u:05d}" for u in range(20)]

    async with bots[0].running(), bots[1].running():
        accepts = []
        for i in range(5):
            for u, user in enumerate(users):
                body = inbound_webhook(
                    "sms",
                    "text",
                    {"text": "x"},
                    user=user,
                    timestamp=time.time(),
                    message_uuid=f"{user}-{i}",
                )
                accepts.append(
                    ingest(bots[(i + u) % 2], json.dumps(body).encode(), None, status=False)
                )
        await within(asyncio.gather(*accepts))
        await within(asyncio.gather(*(bot.idle() for bot in bots)))
        await until(lambda: len(api.bodies) == 100)

    assert recorder.most_active > 1  # conversations do not wait for each other
    accepted = shared.inbox_order()
    for user in users:
        processed = [u for u in recorder.order if u.startswith(user)]
        assert processed == [u for u in accepted if u.startswith(user)]
        assert sorted(processed) == [f"{user}-{i}" for i in range(5)]


# -- C4: a hung turn ----------------------------------------------------------------------


async def test_a_hung_turn_loses_its_lease_and_its_late_write(shared: Shared) -> None:
    lease = 1.0
    api = FakeApi()
    hung, release = asyncio.Event(), asyncio.Event()
    a = make_bot(shared.new(), api, lease=lease)
    b = make_bot(shared.new(), api, lease=lease)

    def install(bot: Bot, name: str, *, hang: bool) -> None:
        @bot.on_text()
        async def turn(ctx: Context) -> None:
            if hang and ctx.message.text == "first":
                hung.set()
                await release.wait()  # past the lease, until the test lets it go
            data = ctx.conversation.data
            data["seen"] = [*data.get("seen", []), f"{name}:{ctx.message.text}"]
            await ctx.reply(f"{name} saw {ctx.message.text}")

    install(a, "a", hang=True)
    install(b, "b", hang=False)

    async with a.running(), b.running():
        assert await ingest(a, webhook("first"), None, status=False)
        await within(hung.wait())
        started = time.monotonic()
        assert await ingest(b, webhook("second"), None, status=False)

        # b waits out a's lease, then serves the conversation: a's event too.
        await until(lambda: len(api.bodies) == 2, seconds=lease + 5)
        unblocked = time.monotonic() - started
        release.set()
        await within(a.idle())

    assert unblocked < lease + 1.0, f"the conversation was blocked {unblocked:.2f} s"
    assert api.texts == ["b saw first", "b saw second"]  # a's late reply was never queued
    assert a.metrics["lease_lost"] == 1 and a.metrics["turns"] == 0
    assert b.metrics["lease_wait"] == 1 and b.metrics["turns"] == 2
    store = shared.new()
    await store.open()
    try:
        conversation = await store.load(KEY)
        # The late write was refused, not applied over the newer state.
        assert conversation.data == {"seen": ["b:first", "b:second"]}
        assert conversation.version == 2
    finally:
        await store.close()


async def test_a_drain_waiting_for_a_lease_is_woken_by_its_release() -> None:
    # PostgreSQL announces a release someone waited for. The waiting bot's sleeps here
    # never end by themselves (a fake sleeper that does not jump): only the notice can
    # let it go on.
    url, schema = require_postgres(), unique_schema()
    api = FakeApi()
    entered, release = asyncio.Event(), asyncio.Event()
    a = make_bot(PostgresStore(url, schema=schema), api)
    started = time.time()
    frozen = FakeSleeper(FakeClock(started), autojump=False)
    b = make_bot(PostgresStore(url, schema=schema), api, clock=frozen.clock, sleep=frozen)
    for name, bot in (("a", a), ("b", b)):

        @bot.on_text()
        async def answer(ctx: Context, name: str = name) -> None:
            if ctx.message.text == "first":
                entered.set()
                await release.wait()
            await ctx.reply(f"{name}: {ctx.message.text}")

    try:
        async with a.running(), b.running():
            assert isinstance(b.store, PostgresStore) and b.store.database.listener is not None
            assert await b.store.database.listener.wait_listening(WAIT)
            assert await ingest(a, webhook("first"), None, status=False)
            await within(entered.wait())
            assert await ingest(b, webhook("second"), None, status=False)
            await until(lambda: b.metrics["lease_wait"] == 1 and frozen.waiting == 1)
            release.set()
            await within(asyncio.gather(a.idle(), b.idle()))
            await until(lambda: len(api.bodies) == 2)
    finally:
        drop_schemas(url, [schema])

    assert api.texts == ["a: first", "b: second"]
    assert b.store.notices.heard >= 1
    assert frozen.clock.now() == started  # no sleep of b's ever ended by itself


# -- B2 / AlreadyDone: one event, two runs of its turn --------------------------------------


def sqlite_pair(tmp_path: Path) -> tuple[Store, Store]:
    # Two handles on one SQLite file and no leases: what two processes would do without
    # a shared store. Only the inbox entry's check keeps the second commit out.
    path = tmp_path / "shared.db"
    return SQLiteStore(path), SQLiteStore(path)


async def run_one_event_on_two_bots(stores: tuple[Store, Store]) -> tuple[FakeApi, int, list[Bot]]:
    """Hand one accepted event to both bots; the API, the handler runs and the bots."""
    api = FakeApi()
    bots = [make_bot(store, api) for store in stores]
    runs = 0

    for bot in bots:

        @bot.on_text()
        async def turn(ctx: Context) -> None:
            nonlocal runs
            runs += 1
            ctx.conversation.data["n"] = ctx.conversation.data.get("n", 0) + 1
            await ctx.reply("once")

    async with bots[0].running(), bots[1].running():
        body = webhook("hi", uuid="m-1")
        entry = NewInboxEntry("m-1", KEY, "inbound", body, time.time())
        inbox_id = await bots[0].store.accept(entry)
        assert inbox_id is not None
        (pending,) = await bots[0].store.pending_inbox()
        for bot in bots:  # both processes were handed the same event
            bot.worker.submit(pending)
        await within(asyncio.gather(*(bot.idle() for bot in bots)))
        conversation = await bots[1].store.load(KEY)

    assert api.texts == ["once"]
    assert (conversation.version, conversation.data) == (1, {"n": 1})
    return api, runs, bots


async def test_one_event_run_by_two_bots_is_committed_once(shared: Shared) -> None:
    _, runs, bots = await run_one_event_on_two_bots((shared.new(), shared.new()))

    duplicates = sum(bot.metrics["duplicate_turn"] for bot in bots)
    assert (runs, duplicates) == (1, 0)  # the second drain found nothing pending


async def test_one_event_run_by_two_bots_without_leases_is_committed_once(
    tmp_path: Path,
) -> None:
    _, runs, bots = await run_one_event_on_two_bots(sqlite_pair(tmp_path))

    duplicates = sum(bot.metrics["duplicate_turn"] for bot in bots)
    assert (runs, duplicates) == (2, 1)  # both ran it; AlreadyDone stopped one commit


async def test_the_same_entry_twice_in_one_process_commits_once() -> None:
    api = FakeApi()
    bot = make_bot(MemoryStore(), api)

    @bot.on_text()
    async def turn(ctx: Context) -> None:
        await ctx.reply("once")

    async with bot.running():
        assert await ingest(bot, webhook("hi"), None, status=False)
        (entry,) = await bot.store.pending_inbox()
        bot.worker.submit(entry)  # as a recovery racing the webhook might: still queued
        await within(bot.idle())
        bot.worker.submit(entry)  # and once it ran: the store refuses a second commit
        await within(bot.idle())

    assert api.texts == ["once"]
    assert bot.metrics["duplicate_turn"] == 1 and bot.metrics["turns"] == 1


class NoLeases(MemoryStore):
    """A store of one process that fails the test if a turn asks it for leases."""

    async def acquire_lease(self, *args: Any, **kwargs: Any) -> int | None:
        raise AssertionError("a store of one process needs no lease")

    async def pending_for(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a store of one process needs no per-conversation query")


async def test_a_store_of_one_process_takes_no_leases() -> None:
    api, recorder = FakeApi(), Recorder()
    bot = make_bot(NoLeases(), api)
    recorder.install(bot, "a")

    async with bot.running():
        assert not bot.worker.shared
        await within(
            asyncio.gather(*(ingest(bot, webhook(str(i)), None, status=False) for i in range(20)))
        )
        await within(bot.idle())
        assert await bot.worker.sweep() == 0

    assert len(api.bodies) == 20 and recorder.most_active == 1


# -- the sweep: events a dead process accepted --------------------------------------------


async def test_the_sweep_serves_events_a_dead_process_accepted(shared: Shared) -> None:
    lease = 1.0
    api, recorder = FakeApi(), Recorder()
    survivor = make_bot(shared.new(), api, lease=lease)
    recorder.install(survivor, "b")

    async with survivor.running():
        # Another process accepted these (answered 200) and died before its turn.
        dead = shared.new()
        await dead.open()
        at = time.time()  # one time for all three: one sweep finds them together
        for n in range(3):
            entry = NewInboxEntry(
                f"dead-{n}", KEY, "inbound", webhook(str(n), uuid=f"dead-{n}"), at
            )
            assert await dead.accept(entry) is not None
        await dead.close()

        await until(lambda: len(api.bodies) == 3, seconds=lease + 10)

    assert recorder.order == ["dead-0", "dead-1", "dead-2"]
    assert survivor.metrics["swept"] == 3


async def test_the_sweep_takes_only_entries_older_than_the_lease(shared: Shared) -> None:
    clock = FakeClock(1_750_000_000.0)
    api = FakeApi()
    bot = make_bot(shared.new(), api, lease=60.0, clock=clock)
    handled: list[str] = []

    @bot.on_text()
    async def turn(ctx: Context) -> None:
        handled.append(ctx.message.message_uuid)

    async with bot.running():
        other = ConversationKey("sms", "447700900777", DEFAULT_BOT["sms"])
        for uuid, key, age in (("old", KEY, 61), ("young", other, 10)):
            body = inbound_webhook(
                "sms",
                "text",
                {"text": "x"},
                user=key.user,
                timestamp=clock.now(),
                message_uuid=uuid,
            )
            at = clock.now() - age
            entry = NewInboxEntry(uuid, key, "inbound", json.dumps(body).encode(), at)
            assert await bot.store.accept(entry) is not None

        assert await bot.worker.sweep() == 1
        await within(bot.idle())
        assert handled == ["old"]

        clock.advance(51)
        assert await bot.worker.sweep() == 1
        await within(bot.idle())

    assert handled == ["old", "young"]


# -- replies across processes ------------------------------------------------------------


class HeldApi(FakeApi):
    """A FakeApi whose answers to the texts in ``hold`` wait until :attr:`release` is set."""

    def __init__(self, hold: set[str]) -> None:
        super().__init__()
        self.hold = hold
        self.release = asyncio.Event()

    def transport(self) -> httpx.MockTransport:
        async def handle(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            if body.get("text") in self.hold:
                await self.release.wait()
            self.bodies.append(body)
            return httpx.Response(202, json={"message_uuid": f"out-{next(self._ids)}"})

        return httpx.MockTransport(handle)


async def test_a_reply_queued_behind_another_process_waits_for_it(shared: Shared) -> None:
    api = HeldApi(hold={"reply to 1"})
    bots = [make_bot(shared.new(), api) for _ in range(2)]
    for bot in bots:

        @bot.on_text()
        async def answer(ctx: Context) -> None:
            await ctx.reply(f"reply to {ctx.message.text}")

    async with bots[0].running(), bots[1].running():
        assert await ingest(bots[0], webhook("1"), None, status=False)
        await within(_until_sending(bots[0]))
        # The first bot is stuck sending "reply to 1"; the second runs the next turn.
        assert await ingest(bots[1], webhook("2"), None, status=False)
        await until(lambda: bots[1].metrics["turns"] == 1)
        await asyncio.sleep(0.3)
        assert api.texts == []  # "reply to 2" waits for "reply to 1"
        api.release.set()
        await until(lambda: len(api.bodies) == 2)

    assert api.texts == ["reply to 1", "reply to 2"]
    assert [bot.metrics["sent"] for bot in bots] == [1, 1]
    assert sum(bot.metrics["send_recovered"] for bot in bots) == 0


async def test_a_reply_waiting_for_another_process_is_woken_when_it_is_sent() -> None:
    # PostgreSQL announces a finished reply later replies of other processes wait for;
    # the second bot's sleeps never end by themselves (a fake sleeper that does not jump).
    url, schema = require_postgres(), unique_schema()
    api = HeldApi(hold={"reply to 1"})
    started = time.time()
    frozen = FakeSleeper(FakeClock(started), autojump=False)
    bots = [
        make_bot(PostgresStore(url, schema=schema), api),
        make_bot(PostgresStore(url, schema=schema), api, clock=frozen.clock, sleep=frozen),
    ]
    for bot in bots:

        @bot.on_text()
        async def answer(ctx: Context) -> None:
            await ctx.reply(f"reply to {ctx.message.text}")

    try:
        async with bots[0].running(), bots[1].running():
            store = bots[1].store
            assert isinstance(store, PostgresStore) and store.database.listener is not None
            assert await store.database.listener.wait_listening(WAIT)
            assert await ingest(bots[0], webhook("1"), None, status=False)
            await within(_until_sending(bots[0]))
            assert await ingest(bots[1], webhook("2"), None, status=False)
            await until(lambda: bots[1].metrics["turns"] == 1 and frozen.waiting == 1)
            api.release.set()
            await until(lambda: len(api.bodies) == 2)
    finally:
        drop_schemas(url, [schema])

    assert api.texts == ["reply to 1", "reply to 2"]
    assert frozen.clock.now() == started  # no sleep of the second bot ended by itself


async def _until_sending(bot: Bot) -> None:
    await until(lambda: bot.sender.pending == 1 and bot.metrics["turns"] == 1)


async def test_replies_a_dead_process_left_are_sent_once_its_claim_runs_out(
    shared: Shared,
) -> None:
    lease = 1.0
    api = FakeApi()
    survivor = make_bot(shared.new(), api, lease=lease)
    others = ConversationKey("sms", "447700900999", DEFAULT_BOT["sms"])

    @survivor.on_text()
    async def answer(ctx: Context) -> None:
        await ctx.reply(f"reply to {ctx.message.text}")

    async with survivor.running():
        # Another process queued replies, claimed them, and died before sending them.
        dead = shared.new()
        await dead.open()
        await dead.claim_outbound(ttl=lease, now=time.time())
        await dead.enqueue(
            [
                NewOutbound(KEY, {"message_type": "text", "text": "left 1"}, "ref-1"),
                NewOutbound(others, {"message_type": "text", "text": "left 2"}, "ref-2"),
                NewOutbound(KEY, {"message_type": "text", "text": "left 3"}, "ref-3"),
            ],
            now=time.time(),
        )
        await dead.close()
        # A new turn of the same user: its reply must come after the dead one's.
        assert await ingest(survivor, webhook("4"), None, status=False)

        await until(lambda: len(api.bodies) == 4, seconds=lease + 10)

    assert [t for t in api.texts if t != "left 2"] == ["left 1", "left 3", "reply to 4"]
    assert survivor.metrics["send_recovered"] == 3
    assert survivor.metrics["sent"] == 4


# -- --workers ------------------------------------------------------------------------------


def bot_file(tmp_path: Path, store: str) -> str:
    path = tmp_path / "mybot.py"
    path.write_text(f"from botkit import Bot, Settings\nbot = Bot(Settings(store={store!r}))\n")
    return f"{path}:bot"


@pytest.mark.parametrize("store", ["sqlite", "memory"])
def test_workers_above_one_are_refused_on_a_store_of_one_process(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("uvicorn must not start"))
    url = f"sqlite:///{tmp_path / 'bot.db'}" if store == "sqlite" else "memory://"

    assert main(["run", bot_file(tmp_path, url), "--workers", "2"]) == 2

    error = capsys.readouterr().err
    assert "--workers 2 needs a store that processes share" in error
    assert "BOTKIT_STORE=redis://host:6379/0" in error
    assert "BOTKIT_STORE=postgresql://user@host:5432/dbname" in error
    assert ("SQLite store" if store == "sqlite" else "memory store") in error


@pytest.mark.parametrize(
    "store", ["redis://127.0.0.1:6379/15", "postgresql://postgres@127.0.0.1:5432/botkit_test"]
)
def test_workers_on_a_shared_store_start_uvicorn_by_import_string(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    started: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append((a, k)))
    for name in ("BOTKIT_RUN_TARGET", "BOTKIT_RUN_WATCH"):  # restored after the test
        monkeypatch.setenv(name, "")
    target = bot_file(tmp_path, store)

    assert main(["run", target, "--workers", "3", "--port", "8123"]) == 0

    ((args, kwargs),) = started
    assert args == ("botkit.cli:_reload_factory",)
    assert kwargs == {"factory": True, "host": "127.0.0.1", "port": 8123, "workers": 3,
                      "access_log": False}
    assert os.environ["BOTKIT_RUN_TARGET"] == target  # each worker imports it by itself


def test_each_worker_process_sets_up_logging(tmp_path: Path) -> None:
    # A worker is a fresh process: without its own setup botkit's INFO lines (recovery,
    # takeovers) would vanish under --workers.
    import subprocess
    import sys

    code = (
        "import logging, os\n"
        "from botkit.cli import _reload_factory\n"
        "_reload_factory()\n"
        "assert logging.getLogger().handlers, 'no handler'\n"
        "logging.getLogger('botkit').info('hello from a worker')\n"
    )
    env = {
        **os.environ,
        "BOTKIT_RUN_TARGET": bot_file(tmp_path, "memory://"),
        "BOTKIT_RUN_WATCH": "",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "INFO botkit: hello from a worker" in done.stderr


def test_workers_and_reload_do_not_mix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = bot_file(tmp_path, "redis://127.0.0.1:6379/15")

    assert main(["run", target, "--workers", "2", "--reload"]) == 2
    assert "--reload serves from one process" in capsys.readouterr().err
    assert main(["run", target, "--workers", "0"]) == 2
