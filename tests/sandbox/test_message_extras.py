"""The sandbox's endpoints for reactions, quotes, read receipts, the typing indicator,
revoking and failover: the webhooks the page sends have the reference's shapes, and the
fake Messages API records the bot's PATCH calls and plays a failover chain through."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from botkit import (
    Bot,
    Button,
    Card,
    Carousel,
    Context,
    Image,
    MessagesApiError,
    Reaction,
    Template,
    TemplateButton,
)
from botkit.sandbox.deliveries import UNREACHABLE
from botkit.testing import DEFAULT_BOT, DEFAULT_USER

from ..reference import CURRENT
from .conftest import act, page, timeline

WHATSAPP_IN = CURRENT / "inbound" / "whatsapp"
STATUS = CURRENT / "status"


def _example(path: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _shape(value: Any) -> Any:
    """The keys of a JSON value, recursively (values left out)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return type(value).__name__


def _out(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["direction"] == "out"]


def _chatty(bot: Bot) -> list[Any]:
    """Handlers that react, quote and answer; returns the events they saw."""
    seen: list[Any] = []

    @bot.on_text(r"(?i)^thanks$")
    async def thanks(ctx: Context) -> None:
        await ctx.reply(Reaction("❤️"))
        await ctx.reply("Any time!", quote=True)

    @bot.on_text(r"(?i)^take it back$")
    async def back(ctx: Context) -> None:
        assert ctx.message.reply_to is not None
        await ctx.reply(Reaction("", to=ctx.message.reply_to))

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        seen.append(ctx.message)
        await ctx.reply(f"you said {ctx.message.text}")

    @bot.on_message()
    async def anything(ctx: Context) -> None:
        seen.append(ctx.event)

    return seen


async def test_the_bots_reaction_and_quote_name_the_users_message(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    _chatty(bot)
    async with page(bot) as http:
        thanks = await act(http, bot, channel="whatsapp", type="text", text="thanks")
        reaction, quoted = _out(await timeline(http))
        back = await act(http, bot, channel="whatsapp", type="text", text="take it back",
                         quote=thanks["message_uuid"])
        removed = _out(await timeline(http))[-1]
    assert thanks["message_uuid"] == thanks["body"]["message_uuid"]
    assert reaction["body"]["reaction"] == {"action": "react", "emoji": "❤️"}
    assert reaction["body"]["context"] == {"message_uuid": thanks["message_uuid"]}
    assert reaction["display"]["kind"] == "reaction" and reaction["view"] == "[reaction] ❤️"
    assert quoted["body"]["context"] == {"message_uuid": thanks["message_uuid"]}
    assert quoted["body"]["text"] == "Any time!"
    # The user quoted their own "thanks": the bot takes its reaction back from it.
    assert back["body"]["context"] == {"message_uuid": thanks["message_uuid"],
                                       "message_from": DEFAULT_USER["whatsapp"]}
    assert removed["body"]["reaction"] == {"action": "unreact"}
    assert removed["body"]["context"] == {"message_uuid": thanks["message_uuid"]}


async def test_a_users_reaction_is_the_reference_webhook_and_never_refused(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    seen = _chatty(bot)
    async with page(bot) as http:
        await act(http, bot, channel="whatsapp", type="text", text="hello")
        [answer] = _out(await timeline(http))
        react = await act(http, bot, channel="whatsapp", type="reaction",
                          to=answer["message_uuid"], emoji="😀")
        unreact = await act(http, bot, channel="whatsapp", type="reaction",
                            to=answer["message_uuid"])
        after = _out(await timeline(http))
    for sent, example in ((react, "reaction.json"), (unreact, "reaction-removed.json")):
        expected = _example(WHATSAPP_IN / example)
        assert _shape(sent["body"]) == _shape(expected)
        assert sent["body"]["reaction"] == expected["reaction"] | (
            {"emoji": "😀"} if "emoji" in expected["reaction"] else {})
        assert sent["body"]["context"] == {"message_uuid": answer["message_uuid"],
                                           "message_from": DEFAULT_BOT["whatsapp"]}
        assert sent["body"]["context_status"] == "available"
        # Whatever the bot makes of a reaction, the webhook is taken (200), never refused.
        assert sent["status"] == "accepted" and sent["answer"] == 200
    assert (react["view"], unreact["view"]) == ("[reaction] 😀", "[reaction removed]")
    assert after == [answer]  # a reaction is no text: the echo did not answer it
    # Both reached the bot's catch-all handler as the webhooks they are.
    reactions = [e for e in seen if e.kind != "text"]
    assert [e.raw["reaction"] for e in reactions] == [react["body"]["reaction"],
                                                      unreact["body"]["reaction"]]


async def test_the_user_quotes_a_bot_message_as_whatsapp_sends_it(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    seen = _chatty(bot)
    async with page(bot) as http:
        await act(http, bot, channel="whatsapp", type="text", text="hello")
        [answer] = _out(await timeline(http))
        photo = await act(http, bot, channel="whatsapp", type="image",
                          url="https://example.com/cat.jpg", quote=answer["message_uuid"])
        text = await act(http, bot, channel="whatsapp", type="text", text="this one",
                         quote=answer["message_uuid"])
    expected = _example(WHATSAPP_IN / "image-quoted.json")
    assert photo["body"]["context"].keys() == expected["context"].keys()
    assert photo["body"]["context"]["message_uuid"] == answer["message_uuid"]
    assert photo["body"]["context_status"] == expected["context_status"] == "available"
    assert text["body"]["context"]["message_from"] == DEFAULT_BOT["whatsapp"]
    [message] = [e for e in seen if getattr(e, "text", None) == "this one"][:1]
    assert message.reply_to == answer["message_uuid"]


async def test_a_template_quick_reply_tap_is_the_reference_button_webhook(
    sandbox_bot: Callable[..., Bot],
) -> None:
    # The page taps a rich template's quick reply as button{payload, text} quoting the
    # template's message, as the reference's (inferred) webhook shows it.
    bot = sandbox_bot()
    answers: list[tuple[str, str | None]] = []

    @bot.on_text()
    async def remind(ctx: Context) -> None:
        await ctx.reply(Template("dental_appointment", ["Alex"], "en",
                                 buttons=[TemplateButton.quick_reply("confirm")],
                                 fallback_text="{{1}}, see you tomorrow?"))

    @bot.on_button("confirm")
    async def confirmed(ctx: Context) -> None:
        assert ctx.message.button is not None
        answers.append((ctx.message.button.payload, ctx.message.reply_to))

    async with page(bot) as http:
        await act(http, bot, channel="whatsapp", type="text", text="hello")
        [template] = _out(await timeline(http))
        tap = await act(http, bot, channel="whatsapp", type="button", payload="confirm",
                        text="confirm", quote=template["message_uuid"])
    expected = _example(WHATSAPP_IN / "button-template-quick-reply.json")
    del expected["_self"]  # the regional URL of the message: the sandbox has no regions
    assert _shape(tap["body"]) == _shape(expected)
    assert tap["body"]["context"] == {"message_uuid": template["message_uuid"],
                                      "message_from": DEFAULT_BOT["whatsapp"]}
    assert template["display"]["content"]["type"] == "template"
    assert answers == [("confirm", template["message_uuid"])]


async def test_a_message_of_another_conversation_cannot_be_quoted(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    _chatty(bot)
    async with page(bot) as http:
        await act(http, bot, channel="rcs", type="text", text="hello")
        [on_rcs] = _out(await timeline(http))
        response = await http.post("/sandbox/send", json={
            "channel": "whatsapp", "type": "reaction", "to": on_rcs["message_uuid"],
            "emoji": "👍"})
    assert response.status_code == 422
    assert "no message" in response.json()["detail"]


# --- the bot's PATCH calls --------------------------------------------------------------------

async def test_read_and_typing_show_on_the_users_message_until_the_bots_reply(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    states: list[tuple[bool, bool]] = []

    @bot.on_text()
    async def answer(ctx: Context) -> None:
        indicator = {"show": True, "type": "text"}
        await ctx.bot.client.update(ctx.message.message_uuid,
                                    {"status": "read", "replying_indicator": indicator})
        assert bot.sandbox is not None
        mine = bot.sandbox.find(ctx.message.message_uuid)
        assert mine is not None
        states.append((mine.read, mine.typing))
        await ctx.reply("Let me see.")

    async with page(bot) as http:
        await act(http, bot, channel="whatsapp", type="text", text="hello")
        asked, reply = await timeline(http)
    assert states == [(True, True)]  # while the turn ran: read, and "typing…"
    assert asked["read"] is True and asked["typing"] is False  # the reply ended it
    assert asked["updates"] == [{"body": {"status": "read", "replying_indicator": {
        "show": True, "type": "text"}}, "answer": 202}]
    assert reply["read"] is False and reply["updates"] == []


async def test_the_typing_indicator_runs_out(sandbox_bot: Callable[..., Bot]) -> None:
    bot = sandbox_bot()
    assert bot.sandbox is not None
    bot.sandbox.typing_seconds = 0.2

    @bot.on_text()
    async def think(ctx: Context) -> None:
        await ctx.bot.client.update(ctx.message.message_uuid, {
            "status": "read", "replying_indicator": {"show": True, "type": "text"}})

    async with page(bot) as http:
        await act(http, bot, channel="whatsapp", type="text", text="hello")
        [typing] = await timeline(http)
        await asyncio.sleep(0.5)
        [after] = await timeline(http)
    assert typing["typing"] is True and typing["read"] is True
    assert after["typing"] is False and after["rev"] > typing["rev"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"status": "seen"}, "status: must be read or revoked"),
        ({"status": "read", "replying_indicator": {"show": "yes", "type": "text"}},
         "replying_indicator"),
        ({"status": "revoked", "replying_indicator": {"show": True, "type": "text"}},
         "only with status read"),
        ({"status": "read", "colour": "blue"}, "colour: not a field"),
    ],
)
async def test_an_update_vonage_would_refuse_is_refused(
    sandbox_bot: Callable[..., Bot], body: dict[str, Any], reason: str
) -> None:
    bot = sandbox_bot()
    refused: list[MessagesApiError] = []

    @bot.on_text()
    async def mark(ctx: Context) -> None:
        try:
            await ctx.bot.client.update(ctx.message.message_uuid, body)
        except MessagesApiError as exc:
            refused.append(exc)

    async with page(bot) as http:
        await act(http, bot, channel="whatsapp", type="text", text="hello")
        [asked] = await timeline(http)
    [error] = refused
    assert error.status_code == 422 and reason in str(error)
    assert asked["read"] is False and asked["updates"] == []


async def test_updates_name_a_message_of_the_right_side(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    refused: list[MessagesApiError] = []

    @bot.on_text()
    async def wrong(ctx: Context) -> None:
        for uuid, body in ((ctx.message.message_uuid, {"status": "revoked"}),
                           ("0000-unknown", {"status": "read"})):
            try:
                await ctx.bot.client.update(uuid, body)
            except MessagesApiError as exc:
                refused.append(exc)
        [sent] = await ctx.bot.send("whatsapp", ctx.message.sender, "hi",
                                    sender=ctx.message.recipient)
        try:
            await ctx.bot.client.update(sent, {"status": "read"})
        except MessagesApiError as exc:
            refused.append(exc)

    async with page(bot) as http:
        await act(http, bot, channel="whatsapp", type="text", text="hello")
    assert [e.status_code for e in refused] == [422, 404, 422]
    assert "only the bot's own message can be revoked" in str(refused[0])
    assert "only a user's message can be marked read" in str(refused[2])


async def test_a_revoked_message_is_marked_and_gets_no_more_ticks(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    assert bot.sandbox is not None
    bot.sandbox.tick_delays = (0.3, 0.3)  # the revoke comes before the delivery

    @bot.on_text()
    async def offer(ctx: Context) -> None:
        [uuid] = await ctx.bot.send("rcs", ctx.message.sender, "Sale ends at 6",
                                    sender=ctx.message.recipient)
        await ctx.bot.revoke(uuid)  # no credentials: the sandbox takes it on any host

    async with page(bot) as http:
        await act(http, bot, channel="rcs", type="text", text="sale?")
        [offer_entry] = _out(await timeline(http))
    assert offer_entry["revoked"] is True
    assert offer_entry["updates"] == [{"body": {"status": "revoked"}, "answer": 202}]
    assert offer_entry["statuses"] == [] and offer_entry["status"] == "submitted"


# --- failover ------------------------------------------------------------------------------------

MENU = Carousel([
    Card("Margherita", "9.50", Image("https://example.com/m.jpg"), [Button("Order", "m")]),
    Card("Diavola", "11.00", Image("https://example.com/d.jpg"), [Button("Order", "d")]),
], failover=["sms"])


def _pizzeria(bot: Bot) -> list[Any]:
    statuses: list[Any] = []

    @bot.on_text(r"(?i)^menu$")
    async def menu(ctx: Context) -> None:
        await ctx.reply(MENU)

    @bot.on_button("m", "d")
    async def ordered(ctx: Context) -> None:
        assert ctx.message.button is not None
        await ctx.reply(f"{ctx.message.button.title} ordered via {ctx.message.button.via} "
                        f"on {ctx.key.channel}")

    @bot.on_status()
    async def status(ctx: Context) -> None:
        statuses.append(ctx.status)

    return statuses


async def test_a_rejected_message_fails_over_to_its_sms_step_which_is_answered(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    statuses = _pizzeria(bot)
    async with page(bot) as http:
        toggled = await http.post("/sandbox/delivery", json={"channel": "rcs", "fails": True})
        config = (await http.get("/sandbox/config")).json()
        await act(http, bot, channel="rcs", type="text", text="menu")
        primary, step = _out(await timeline(http))
        answer = await act(http, bot, channel="sms", type="text", text="2")
        reply = _out(await timeline(http))[-1]
    assert toggled.json() == {"channel": "rcs", "fails": True}
    fails = {c["id"]: c["fails"] for c in config["channels"]}
    assert fails["rcs"] is True and fails["sms"] is False
    # The RCS carousel was rejected as the reference shows it, naming the workflow's step 1.
    assert primary["status"] == "rejected" and primary["statuses"] == ["rejected"]
    assert primary["error"]["title"] == UNREACHABLE["title"] == "1300"
    workflow = primary["workflow"]
    assert workflow["items_number"] == "1" and workflow["items_total"] == "2"
    assert [s["channel"] for s in primary["failover"]] == ["sms"]
    assert "1. Margherita" in primary["failover"][0]["view"]
    # Its SMS step went to the SMS pane: the user, from the sandbox's SMS number.
    assert step["channel"] == "sms" and step["step_of"] == primary["id"]
    assert (step["user"], step["bot"]) == (DEFAULT_USER["sms"], DEFAULT_BOT["sms"])
    assert step["body"] == primary["body"]["failover"][0]
    assert step["message_uuid"] == primary["message_uuid"]
    assert step["workflow"] == {**workflow, "items_number": "2"}
    assert step["status"] == "delivered" and step["statuses"] == ["delivered"]
    assert any("numbered text menu" in d for d in step["decisions"])
    # The status webhooks have the reference's shapes.
    rejected, delivered = [s.raw for s in statuses[:2]]  # then the answer's own
    step1 = _example(STATUS / "rcs-rejected-failover-step1.json")
    assert _shape(rejected) == _shape(step1) | {"client_ref": "str"}
    assert rejected["workflow"] == workflow
    step2 = _example(STATUS / "sms-delivered-failover-step2.json")
    assert _shape(delivered)["workflow"] == _shape(step2["workflow"])
    assert (delivered["channel"], delivered["status"], delivered["workflow"]["items_number"]) \
        == ("sms", "delivered", "2")
    assert delivered["message_uuid"] == rejected["message_uuid"]
    # Typed "2" on SMS answers the SMS step's menu.
    assert answer["status"] == "accepted"
    assert reply["channel"] == "sms" and reply["body"]["text"] == "Diavola ordered via text on sms"


async def test_a_delivered_message_never_fails_over(sandbox_bot: Callable[..., Bot]) -> None:
    bot = sandbox_bot()
    statuses = _pizzeria(bot)
    async with page(bot) as http:
        await act(http, bot, channel="rcs", type="text", text="menu")
        [primary] = _out(await timeline(http))
        toggled = await http.post("/sandbox/delivery", json={"channel": "rcs", "fails": False})
    assert toggled.status_code == 200
    assert primary["status"] == "read" and primary["workflow"]["items_number"] == "1"
    assert [(s.status, s.raw["workflow"]["items_number"]) for s in statuses] == [
        ("delivered", "1"), ("read", "1")]


async def test_every_step_rejected_reports_each_and_stops(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()

    @bot.on_text()
    async def hello(ctx: Context) -> None:
        await ctx.reply("Table ready", failover=["sms"])

    async with page(bot) as http:
        for channel in ("whatsapp", "sms"):
            await http.post("/sandbox/delivery", json={"channel": channel, "fails": True})
        await act(http, bot, channel="whatsapp", type="text", text="hi")
        primary, step = _out(await timeline(http))
    assert (primary["status"], step["status"]) == ("rejected", "rejected")
    assert step["workflow"]["items_number"] == "2" and step["error"]["title"] == "1300"


async def test_a_failover_body_is_answered_with_a_workflow_id(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    assert bot.sandbox is not None
    body = _example(CURRENT / "outbound" / "rcs" / "text-failover-to-sms.json")
    answer = bot.sandbox.handle(httpx.Request("POST", "https://api.nexmo.com/v1/messages",
                                              json=body))
    plain = bot.sandbox.handle(httpx.Request("POST", "https://api.nexmo.com/v1/messages",
                                             json={k: v for k, v in body.items()
                                                   if k != "failover"}))
    await bot.sandbox.stop_ticks()  # the bot is not running: no status webhooks to wait for
    assert answer.status_code == 202 and set(answer.json()) == {"message_uuid", "workflow_id"}
    assert set(plain.json()) == {"message_uuid"}


@pytest.mark.parametrize("action", [{"channel": "fax", "fails": True},
                                    {"channel": "sms", "fails": "maybe"}, {"channel": "sms"}])
async def test_a_bad_delivery_choice_is_refused(
    sandbox_bot: Callable[..., Bot], action: dict[str, Any]
) -> None:
    bot = sandbox_bot()
    async with page(bot) as http:
        response = await http.post("/sandbox/delivery", json=action)
        foreign = await http.post("/sandbox/delivery", json={"channel": "sms", "fails": True},
                                  headers={"origin": "https://evil.example"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert foreign.status_code == 403
    assert bot.sandbox is not None and bot.sandbox.failing == set()
