"""The turn backlog (botkit.backlog): a flood of webhooks at a slow bot stays small in
memory, loses nothing and keeps each conversation's order, on a store of one process
(SQLite) and a shared one (Redis)."""

from __future__ import annotations

import asyncio
import gc
import json
import time
import tracemalloc
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from botkit import Bot, Context, Settings
from botkit.store import Store
from botkit.store.redis import RedisStore
from botkit.store.sqlite import SQLiteStore
from botkit.testing import inbound_webhook
from botkit.webhooks import ingest

from .store.conftest import delete_prefixed, require_redis, unique_prefix
from .test_cross_process import FakeApi, until, within

USERS = 40


def _webhook(user: int, n: int) -> bytes:
    body = inbound_webhook("sms", "text", {"text": f"{n}"}, user=f"4477009{user:05d}",
                           timestamp=time.time())
    return json.dumps(body).encode()


class SlowBot:
    """A bot whose handler waits at a gate, recording what it was given per user."""

    def __init__(self, store: Store, backlog: int) -> None:
        settings = Settings(store="memory://", api_key="k", api_secret="s", backlog=backlog,
                            concurrency=4)
        self.api = FakeApi()
        self.bot = Bot(settings, store=store, transport=self.api.transport())
        self.gate = asyncio.Event()
        self.seen: dict[str, list[int]] = defaultdict(list)

        @self.bot.on_text()
        async def slow(ctx: Context) -> None:
            await self.gate.wait()
            self.seen[ctx.message.sender].append(int(ctx.message.text or 0))


async def _flood(slow: SlowBot, per_user: int) -> None:
    for n in range(per_user):
        for user in range(USERS):
            assert await ingest(slow.bot, _webhook(user, n), None, status=False)


StoreFactory = Callable[[], Store]


@pytest.fixture(params=["sqlite", "redis"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    prefixes: list[str] = []

    def new() -> Store:
        if request.param == "sqlite":
            return SQLiteStore(tmp_path / f"bot{len(prefixes)}.db")
        prefixes.append(unique_prefix())
        return RedisStore(url, prefix=prefixes[-1])

    url = require_redis() if request.param == "redis" else ""
    prefixes.append("")  # numbers the SQLite files; never a Redis prefix
    yield new
    if request.param == "redis":
        delete_prefixed(url, [p for p in prefixes if p])


async def test_a_flood_waits_in_the_store_and_every_turn_runs_once_in_order(
        stores: StoreFactory) -> None:
    slow = SlowBot(stores(), backlog=20)
    async with slow.bot.running():
        await _flood(slow, per_user=5)  # 200 events, 40 conversations
        worker = slow.bot.worker
        await until(lambda: worker.backlog.queued == 20)
        assert worker.backlog.spilling
        assert worker.lanes.active_keys <= 20
        assert slow.bot.metrics["backlog_full"] == 1
        assert len(await slow.bot.store.pending_inbox(limit=1000)) == 200
        slow.gate.set()
        await until(lambda: sum(map(len, slow.seen.values())) == 200)
        await within(slow.bot.idle())
        assert not worker.backlog.spilling and worker.backlog.queued == 0
    assert len(slow.seen) == USERS
    assert all(turns == [0, 1, 2, 3, 4] for turns in slow.seen.values())
    assert slow.bot.metrics["turns"] == 200


async def _held_bytes(stores: StoreFactory, per_user: int, backlog: int) -> int:
    """Memory the process holds while ``per_user * USERS`` events wait at the gate."""
    slow = SlowBot(stores(), backlog=backlog)
    async with slow.bot.running():
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            await _flood(slow, per_user)
            await until(lambda: slow.bot.worker.backlog.queued == min(backlog,
                                                                      per_user * USERS))
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        slow.gate.set()
        await until(lambda: sum(map(len, slow.seen.values())) == per_user * USERS)
    return held


async def test_memory_stays_flat_however_many_events_wait(stores: StoreFactory) -> None:
    small = await _held_bytes(stores, per_user=5, backlog=50)    # 200 events wait
    large = await _held_bytes(stores, per_user=25, backlog=50)   # 1000 events wait
    # Without the bound every waiting event keeps its lane, task and parsed event
    # (about 5x here); with it, the 800 extra events stay in the store.
    print(f"\nheld while waiting: {small / 1024:.0f} KiB for 200 events, "
          f"{large / 1024:.0f} KiB for 1000")
    assert large < small * 1.6 + 256 * 1024


def test_the_backlog_setting_is_read_and_checked() -> None:
    assert Settings.from_env({"BOTKIT_BACKLOG": "250"}).backlog == 250
    with pytest.raises(Exception, match="BOTKIT_BACKLOG must be a positive number"):
        Settings(backlog=0)
