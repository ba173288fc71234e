"""The customer-care window with the fake clock: open, closed, a fallback template chosen,
a refusal reported, and the decision shown with the message."""

from __future__ import annotations

from collections.abc import Callable

from botkit import Bot, Context, ErrorContext, FakeClock, Template, Text, WindowClosed
from botkit.testing import BotTestClient

USER, OURS = "447700900001", "447700900000"
TEMPLATE = Template("order_update", ["AB12"], "en", fallback_text="Order {{1}} has news")


def window_bot(make_bot: Callable[..., Bot]) -> tuple[Bot, list[BaseException]]:
    bot = make_bot()
    reported: list[BaseException] = []

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        await ctx.reply(f"echo: {ctx.event.text}")

    @bot.on_error(WindowClosed)
    async def closed(ctx: ErrorContext) -> None:
        reported.append(ctx.error)

    return bot, reported


async def test_open_within_24_hours_of_the_users_message(
    make_bot: Callable[..., Bot], clock: FakeClock
) -> None:
    bot, reported = window_bot(make_bot)
    async with BotTestClient(bot) as client:
        await client.send("hi", channel="whatsapp", user=USER)
        clock.advance(24 * 3600 - 1)
        assert await bot.send("whatsapp", USER, "still open", sender=OURS)
    assert reported == [] and bot.metrics["window_closed"] == 0


async def test_closed_after_24_hours_refused_locally_and_reported(
    make_bot: Callable[..., Bot], clock: FakeClock
) -> None:
    bot, reported = window_bot(make_bot)
    async with BotTestClient(bot) as client:
        await client.send("hi", channel="whatsapp", user=USER)
        sent_before = len(client.replies)
        clock.advance(24 * 3600)
        assert await bot.send("whatsapp", USER, "too late", sender=OURS) == []
        assert len(client.replies) == sent_before  # nothing reached the API
        # SMS has no window: the same send goes out
        assert await bot.send("sms", USER, "fine on SMS", sender=OURS)
    [error] = reported
    assert isinstance(error, WindowClosed) and error.last_inbound is not None
    assert bot.metrics["window_closed"] == 1


async def test_a_fallback_template_goes_instead_with_the_decision(
    make_bot: Callable[..., Bot], clock: FakeClock
) -> None:
    bot, reported = window_bot(make_bot)
    decisions: list[list[str]] = []
    bot.render_observers.append(lambda turn: decisions.extend(turn.decisions_by_ref.values()))
    async with BotTestClient(bot) as client:
        await client.send("hi", channel="whatsapp", user=USER)
        clock.advance(30 * 3600)
        assert await bot.send("whatsapp", USER, Text("free form", fallback=TEMPLATE),
                              sender=OURS)
        body = client.replies[-1]
    assert body["message_type"] == "template"
    assert body["template"]["name"] == "order_update"  # type: ignore[index]
    assert reported == [] and bot.metrics["window_fallback"] == 1
    assert decisions[-1][0].startswith("window closed (the user last wrote 30.0 h ago): "
                                       "template 'order_update' instead of 'free form'")


async def test_a_template_passes_and_the_users_message_reopens_it(
    make_bot: Callable[..., Bot], clock: FakeClock
) -> None:
    bot, reported = window_bot(make_bot)
    async with BotTestClient(bot) as client:
        await client.send("hi", channel="whatsapp", user=USER)
        clock.advance(48 * 3600)
        assert await bot.send("whatsapp", USER, TEMPLATE, sender=OURS)
        replies = await client.send("back again", channel="whatsapp", user=USER)
    assert [r.get("text") for r in replies] == ["echo: back again"]
    assert reported == []


async def test_the_error_handler_may_answer_a_closed_window_with_a_template(
    make_bot: Callable[..., Bot], clock: FakeClock
) -> None:
    bot = make_bot()

    @bot.on_timeout()
    async def late(ctx: Context) -> None:
        await ctx.reply("a free-form nudge")

    @bot.on_text()
    async def arm(ctx: Context) -> None:
        ctx.set_timer(25 * 3600)

    @bot.on_error(WindowClosed)
    async def closed(ctx: ErrorContext) -> None:
        await ctx.reply(TEMPLATE, "and free form again")  # the second is held back too

    async with BotTestClient(bot) as client:
        await client.send("hi", channel="whatsapp", user=USER)
        [sent] = await client.advance(25 * 3600)
    assert sent["message_type"] == "template"
    assert bot.metrics["window_closed"] == 2
