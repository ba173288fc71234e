"""What flow templates show: a shared location as words, the user's name after a timeout."""

from __future__ import annotations

from collections.abc import Callable

from botkit import Bot
from botkit.flows.templating import SharedLocation, render_text, template_vars
from botkit.testing import BotTestClient

WHERE = """
flow: deliver
start: where
states:
  where:
    ask: {slot: address, accept: [text, location], prompt: "Where?"}
    next: confirm
  confirm:
    say: "Delivering to {{ address }} ({{ address.latitude }})."
    final: true
"""


async def test_a_shared_location_renders_as_an_address(flow_bot: Callable[..., Bot]) -> None:
    bot = flow_bot(WHERE)
    async with BotTestClient(bot) as client:
        await client.send("hi", channel="whatsapp")
        [said] = await client.share_location(51.5072, -0.1276, name="Home",
                                             address="1 Main St, London")
        await client.send("hi", channel="whatsapp")
        [bare] = await client.share_location(51.50722, -0.12766)
    assert said["text"] == "Delivering to Home, 1 Main St, London (51.5072)."
    assert bare["text"] == "Delivering to 51.50722, -0.12766 (51.50722)."


def test_a_location_shows_its_name_with_coordinates_and_stays_a_mapping() -> None:
    variables = template_vars(None, {"spot": {"latitude": 1.5, "longitude": 2.0,
                                              "name": "Park"}, "n": 2}, "s")
    assert render_text("{{ spot }} / {{ data.spot }} / {{ n }}", variables) == (
        "Park (1.5, 2) / Park (1.5, 2) / 2")
    assert isinstance(variables["spot"], SharedLocation) and variables["spot"]["name"] == "Park"
    # Not every dict is a location.
    assert render_text("{{ x }}", template_vars(None, {"x": {"latitude": 1}}, None)) == (
        "{'latitude': 1}")


NUDGE = """
flow: nudge
start: waiting
states:
  waiting:
    say: "Hi {{ event.profile_name or 'there' }}! Reply yes."
    on:
      - {text: "(?i)^yes$", goto: done}
    timeout: {after: 10m, goto: waiting}
  done:
    say: "Thanks."
    final: true
"""


async def test_a_timeout_greets_the_user_by_name_again(flow_bot: Callable[..., Bot]) -> None:
    bot = flow_bot(NUDGE)
    async with BotTestClient(bot) as client:
        [first] = await client.send("hello", channel="whatsapp")
        [again] = await client.advance(600)
    assert first["text"] == "Hi Test User! Reply yes."
    assert again["text"] == "Hi Test User! Reply yes."
