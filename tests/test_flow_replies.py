"""A finished WhatsApp Flow comes in as ``kind="flow_reply"``: to ``@bot.on_flow_reply()``
(by ``flow_token``), to a YAML flow's rule ``{kind: flow_reply}``, and never as a button."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botkit import Bot, Context, FlowReply
from botkit.testing import BotTestClient, inbound_webhook

from .reference import CURRENT

EXAMPLE = CURRENT / "inbound" / "whatsapp" / "button-flow.json"


def flow_reply(client: BotTestClient, token: str, **fields: str) -> dict[str, Any]:
    """The reference's Flows reply (its ``button`` and ``context``), sent now."""
    example = json.loads(EXAMPLE.read_text())
    button = {**example["button"], "payload": {"flow_token": token, **fields}}
    return inbound_webhook("whatsapp", "button", {"button": button,
                                                  "context": example["context"]},
                           timestamp=client.bot.clock.now(), message_uuid=f"flow-{token}")


async def test_on_flow_reply_takes_the_flows_it_names_with_what_was_submitted(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()
    booked: list[tuple[str | None, dict[str, Any] | None]] = []
    others: list[FlowReply] = []

    @bot.on_flow_reply("booking")
    async def book(ctx: Context) -> None:
        assert ctx.message.flow_reply is not None
        booked.append((ctx.message.flow_reply.data["appointment_slot"], ctx.match))
        await ctx.reply(f"Booked for {ctx.message.flow_reply.data['appointment_slot']}.")

    @bot.on_flow_reply()
    async def any_other(ctx: Context) -> None:
        assert ctx.message.flow_reply is not None
        others.append(ctx.message.flow_reply)

    @bot.on_button()
    async def never(ctx: Context) -> None:
        raise AssertionError("a Flows reply is no button")

    async with BotTestClient(bot) as client:
        [said] = await client.deliver(flow_reply(client, "booking", appointment_slot="9am"))
        assert await client.deliver(flow_reply(client, "survey", stars="5")) == []
    assert said["text"] == "Booked for 9am."
    assert booked == [("9am", {"token": "booking",
                               "data": {"flow_token": "booking", "appointment_slot": "9am"}})]
    assert others == [FlowReply(token="survey", data={"flow_token": "survey", "stars": "5"})]


BOOKING = """
flow: booking
start: form
states:
  form:
    say: "Please fill in the booking form."
    on:
      - {kind: flow_reply, goto: booked}
  booked:
    say: "See you at {{ event.flow_reply.data.appointment_slot }}."
    final: true
"""


async def test_a_flow_rule_takes_a_flow_reply_and_templates_read_its_data(
    make_bot: Callable[..., Bot], tmp_path: Path
) -> None:
    (tmp_path / "booking.yaml").write_text(BOOKING)
    bot = make_bot()
    bot.add_flow(tmp_path / "booking.yaml")
    async with BotTestClient(bot) as client:
        [form] = await client.send("book", channel="whatsapp")
        assert form["text"] == "Please fill in the booking form."
        [done] = await client.deliver(flow_reply(client, "booking", appointment_slot="9am"))
    assert done["text"] == "See you at 9am."
