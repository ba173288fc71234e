"""The smallest botkit bot: it echoes every text on every channel.

Run it:  botkit run examples/echo.py:bot
"""

from __future__ import annotations

from botkit import Bot, Context

bot = Bot()


@bot.on_text(r"(?i)^(hi|hello)\b")
async def hello(ctx: Context) -> None:
    name = ctx.message.profile_name or "there"
    await ctx.reply(f"Hello {name}! Send me anything and I will echo it.")


@bot.on_text()
async def echo(ctx: Context) -> None:
    await ctx.reply(f"You said: {ctx.message.text}")


@bot.on_message()
async def anything_else(ctx: Context) -> None:
    await ctx.reply(f"I can only echo text for now (you sent a {ctx.message.kind}).")


app = bot.asgi()
