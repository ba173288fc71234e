"""BotTestClient's additions: what the user reads, decisions, media and contacts, statuses."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from botkit import Bot, Button, Buttons, Card, Carousel, Context, Image, Location
from botkit.testing import BotTestClient, SentReply, bot_client
from botkit.testing.webhooks import reaction_webhook

from .reference import CURRENT

SIZES = Buttons("What size?", [Button("Small", "S"), Button("Medium", "M"),
                               Button("Large", "L")])
SIZES_ON_SMS = "What size?\n1. Small\n2. Medium\n3. Large\nReply 1-3"


def _pizza(bot: Bot) -> None:
    @bot.on_text(r"(?i)pizza")
    async def order(ctx: Context) -> None:
        await ctx.reply("Hello!", SIZES)

    @bot.on_button("S", "M", "L")
    async def size(ctx: Context) -> None:
        assert ctx.event.button is not None
        await ctx.reply(f"{ctx.event.button.title} it is.", Location(51.5, -0.12, "Shop"))

    @bot.on_media("image")
    async def photo(ctx: Context) -> None:
        assert ctx.event.media is not None
        await ctx.reply(f"Got {ctx.event.media.url} ({ctx.event.media.caption})")

    @bot.on_contact()
    async def contact(ctx: Context) -> None:
        names = [c.name or "?" for c in ctx.event.contacts]
        media = ctx.event.media.url if ctx.event.media else None
        await ctx.reply(f"Contacts: {names} {media or ''}".strip())


async def test_each_reply_shows_what_the_user_reads_next_to_its_body(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()
    _pizza(bot)
    async with BotTestClient(bot) as client:
        hello, menu = await client.send("pizza", channel="sms")
        native = (await client.send("pizza", channel="whatsapp"))[1]
    assert isinstance(menu, SentReply) and menu == {**menu}  # still the exact body
    assert hello.seen == "Hello!" and hello.decisions == ["SMS: GSM-7, 1 segment"]
    assert menu.seen == SIZES_ON_SMS
    assert menu["text"] == menu.seen
    assert menu.decisions is not None
    assert menu.decisions[0] == "buttons: SMS has no buttons -> numbered text menu"
    assert native.seen == "What size?\n[ Small ]  [ Medium ]  [ Large ]"
    assert native.decisions == [] and native["message_type"] == "custom"
    assert native.channel == "whatsapp" and native.user == "447700900001"
    assert native.message_uuid and native.message_uuid != menu.message_uuid


async def test_the_transcript_reads_like_the_conversation(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    _pizza(bot)
    async with BotTestClient(bot) as client:
        await client.send("pizza", channel="sms")
        await client.send("2", channel="sms")
        await client.send("pizza", channel="whatsapp")
        await client.tap("Large")
    assert client.transcript.split("\n") == [
        "--- sms ---",
        "> pizza",
        "< Hello!",
        "< What size?",
        "  1. Small",
        "  2. Medium",
        "  3. Large",
        "  Reply 1-3",
        "> 2",
        "< Medium it is.",
        "< Shop",
        "  https://maps.google.com/?q=51.5,-0.12",
        "--- whatsapp ---",
        "> pizza",
        "< Hello!",
        "< What size?",
        "  [ Small ]  [ Medium ]  [ Large ]",
        "> [tap] Large",
        "< Large it is.",
        "< [location] Shop (51.5, -0.12)",
    ]


CHIPS = [{"type": "reply", "text": "Small", "postback_data": "S"},
         {"type": "dial", "text": "Call the shop", "postback_data": "call",
          "phone_number": "447700900123"},
         {"type": "open_url", "text": "Menu", "postback_data": "menu", "url":
          "https://example.com/menu", "description": "Our menu"}]
CARD = {"title": "Margherita", "text": "9.50", "media_url": "https://example.com/m.jpg",
        "media_height": "MEDIUM", "suggestions": [
            {"type": "reply", "text": "Order", "postback_data": "order:margherita"}]}


def _record_taps(bot: Bot) -> list[tuple[str, str, str | None, str]]:
    """Each button event the bot gets: its webhook's type, payload, title and ``via``."""
    taps: list[tuple[str, str, str | None, str]] = []

    @bot.on_button()
    async def tapped(ctx: Context) -> None:
        assert ctx.event.button is not None
        button = ctx.event.button
        taps.append((ctx.event.raw["message_type"], button.payload, button.title, button.via))

    return taps


async def test_rcs_chips_are_tapped_with_the_webhooks_a_phone_sends(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()

    @bot.on_text()
    async def show(ctx: Context) -> None:
        envelope = {"to": ctx.event.sender, "from": ctx.event.recipient, "channel": "rcs"}
        await ctx.bot.client.send({**envelope, "message_type": "card", "card": CARD})
        await ctx.bot.client.send({**envelope, "message_type": "text", "text": "Size?",
                                   "suggestions": CHIPS})

    taps = _record_taps(bot)
    async with BotTestClient(bot) as client:
        card, chips = await client.send("hi", channel="rcs")
        await client.tap("Small", channel="rcs")  # a reply chip, by its label
        await client.tap("call", channel="rcs")  # an action chip, by its postback data
        await client.tap("Menu", channel="rcs")
        await client.tap("Order", channel="rcs")  # the card's chip, above the latest message
        await client.tap("Never shown", title="Gone", channel="rcs")  # a stale tap
        sent = [reply for reply in client.replies if reply.channel == "rcs"]
    assert [tap[:3] for tap in taps] == [
        ("reply", "S", "Small"), ("button", "call", "Call the shop"), ("button", "menu", "Menu"),
        ("reply", "order:margherita", "Order"), ("reply", "Never shown", "Gone")]
    assert sent == [card, chips]
    assert chips.seen == ("Size?\n[ Small ]\n[ Call the shop -> call 447700900123 ]\n"
                          "[ Menu -> https://example.com/menu ]")
    assert client.transcript.split("\n")[-5:] == [
        "> [tap] Small", "> [tap] Call the shop", "> [tap] Menu", "> [tap] Order",
        "> [tap] Gone"]


async def test_buttons_and_cards_on_rcs_are_chips_tapped_by_title_or_payload(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()
    long_title = "The large one, with extra cheese"  # > 25: the chip's label is shortened

    @bot.on_text(r"^size$")
    async def size(ctx: Context) -> None:
        await ctx.reply(Buttons("What size?", [Button("Small", "S"), Button(long_title, "L"),
                                               Button("Menu", url="https://example.com/m")]))

    @bot.on_text(r"^specials$")
    async def specials(ctx: Context) -> None:
        await ctx.reply(Carousel([
            Card(name, "9.50", Image(f"https://example.com/{name}.jpg"),
                 [Button("Order", f"order:{name}")]) for name in ("margherita", "diavola")]))

    taps = _record_taps(bot)
    async with BotTestClient(bot) as client:
        [menu] = await client.send("size", channel="rcs")
        await client.tap(long_title, channel="rcs")  # the full title, as the flow wrote it
        await client.tap("Menu", channel="rcs")  # a link: the open-URL chip's button event
        await client.send("small", channel="rcs")  # typed: the same handler, via text
        [carousel] = await client.send("specials", channel="rcs")
        second = carousel["carousel"]["cards"][1]["suggestions"][0]
        await client.tap_suggestion(second, channel="rcs")  # both cards say "Order"
    assert [c["type"] for c in menu["suggestions"]] == ["reply", "reply", "open_url"]
    assert menu["suggestions"][1]["text"] != long_title
    assert [(kind, payload, via) for kind, payload, _, via in taps] == [
        ("reply", "L", "native"), ("button", "https://example.com/m", "native"),
        ("text", "S", "text"), ("reply", "order:diavola", "native")]


async def test_send_image_and_share_contact(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    _pizza(bot)
    async with BotTestClient(bot) as client:
        [photo] = await client.send_image("https://example.com/a.jpg", caption="me",
                                          channel="messenger")
        [card] = await client.share_contact("Ann Lee", phones=["+447700900002"])
        [vcard] = await client.share_contact("Bo", url="https://example.com/bo.vcf",
                                             channel="mms")
        with pytest.raises(ValueError, match="SMS user cannot send an image"):
            await client.send_image("https://example.com/a.jpg", channel="sms")
        with pytest.raises(ValueError, match="viber_service user cannot share a contact"):
            await client.share_contact("Ann", phones=["1"], channel="viber_service")
        with pytest.raises(ValueError, match="url="):
            await client.share_contact("Ann", channel="mms")
    assert photo["text"] == "Got https://example.com/a.jpg (me)"
    assert card["text"] == "Contacts: ['Ann Lee']"
    assert vcard["text"] == "Contacts: [] https://example.com/bo.vcf"


def test_a_reaction_webhook_has_the_reference_shape() -> None:
    for name, emoji in (("reaction.json", "😀"), ("reaction-removed.json", "")):
        reference = json.loads((CURRENT / "inbound" / "whatsapp" / name).read_text())
        body = reaction_webhook(emoji, "bbbbbbbb-cccc-4ddd-8eee-0123456789ab",
                                user=reference["from"], bot=reference["to"], timestamp=0)
        assert set(body) == set(reference)
        for key in ("channel", "message_type", "context_status", "context", "reaction",
                    "from", "to"):
            assert body[key] == reference[key], key


async def test_react_reaches_on_reaction_and_the_transcript(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()
    _pizza(bot)
    seen: list[tuple[str, str]] = []

    @bot.on_reaction()
    async def reacted(ctx: Context) -> None:
        assert ctx.event.reaction is not None
        seen.append((ctx.event.reaction.emoji, ctx.event.reaction.to))
        await ctx.reply("Thanks!" if ctx.event.reaction.emoji else "Oh.")

    async with BotTestClient(bot) as client:
        hello, _menu = await client.send("pizza", channel="whatsapp")
        [thanks] = await client.react("👍", to=hello)
        [oh] = await client.react("", to=hello.message_uuid)
        with pytest.raises(ValueError, match="sms user cannot react"):
            await client.react("👍", to=hello.message_uuid, channel="sms")
    assert seen == [("👍", hello.message_uuid), ("", hello.message_uuid)]
    assert (thanks.seen, oh.seen) == ("Thanks!", "Oh.")
    assert "> [reaction] 👍" in client.transcript
    assert "> [reaction removed]" in client.transcript


async def test_delivered_and_read_reach_the_status_handlers(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()
    _pizza(bot)
    seen: list[tuple[str, str, str | None]] = []

    @bot.on_status("delivered", "read")
    async def tick(ctx: Context) -> None:
        assert ctx.status is not None
        seen.append((ctx.status.status, ctx.status.message_uuid, ctx.status.client_ref))

    async with BotTestClient(bot) as client:
        hello, menu = await client.send("pizza", channel="whatsapp")
        assert await client.delivered(hello) == []
        await client.read(hello)
        await client.read(hello)  # a redelivered status webhook is not handled twice
        await client.status(menu.message_uuid, "read", channel="whatsapp")  # the raw form
    ref = hello["client_ref"]
    assert seen == [("delivered", hello.message_uuid, ref), ("read", hello.message_uuid, ref),
                    ("read", menu.message_uuid, None)]


async def test_the_existing_raw_deliver_still_posts_any_webhook(
    make_bot: Callable[..., Bot],
) -> None:
    from botkit.testing import inbound_webhook

    bot = make_bot()
    _pizza(bot)
    async with BotTestClient(bot) as client:
        body = inbound_webhook("sms", "text", {"text": "pizza"}, timestamp=bot.clock.now())
        replies = await client.deliver(body)
    assert [r.seen for r in replies] == ["Hello!", SIZES_ON_SMS]


# Importing ``bot_client`` registers the fixture, as a conftest.py would; it uses ``bot``.
assert bot_client is not None


@pytest.fixture
def bot(make_bot: Callable[..., Bot]) -> Bot:
    made = make_bot()
    _pizza(made)
    return made


async def test_the_bot_client_fixture_runs_the_bot(bot_client: BotTestClient) -> None:
    hello, menu = await bot_client.send("pizza", channel="viber_service")
    assert bot_client.bot.is_running
    assert menu.seen.endswith("Reply 1-3") and hello.seen == "Hello!"


async def test_the_examples_in_docs_testing_md_run() -> None:
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "testing.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    first = next(b for b in blocks if "def test_order_on_sms_and_whatsapp" in b)
    status = next(b for b in blocks if "def test_read_receipts" in b)
    namespace: dict[str, object] = {}
    exec(compile(first, "docs/testing.md", "exec"), namespace)
    await namespace["test_order_on_sms_and_whatsapp"]()  # type: ignore[operator]
    exec(compile("from botkit import Context\n" + status, "docs/testing.md", "exec"), namespace)
    await namespace["test_read_receipts"]()  # type: ignore[operator]
