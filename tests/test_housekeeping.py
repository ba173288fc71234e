"""Housekeeping: pruning on schedule with the retention settings, and ``botkit forget``."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from botkit import Bot, ConfigError, Context, FakeClock, Settings
from botkit.cli import main
from botkit.housekeeping import prune, sweep_interval
from botkit.store import Conversation, ConversationKey, NewInboxEntry, NewOutbound
from botkit.store.memory import MemoryStore
from botkit.store.sqlite import SQLiteStore
from botkit.testing import BotTestClient, inbound_webhook

DAY = 86_400.0
USER = ConversationKey("sms", "447700900001", "447700900000")


def test_retention_settings_have_defaults_and_are_read() -> None:
    defaults = Settings.from_env({})
    assert (defaults.retention, defaults.prune_interval, defaults.lock_lease) == (
        7 * DAY,
        3600.0,
        60.0,
    )
    s = Settings.from_env(
        {"BOTKIT_RETENTION": "3600", "BOTKIT_PRUNE_INTERVAL": "0", "BOTKIT_LOCK_LEASE": "2.5"}
    )
    assert (s.retention, s.prune_interval, s.lock_lease) == (3600.0, 0.0, 2.5)


@pytest.mark.parametrize(
    ("name", "value"),
    [("BOTKIT_RETENTION", "-1"), ("BOTKIT_PRUNE_INTERVAL", "-5"), ("BOTKIT_LOCK_LEASE", "0")],
)
def test_bad_retention_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_sweeps_come_a_quarter_lease_apart_at_most_every_5_seconds() -> None:
    assert sweep_interval(60.0) == 5.0
    assert sweep_interval(2.0) == 0.5
    assert sweep_interval(0.01) == 0.05


async def test_prune_uses_the_retention_settings() -> None:
    clock = FakeClock(1_750_000_000.0)
    bot = Bot(Settings(store="memory://", retention=DAY), clock=clock)

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        await ctx.reply("echo")

    async with BotTestClient(bot) as client:
        assert len(await client.send("hi")) == 1
        await client.bot.store.put_files({"vcard": ("text/vcard", b"x")}, now=clock.now())
        clock.advance(DAY - 1)
        assert await prune(bot) == {"inbox": 0, "outbox": 0, "dedupe": 0, "files": 0}
        clock.advance(2)
        assert await prune(bot) == {"inbox": 1, "outbox": 1, "dedupe": 0, "files": 0}
        clock.advance(7 * DAY)
        assert await prune(bot) == {"inbox": 0, "outbox": 0, "dedupe": 1, "files": 1}


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.prunes = 0

    async def prune(self, **cutoffs: Any) -> dict[str, int]:
        self.prunes += 1
        return await super().prune(**cutoffs)


@pytest.mark.parametrize(("interval", "expected"), [(3600.0, 1), (0.0, 0)])
async def test_the_running_bot_prunes_on_schedule(interval: float, expected: int) -> None:
    store = CountingStore()
    # A short lease makes the chores tick every 50 ms (real time).
    bot = Bot(Settings(store="memory://", lock_lease=0.2, prune_interval=interval), store=store)

    async with bot.running():
        deadline = time.monotonic() + 5
        while store.prunes < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.15)  # a few more ticks: the next prune is an hour away

    assert store.prunes == expected


async def test_a_failing_chore_does_not_stop_the_next(caplog: pytest.LogCaptureFixture) -> None:
    class Failing(CountingStore):
        async def prune(self, **cutoffs: Any) -> dict[str, int]:
            self.prunes += 1
            raise RuntimeError("boom")

    store = Failing()
    bot = Bot(Settings(store="memory://", lock_lease=0.2, prune_interval=0.06), store=store)

    async with bot.running():
        deadline = time.monotonic() + 5
        while store.prunes < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    assert store.prunes >= 2
    assert "housekeeping failed" in caplog.text


# -- botkit forget ---------------------------------------------------------------------


async def fill(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open()
    try:
        other = ConversationKey("sms", "447700900002", "447700900000")
        for n, key in enumerate((USER, other)):
            body = json.dumps(inbound_webhook("sms", "text", {"text": "hi"}, timestamp=0)).encode()
            inbox_id = await store.accept(NewInboxEntry(f"m-{n}", key, "inbound", body, 0.0))
            reply = NewOutbound(key, {"text": "hello"}, f"ref-{n}")
            await store.complete_turn(inbox_id, Conversation(key, data={"n": n}), [reply], now=0)
    finally:
        await store.close()


async def stored(path: Path, key: ConversationKey) -> Conversation:
    store = SQLiteStore(path)
    await store.open()
    try:
        return await store.load(key)
    finally:
        await store.close()


def test_botkit_forget_deletes_one_users_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bot.db"
    asyncio.run(fill(path))
    monkeypatch.setenv("BOTKIT_STORE", f"sqlite:///{path}")

    assert main(["forget", "sms", USER.user]) == 0

    out = capsys.readouterr().out
    assert f"forgot sms user {USER.user}: 3 records deleted" in out
    assert asyncio.run(stored(path, USER)) == Conversation(USER)
    other = ConversationKey("sms", "447700900002", "447700900000")
    assert asyncio.run(stored(path, other)).data == {"n": 1}
    assert main(["forget", "sms", USER.user]) == 0
    assert ": 0 records deleted" in capsys.readouterr().out


def test_botkit_forget_refuses_an_unknown_channel(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["forget", "telegram", "123"])
    assert "invalid choice" in capsys.readouterr().err
