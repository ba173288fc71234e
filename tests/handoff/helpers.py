"""Shared by the handoff tests: a help-desk bot, waiting for it and its agent side, and a
local HTTP server for fakes of the agent side's services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

from botkit import Bot, Context, FakeClock, Settings
from botkit.testing import BotTestClient


def helpdesk_bot(tmp_path: Path, clock: FakeClock, **settings: Any) -> Bot:
    """A bot on SQLite that hands off on "human" (reason "asked for a person", note "order
    1234") and echoes everything else."""
    bot = Bot(Settings(store=f"sqlite:///{tmp_path / 'bot.db'}", **settings), clock=clock)

    @bot.on_text(r"(?i)\bhuman\b")
    async def human(ctx: Context) -> None:
        await ctx.reply("Connecting you to a person.")
        await ctx.handoff(reason="asked for a person", note="order 1234")

    @bot.on_message()
    async def echo(ctx: Context) -> None:
        await ctx.reply(f"echo: {ctx.message.text}")

    return bot


async def settle(client: BotTestClient) -> None:
    """Wait until the bot has handled everything and told the agent side."""
    await client.bot.idle()
    await client.bot._running_handoff().relay.idle()


@asynccontextmanager
async def serve_locally(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
