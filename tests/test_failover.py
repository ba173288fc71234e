"""Failover: a reply tried on other channels in order, each step rendered by its own channel.

Through real turns: the failover array is in the body the fake Messages API receives,
the API's workflow id is kept with the sent message, and a typed answer to the SMS step's
numbered menu comes back on SMS as the same button event as a chip tap on RCS.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from botkit import Bot, Context, ErrorContext
from botkit.failover import FailoverError, failover_steps, with_failover
from botkit.render import render
from botkit.replies import Button, Card, Carousel, Image, Text
from botkit.settings import Settings
from botkit.store.base import ConversationKey

from .oracle import assert_official
from .reference import CURRENT

SMS_NUMBER = "447700900000"
USER = "447700900001"
RCS_KEY = ConversationKey("rcs", USER, "botkitagent")

MENU = Carousel([
    Card("Margherita", "9.50", Image("https://example.com/m.jpg"), [Button("Order", "m")]),
    Card("Diavola", "11.00", Image("https://example.com/d.jpg"), [Button("Order", "d")]),
], failover=["sms"])


def test_a_text_fails_over_as_the_official_example_does() -> None:
    expected = json.loads((CURRENT / "outbound" / "rcs" / "text-failover-to-sms.json")
                          .read_text())
    text = "This is an RCS text message sent via the Vonage Messages API"
    key = ConversationKey("rcs", expected["to"], expected["from"])
    reply = Text(text, failover=["sms"])
    steps = failover_steps(reply, key, {"sms": "447700900001"}, locale="en",
                           public_url=None, now=0.0)
    rendered = render(reply, "rcs")
    with_failover(rendered.bodies, steps, "rcs")
    body = {"to": key.user, "from": key.bot, "channel": "rcs", **rendered.bodies[0]}
    # The same shape as Vonage's own example; each step is the same reply.
    assert body["failover"] == [{**expected["failover"][0], "text": text}]
    assert steps[0].key == ConversationKey("sms", key.user, "447700900001")


def test_a_carousel_fails_over_to_one_sms_with_a_numbered_menu() -> None:
    steps = failover_steps(MENU, RCS_KEY, {"sms": SMS_NUMBER}, locale="en",
                           public_url=None, now=5.0)
    [step] = steps
    assert step.body["channel"] == "sms" and step.body["from"] == SMS_NUMBER
    assert step.body["text"].endswith("Which one?\n1. Margherita\n2. Diavola\nReply 1 or 2")
    assert "failover sms: 3 messages joined into one for the failover step" in step.decisions
    assert step.menu is not None and [c.payload for c in step.menu.choices] == ["m", "d"]
    assert_official(step.body)


def test_a_step_that_cannot_be_one_message_is_refused() -> None:
    reply = Image("https://example.com/a.jpg", "Our shop", failover=["sms", "messenger"])
    # Messenger images carry no caption: image + caption text are two messages.
    with pytest.raises(FailoverError, match="cannot fail over to Messenger: the reply is 2"):
        failover_steps(reply, RCS_KEY, {}, locale="en", public_url=None, now=0.0)
    long = Text("word " * 700, failover=["sms"])  # 3500 characters: two SMS, too long joined
    with pytest.raises(FailoverError, match=r"joined are \d+ characters > 1000"):
        failover_steps(long, RCS_KEY, {}, locale="en", public_url=None, now=0.0)
    two = render(Text("word " * 700), "rcs").bodies
    with pytest.raises(FailoverError, match="one message on rcs; it renders as 2"):
        with_failover(two, [], "rcs")


def test_failover_is_refused_to_the_same_channel() -> None:
    with pytest.raises(FailoverError, match="already on rcs"):
        failover_steps(Text("hi", failover=["rcs"]), RCS_KEY, {}, locale="en",
                       public_url=None, now=0.0)


@pytest.fixture
def rcs_bot(make_bot: Callable[..., Bot]) -> Bot:
    bot = make_bot(senders={"sms": SMS_NUMBER})

    @bot.on_text(r"(?i)^menu$")
    async def menu(ctx: Context) -> None:
        await ctx.reply(MENU)

    @bot.on_button("m", "d")
    async def ordered(ctx: Context) -> None:
        await ctx.reply(f"{ctx.message.button.title} ordered via "
                        f"{ctx.message.button.via} on {ctx.key.channel}")
    return bot


async def test_the_failover_goes_out_and_a_typed_answer_on_sms_is_the_same_tap(
        rcs_bot: Bot) -> None:
    from botkit.testing import BotTestClient, inbound_webhook

    async with BotTestClient(rcs_bot) as client:
        [sent] = await client.send("menu", channel="rcs")
        assert sent["message_type"] == "carousel"
        [sms] = sent["failover"]
        assert sms["channel"] == "sms" and sms["to"] == USER and sms["from"] == SMS_NUMBER
        assert sms["client_ref"] == sent["client_ref"]
        assert sent.workflow_id is not None  # kept with the sent message
        assert any(d.startswith("failover sms:") for d in sent.decisions or [])
        # The RCS carousel was rejected; the user got the SMS and answers it by number.
        [answer] = await client.send("2", channel="sms", user=USER)
        assert answer.seen == "Diavola ordered via text on sms"
        # A chip tap on RCS (the reply webhook of the carousel's chip) is the same event.
        tap = inbound_webhook("rcs", "reply", {"reply": {"id": "m", "title": "Order"}},
                              user=USER, timestamp=rcs_bot.clock.now())
        [answer] = await client.deliver(tap)
        assert answer.seen == "Order ordered via native on rcs"


async def test_a_failover_the_reply_cannot_make_reaches_on_error_in_the_handler(
        make_bot: Callable[..., Bot]) -> None:
    from botkit.testing import BotTestClient

    bot = make_bot()
    seen: list[BaseException] = []

    @bot.on_text()
    async def photo(ctx: Context) -> None:
        await ctx.reply(Image("https://example.com/a.jpg", "Shop", failover=["messenger"]))

    @bot.on_error(FailoverError)
    async def failed(ctx: ErrorContext) -> None:
        seen.append(ctx.error)
        await ctx.reply("Sorry, that did not work.")

    async with BotTestClient(bot) as client:
        [sent] = await client.send("photo", channel="rcs")
    assert sent["text"] == "Sorry, that did not work."
    assert len(seen) == 1 and "Messenger" in str(seen[0])


def test_v01_has_no_failover_and_says_so(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(api_version="v0.1")
    turn = bot.render_replies([Text("hi", failover=["sms"])],
                              ConversationKey("whatsapp", USER, SMS_NUMBER), "ref",
                              locale="en")
    assert "failover" not in turn.outbound[0].body
    assert "failover: the v0.1 API has none -> sent without" in turn.decisions


def test_senders_come_from_botkit_senders() -> None:
    settings = Settings.from_env({"BOTKIT_SENDERS": f"sms:{SMS_NUMBER}, mms:14155550100"})
    assert settings.senders == {"sms": SMS_NUMBER, "mms": "14155550100"}
