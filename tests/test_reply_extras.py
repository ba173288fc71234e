"""Reactions, quotes, stickers, media groups, rich templates and per-message options,
through real turns where a handler is involved, and rendered on every channel."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from botkit import Bot, Context, ErrorContext
from botkit.options import MessageOptions, OptionsError
from botkit.render import render
from botkit.replies import (
    File,
    Image,
    MediaGroup,
    Reaction,
    Sticker,
    Template,
    TemplateButton,
    TemplateParameter,
    Text,
    replies_from_data,
)
from botkit.testing import BotTestClient


async def test_a_reaction_and_a_quote_point_at_the_message_being_handled(
        make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()

    @bot.on_text()
    async def react(ctx: Context) -> None:
        await ctx.reply(Reaction("\U0001f44d"))
        await ctx.reply("Got it.", quote=True)

    async with BotTestClient(bot) as client:
        webhook = client._inbound("whatsapp", "text", {"text": "hi"}, None)
        reaction, text = await client.deliver(webhook)
        uuid = webhook["message_uuid"]
    assert reaction["reaction"] == {"action": "react", "emoji": "\U0001f44d"}
    assert reaction["context"] == {"message_uuid": uuid}
    assert text["context"] == {"message_uuid": uuid} and text["text"] == "Got it."


async def test_on_sms_a_reaction_is_not_sent_and_a_quote_is_plain(
        make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()

    @bot.on_text()
    async def react(ctx: Context) -> None:
        await ctx.reply(Reaction("\U0001f44d"), Text("Got it."))
        await ctx.reply("Quoted.", quote=True)

    async with BotTestClient(bot) as client:
        sent = await client.send("hi", channel="sms")
    assert [s["text"] for s in sent] == ["Got it.", "Quoted."]  # no reaction body
    assert "context" not in sent[1]
    assert "quote: SMS has no quoted replies -> sent without quoting" in (
        sent[1].decisions or [])
    assert render(Reaction("x", to="u"), "sms").decisions == [
        "reaction: SMS has no reactions -> not sent"]


async def test_quote_outside_an_inbound_message_is_an_error_in_the_handler(
        make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    errors: list[BaseException] = []

    @bot.on_status("delivered")
    async def quote_a_status(ctx: Context) -> None:
        await ctx.reply("hm", quote=True)

    @bot.on_text()
    async def hello(ctx: Context) -> None:
        await ctx.reply("hello")

    @bot.on_error(ValueError)
    async def failed(ctx: ErrorContext) -> None:
        errors.append(ctx.error)

    async with BotTestClient(bot) as client:
        [sent] = await client.send("hi", channel="whatsapp")
        await client.delivered(sent)
    assert len(errors) == 1 and "quotes a user's message" in str(errors[0])


async def test_options_a_channel_refuses_raise_in_the_handler_and_nothing_is_sent(
        make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    errors: list[BaseException] = []

    @bot.on_text()
    async def handler(ctx: Context) -> None:
        await ctx.reply("first")
        await ctx.reply("too short", options=MessageOptions(ttl=10))  # RCS takes 20-259200

    @bot.on_error(OptionsError)
    async def failed(ctx: ErrorContext) -> None:
        errors.append(ctx.error)

    async with BotTestClient(bot) as client:
        sent = await client.send("hi", channel="rcs")
    assert sent == []  # the handler failed: none of its replies go out
    assert [str(e) for e in errors] == ["ttl: 10 is below RCS's minimum of 20"]


async def test_an_option_the_channel_has_no_field_for_is_left_out_with_a_decision(
        make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()

    @bot.on_text()
    async def handler(ctx: Context) -> None:
        await ctx.reply("Sale!", options={"ttl": 600, "client_ref": "promo-7"})

    async with BotTestClient(bot) as client:
        [sms] = await client.send("hi", channel="sms")
        [whatsapp] = await client.send("hi", channel="whatsapp")
    assert sms["ttl"] == 600 and sms["client_ref"] == "promo-7"
    assert "ttl" not in whatsapp and whatsapp["client_ref"] == "promo-7"
    assert "options ttl: WhatsApp has no such field -> left out" in (whatsapp.decisions or [])


@pytest.mark.parametrize(("channel", "options", "problem"), [
    ("sms", {"ttl": 604801}, "ttl: 604801 is above SMS's maximum of 604800"),
    ("mms", {"ttl": 200}, "ttl: 200 is below MMS's minimum of 300"),
    ("viber_service", {"ttl": 10}, "ttl: 10 is below Viber's minimum of 30"),
    ("viber_service", {"category": "update"},
     "category: Viber takes 'transaction', 'promotion', not 'update'"),
    ("messenger", {"category": "message_tag"},
     "category: 'message_tag' on Messenger needs tag as well"),
    ("rcs", {"category": "marketing"}, "category: RCS takes 'acknowledgement', "
                                       "'authentication', 'promotion', 'service-request', "
                                       "'transaction', not 'marketing'"),
])
def test_option_values_are_checked_against_the_channel(
        channel: str, options: dict[str, object], problem: str) -> None:
    with pytest.raises(OptionsError) as raised:
        render(Text("hi", options=options), channel)
    assert str(raised.value) == problem


def test_v01_takes_a_client_ref_of_40_and_its_channel_options() -> None:
    with pytest.raises(OptionsError, match="at most 40 characters"):
        render(Text("hi", options={"client_ref": "x" * 41}), "sms", "v0.1")
    out = render(Text("hi", options={"category": "promotion", "ttl": 60}), "viber_service",
                 "v0.1")
    assert out.bodies[0]["message"]["viber_service_msg"] == {"category": "promotion",
                                                              "ttl": 60}


def test_a_sticker_is_an_image_elsewhere_and_an_id_sticker_is_left_out() -> None:
    assert render(Sticker("https://example.com/s.webp"), "viber_service").bodies == [
        {"message_type": "image", "image": {"url": "https://example.com/s.webp"}}]
    out = render(Sticker(id="abc"), "messenger")
    assert out.bodies == []
    assert out.decisions == ["sticker 'abc': Messenger has no stickers, and a sticker id has "
                             "no picture to send instead -> not sent"]
    with pytest.raises(ValueError, match="exactly one of url or id"):
        Sticker("https://example.com/s.webp", id="abc")


def test_a_media_group_is_one_mms_message_and_one_message_per_item_elsewhere() -> None:
    group = MediaGroup([Image("https://example.com/a.jpg", "Front"),
                        File("https://example.com/b.pdf")])
    [mms] = render(group, "mms").bodies
    assert mms == {"message_type": "content", "content": [
        {"type": "image", "url": "https://example.com/a.jpg", "caption": "Front"},
        {"type": "file", "url": "https://example.com/b.pdf"}]}
    whatsapp = render(group, "whatsapp")
    assert [b["message_type"] for b in whatsapp.bodies] == ["image", "file"]
    assert whatsapp.decisions[0] == ("media group: WhatsApp has no multi-attachment messages "
                                     "-> one message per item")
    # MMS v0.1 has no content message: one message per item there too.
    assert len(render(group, "mms", "v0.1").bodies) >= 2


def test_a_rich_template_is_its_fallback_text_elsewhere_with_named_values() -> None:
    template = Template("dental_appointment",
                        [TemplateParameter.text_value("Joe", name="customer_name"),
                         TemplateParameter.currency(12.5, "EUR", "€12.50", name="price")],
                        "en", buttons=[TemplateButton.quick_reply("yes")],
                        fallback_text="Hi {{customer_name}}, that is {{price}}.")
    sms = render(template, "sms")
    assert sms.bodies == [{"message_type": "text", "text": "Hi Joe, that is €12.50."}]
    body = render(template, "whatsapp").bodies[0]["custom"]["template"]["components"][0]
    assert body["parameters"][1] == {"type": "currency", "parameter_name": "price",
                                     "currency": {"fallback_value": "€12.50", "code": "EUR",
                                                  "amount_1000": 12500}}
    # v0.1 WhatsApp sends plain templates only: a rich one falls back, saying why.
    v01 = render(template, "whatsapp", "v0.1")
    assert v01.bodies[0]["message"]["content"]["text"] == "Hi Joe, that is €12.50."
    assert "plain templates" in v01.decisions[0]


def test_templates_refuse_what_cannot_be_sent() -> None:
    with pytest.raises(ValueError, match="takes no other parameters"):
        Template("code", ["x"], otp="123456", fallback_text="Code 123456")
    with pytest.raises(ValueError, match="name every template parameter, or none"):
        Template("t", ["a", TemplateParameter.text_value("b", name="b")], fallback_text="x")
    with pytest.raises(ValueError, match="no parameter is named 'who'"):
        Template("t", [TemplateParameter.text_value("b", name="b")], fallback_text="{{who}}")


def test_the_new_replies_can_be_written_as_data() -> None:
    [sticker, group, template, text] = replies_from_data([
        {"sticker": "https://example.com/s.webp"},
        {"media_group": [{"image": "https://example.com/a.jpg"},
                         {"file": {"url": "https://example.com/b.pdf", "caption": "B"}}]},
        {"template": {"name": "order_update", "parameters": ["Joe"], "locale": "en",
                      "header": {"image": "https://example.com/box.jpg"},
                      "buttons": [{"url": "AB1"}], "fallback_text": "Hi {{1}}"}},
        {"text": "Sale", "options": {"ttl": 600}, "failover": ["sms"]},
    ])
    assert isinstance(sticker, Sticker) and sticker.url == "https://example.com/s.webp"
    assert isinstance(group, MediaGroup) and group.items[1].caption == "B"
    assert isinstance(template, Template) and template.is_rich
    assert template.buttons == (TemplateButton.url("AB1"),)
    assert isinstance(text, Text) and text.failover == ("sms",)
    assert text.options == MessageOptions(ttl=600)
    with pytest.raises(ValueError, match=r"template: buttons\[0\]: expected"):
        replies_from_data({"template": {"name": "a", "fallback_text": "b",
                                        "buttons": [{"call": "x"}]}})
