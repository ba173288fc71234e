"""A bot whose handler never finishes: the process holding it is killed by the restart test."""

from __future__ import annotations

import asyncio

from botkit import Bot, Context

bot = Bot()


@bot.on_text()
async def stuck(ctx: Context) -> None:
    await asyncio.sleep(3600)
