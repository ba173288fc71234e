"""Conversation timers: set by a handler, saved with the conversation, fired once, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from botkit import Bot, Context, FakeClock, Settings
from botkit.testing import BotTestClient


def reminder_bot(make_bot: Callable[..., Bot], **settings: object) -> Bot:
    bot = make_bot(**settings)

    @bot.on_text("^remind$")
    async def remind(ctx: Context) -> None:
        ctx.set_timer(600)
        await ctx.reply("I will nudge you in 10 minutes.")

    @bot.on_text("^never mind$")
    async def cancel(ctx: Context) -> None:
        ctx.cancel_timer()

    @bot.on_timeout()
    async def nudge(ctx: Context) -> None:
        ctx.conversation.data["nudges"] = ctx.conversation.data.get("nudges", 0) + 1
        await ctx.reply(f"Nudge #{ctx.conversation.data['nudges']}")

    return bot


async def test_a_timer_fires_once_when_due(make_bot: Callable[..., Bot]) -> None:
    bot = reminder_bot(make_bot)
    async with BotTestClient(bot) as client:
        await client.send("remind")
        assert await client.advance(599) == []
        [nudge] = await client.advance(1)
        assert nudge["text"] == "Nudge #1"
        assert await client.advance(3600) == []  # fired once, not again
        assert await bot.fire_due_timers() == 0


async def test_a_new_timer_replaces_the_old_and_cancel_removes_it(
    make_bot: Callable[..., Bot],
) -> None:
    bot = reminder_bot(make_bot)
    async with BotTestClient(bot) as client:
        await client.send("remind")
        await client.advance(300)
        await client.send("remind")  # replaces: due 10 minutes from now
        assert await client.advance(301) == []
        assert [r["text"] for r in await client.advance(300)] == ["Nudge #1"]
        await client.send("remind")
        await client.send("never mind")
        assert await client.advance(10_000) == []


async def test_a_timer_committed_but_replaced_before_handling_does_nothing(
    make_bot: Callable[..., Bot],
) -> None:
    bot = reminder_bot(make_bot)
    async with BotTestClient(bot) as client:
        await client.send("remind")
        bot.clock.advance(600)  # type: ignore[attr-defined]
        # The due timer and a message that replaces it are committed back to back; the
        # message is handled second, so the timer is still current when it runs.
        assert await bot.fire_due_timers() == 1
        await bot.idle()
        assert [r["text"] for r in client.replies][-1] == "Nudge #1"


async def test_timers_survive_a_restart_and_fire_from_the_running_bot(tmp_path: Path) -> None:
    clock = FakeClock(1_750_000_000.0)
    settings = Settings(store=f"sqlite:///{tmp_path / 'timers.db'}")

    def build() -> Bot:
        bot = Bot(settings, clock=clock)
        return reminder_bot(lambda: bot)

    async with BotTestClient(build()) as client:
        await client.send("remind")
    clock.advance(601)  # the process was down when it fell due
    restarted = build()
    async with BotTestClient(restarted) as client:
        # Nobody calls fire_due_timers here: the running bot's own timer loop does.
        for _ in range(200):
            await asyncio.sleep(0.01)
            await restarted.idle()
            if client.replies:
                break
        assert [r["text"] for r in client.replies] == ["Nudge #1"]
