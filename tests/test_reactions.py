"""WhatsApp reactions in: ``kind="reaction"`` events for ``@bot.on_reaction()``, which a
flow never takes for an answer; and RCS chips: a tap and a typed answer reach the same
``@bot.on_button`` handler."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botkit import Bot, Button, Buttons, Context, ConversationKey, Router
from botkit.events import ReactionInfo
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, BotTestClient, inbound_webhook

from .reference import CURRENT

WHATSAPP_IN = CURRENT / "inbound" / "whatsapp"
RCS_IN = CURRENT / "inbound" / "rcs"


def _reaction(client: BotTestClient, emoji: str | None, to: str) -> dict[str, Any]:
    """The reference's reaction webhook (or its removal, for ``emoji=None``) on ``to``."""
    example = json.loads((WHATSAPP_IN / ("reaction-removed.json" if emoji is None
                                         else "reaction.json")).read_text())
    body = inbound_webhook("whatsapp", "reaction", {}, timestamp=client.bot.clock.now())
    body.update(context_status="available", context={"message_uuid": to,
                                                     "message_from": DEFAULT_BOT["whatsapp"]},
                reaction={**example["reaction"], **({} if emoji is None else {"emoji": emoji})})
    return body


async def test_reactions_and_their_removal_reach_on_reaction(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()
    liked: list[tuple[str, str, dict[str, Any] | None]] = []
    others: list[ReactionInfo] = []

    @bot.on_reaction("👍", "❤️")
    async def like(ctx: Context) -> None:
        assert ctx.message.reaction is not None
        liked.append((ctx.message.reaction.emoji, ctx.message.reaction.to, ctx.match))
        await ctx.reply("Glad you like it!")

    router = Router()

    @router.on_reaction(channel="whatsapp")
    async def any_other(ctx: Context) -> None:
        assert ctx.message.reaction is not None
        others.append(ctx.message.reaction)

    bot.include_router(router)

    @bot.on_message()
    async def fallback(ctx: Context) -> None:
        assert ctx.message.kind != "reaction", "on_reaction comes first"
        await ctx.reply("Hello")

    async with BotTestClient(bot) as client:
        [answer] = await client.send("hi", channel="whatsapp")
        uuid = answer.message_uuid
        assert await client.deliver(_reaction(client, "😀", uuid)) == []
        [thanks] = await client.deliver(_reaction(client, "👍", uuid))
        assert await client.deliver(_reaction(client, None, uuid)) == []
    assert thanks["text"] == "Glad you like it!"
    assert liked == [("👍", uuid, {"emoji": "👍", "to": uuid})]
    assert others == [ReactionInfo(emoji="😀", to=uuid), ReactionInfo(emoji="", to=uuid)]
    assert others[1].removed and not others[0].removed


SURVEY = """
flow: survey
start: rate
states:
  rate:
    ask: {slot: score, type: number, min: 1, max: 5, prompt: "Rate us 1-5",
          invalid: "1 to 5, please.", retries: 2, on_exhausted: done}
    next: done
  done:
    say: "Thanks: {{ score }}"
    final: true
"""

LIKES = """
flow: likes
start: wait
trigger: {kind: reaction}
states:
  wait:
    say: "A reaction!"
    final: true
"""


def _flow(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


async def test_a_reaction_is_no_answer_to_a_flow(
    make_bot: Callable[..., Bot], tmp_path: Path
) -> None:
    bot = make_bot()
    bot.add_flow(_flow(tmp_path, SURVEY, "survey"))
    seen: list[str] = []

    @bot.on_reaction()
    async def reacted(ctx: Context) -> None:
        assert ctx.message.reaction is not None
        seen.append(ctx.message.reaction.emoji)

    key = ConversationKey("whatsapp", DEFAULT_USER["whatsapp"], DEFAULT_BOT["whatsapp"])
    async with BotTestClient(bot) as client:
        # Outside any flow, a reaction does not start one (the survey has no trigger).
        assert await client.deliver(_reaction(client, "😀", "m-1")) == []
        assert (await bot.store.load(key)).flow is None
        [prompt] = await client.send("hello", channel="whatsapp")
        assert prompt["text"] == "Rate us 1-5"
        # While the flow asks: no "1 to 5, please", no retry used, the state unchanged.
        assert await client.deliver(_reaction(client, "👍", prompt.message_uuid)) == []
        conversation = await bot.store.load(key)
        assert (conversation.flow, conversation.state) == ("survey", "rate")
        [done] = await client.send("4", channel="whatsapp")
    assert done["text"] == "Thanks: 4"
    assert seen == ["😀", "👍"]


async def test_a_flow_rule_naming_reactions_takes_them(
    make_bot: Callable[..., Bot], tmp_path: Path
) -> None:
    bot = make_bot()
    bot.add_flow(_flow(tmp_path, LIKES, "likes"))
    async with BotTestClient(bot) as client:
        assert await client.send("hello", channel="whatsapp") == []
        [said] = await client.deliver(_reaction(client, "❤️", "m-1"))
    assert said["text"] == "A reaction!"


def _rcs_tap(client: BotTestClient, example: str, payload: str, label: str) -> dict[str, Any]:
    """The reference's RCS chip tap (``reply.json`` or ``button.json``) on this chip."""
    body = json.loads((RCS_IN / example).read_text())
    body.update({"message_uuid": f"tap-{payload}", "to": DEFAULT_BOT["rcs"],
                 "from": DEFAULT_USER["rcs"]})
    key = "reply" if "reply" in body else "button"
    body[key] = {"id": payload, "title": label} if key == "reply" else {
        "payload": payload, "text": label}
    return body


async def test_a_chip_tap_and_a_typed_answer_reach_the_same_button_handler(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()
    picked: list[tuple[str, str]] = []

    @bot.on_text("(?i)^size$")
    async def ask(ctx: Context) -> None:
        await ctx.reply(Buttons("What size?", [
            Button("Small", "S"), Button("Large", "L"),
            Button("Menu", url="https://example.com/menu")]))

    @bot.on_button("S", "L", "https://example.com/menu")
    async def size(ctx: Context) -> None:
        assert ctx.message.button is not None
        picked.append((ctx.message.button.payload, ctx.message.button.via))

    async with BotTestClient(bot) as client:
        [chips] = await client.send("size", channel="rcs")
        small, _large, menu = chips["suggestions"]
        assert (small["type"], menu["type"]) == ("reply", "open_url")
        await client.deliver(_rcs_tap(client, "reply.json", small["postback_data"],
                                      small["text"]))
        await client.send("size", channel="rcs")
        await client.send("large", channel="rcs")  # typed, not tapped
        await client.send("size", channel="rcs")
        await client.deliver(_rcs_tap(client, "button.json", menu["postback_data"],
                                      menu["text"]))
    assert picked == [("S", "native"), ("L", "text"), ("https://example.com/menu", "native")]
