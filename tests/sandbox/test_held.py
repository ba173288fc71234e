"""A message the outbound policy holds back shows in the sandbox as a line with why,
instead of nothing."""

from __future__ import annotations

from collections.abc import Callable

from botkit import Bot, Context

from .conftest import act, page, timeline


async def test_a_reply_to_an_opted_out_user_shows_as_held(
    sandbox_bot: Callable[..., Bot]
) -> None:
    bot = sandbox_bot()

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        await ctx.reply(f"echo: {ctx.event.text}")

    async with page(bot) as http:
        await act(http, bot, channel="sms", type="text", text="STOP")
        await act(http, bot, channel="sms", type="text", text="still there?")
        entries = await timeline(http)
    held = [e for e in entries if e["status"] == "held"]
    [line] = held
    assert line["direction"] == "out" and line["channel"] == "sms"
    assert line["view"] == "not sent: the user opted out"
    [why] = line["decisions"]
    assert why.startswith("held back: ") and "opted out" in why and "'echo: still there?'" in why
    # the confirmation of STOP is a real message; the echo is not
    sent = [e["view"] for e in entries if e["direction"] == "out" and e["status"] != "held"]
    assert not any("echo" in view for view in sent)
    assert bot.metrics["opted_out"] == 1
