"""The flow stack: a flow started while another runs (``call:`` on a state or a rule),
each flow with its own data, the caller resuming, going on at ``then``, or ending."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from botkit import Bot, ConversationKey, FlowError
from botkit.flows import load_flows
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, BotTestClient

from .test_runtime import CHILD, PARENT, texts

SMS = ConversationKey("sms", DEFAULT_USER["sms"], DEFAULT_BOT["sms"])

ORDER = """
flow: order
start: size
global:
  - {text: "(?i)^help$", say: "Pausing your order.",
     call: {flow: helpdesk, resume: true, data: {about: "order of {{ size or 'no size yet' }}"}}}
  - {text: "(?i)^survey$", call: {flow: survey, end: true}}
states:
  size:
    ask: {slot: size, type: text, prompt: "Size?"}
    next: count
  count:
    ask: {slot: count, type: number, prompt: "How many {{ size }}?"}
    next: done
  done:
    say: "{{ count }} x {{ size }}."
    final: true
"""
HELPDESK = """
flow: helpdesk
start: topic
trigger: {text: "^never$"}
states:
  topic:
    say: "Help with your {{ about }}. Size is {{ size or 'not mine to know' }}."
    ask: {slot: size, type: text, prompt: "Your question?"}
    next: bye
  bye:
    say: "Noted: {{ size }}."
    final: true
"""
SURVEY = """
flow: survey
start: rate
trigger: {text: "^never$"}
states:
  rate:
    ask: {slot: stars, type: number, prompt: "Rate us 1-5 ({{ size or 'fresh' }})."}
    next: thanks
  thanks:
    say: "Thanks for {{ stars }}."
    final: true
"""


async def test_a_called_flow_has_its_own_data_and_the_caller_resumes_with_its_own(
    flow_bot: Callable[..., Bot],
) -> None:
    bot = flow_bot(ORDER, HELPDESK, SURVEY)
    async with BotTestClient(bot) as client:
        assert texts(await client.send("hi")) == ["Size?"]
        assert texts(await client.send("large")) == ["How many large?"]
        assert texts(await client.send("help")) == [
            "Pausing your order.",
            "Help with your order of large. Size is not mine to know.",  # its own data only
            "Your question?",
        ]
        conversation = await bot.store.load(SMS)
        assert (conversation.flow, conversation.state) == ("helpdesk", "topic")
        assert conversation.data == {"about": "order of large"}
        [frame] = conversation.meta["flow_stack"]
        assert (frame["flow"], frame["then"], frame["data"]) == ("order", "count",
                                                                 {"size": "large"})
        # The helpdesk's slot has the caller's name, and still does not touch it.
        assert texts(await client.send("tiny")) == ["Noted: tiny.", "How many large?"]
        conversation = await bot.store.load(SMS)
        assert (conversation.flow, conversation.state) == ("order", "count")
        assert conversation.data == {"size": "large"}  # the helpdesk's data is gone
        assert "flow_stack" not in conversation.meta
        assert texts(await client.send("2")) == ["2 x large."]


async def test_a_call_with_end_ends_the_caller_and_its_data(
    flow_bot: Callable[..., Bot],
) -> None:
    bot = flow_bot(ORDER, HELPDESK, SURVEY)
    async with BotTestClient(bot) as client:
        await client.send("hi")
        await client.send("large")
        assert texts(await client.send("survey")) == ["Rate us 1-5 (fresh)."]
        conversation = await bot.store.load(SMS)
        assert (conversation.flow, conversation.data) == ("survey", {})
        assert "flow_stack" not in conversation.meta
        assert texts(await client.send("5")) == ["Thanks for 5."]  # and nothing of order
        conversation = await bot.store.load(SMS)
        assert conversation.flow is None and conversation.data == {"stars": 5}


MENU = """
flow: menu
start: pick
states:
  pick:
    say: "Menu."
    on:
      - {text: "(?i)^order$", set: {who: regular}, call: {flow: order, state: count,
         then: again, data: {size: "{{ who }} size"}}}
  again:
    say: "Back in the menu (who: {{ who }})."
    final: true
"""


async def test_a_rule_calls_a_flow_at_a_state_and_a_call_inside_it_ends_in_its_place(
    flow_bot: Callable[..., Bot],
) -> None:
    bot = flow_bot(MENU, ORDER, HELPDESK, SURVEY)
    async with BotTestClient(bot) as client:
        await client.send("hi")
        assert texts(await client.send("order")) == ["How many regular size?"]
        # order ends in favour of the survey: when that ends, the menu goes on
        assert texts(await client.send("survey")) == ["Rate us 1-5 (fresh)."]
        assert [f["flow"] for f in (await bot.store.load(SMS)).meta["flow_stack"]] == ["menu"]
        assert texts(await client.send("4")) == [
            "Thanks for 4.", "Back in the menu (who: regular)."]
        conversation = await bot.store.load(SMS)
        assert conversation.flow is None and conversation.data == {"who": "regular"}


async def test_a_frame_stored_before_frames_had_data_returns_as_it_did(
    flow_bot: Callable[..., Bot],
) -> None:
    bot = flow_bot(PARENT, CHILD)
    async with BotTestClient(bot) as client:
        await client.send("hi")
        conversation = await bot.store.load(SMS)
        # as an older botkit stored a running call: no then, no data (the data was shared)
        conversation.flow, conversation.state = "child", "ask"
        conversation.meta["flow_stack"] = [{"flow": "parent", "state": "helpdesk"}]
        conversation.data = {"note": "shared"}
        await bot.store.complete_turn(None, conversation, [], now=bot.clock.now())
        assert texts(await client.send("done")) == ["Child done.", "Back in the menu."]
        conversation = await bot.store.load(SMS)
        assert conversation.data == {"note": "shared"} and "flow_stack" not in conversation.meta


async def test_bot_start_flow_ends_the_flows_of_the_stack(flow_bot: Callable[..., Bot]) -> None:
    bot = flow_bot(ORDER, HELPDESK, SURVEY)
    async with BotTestClient(bot) as client:
        await client.send("hi")
        await client.send("large")
        await client.send("help")  # the helpdesk runs on top of the order
        await bot.start_flow("sms", SMS.user, "survey", data={"via": "crm"}, sender=SMS.bot)
        assert texts(await client.advance(0)) == ["Rate us 1-5 (large)."]
        conversation = await bot.store.load(SMS)
        assert "flow_stack" not in conversation.meta
        # the helpdesk's data went with it; the bottom flow's stays, as without calls
        assert conversation.data == {"size": "large", "via": "crm"}


@pytest.mark.parametrize(("rule", "message"), [
    ("{text: x, call: {flow: helpdsk, then: a}}",
     "7:32: flow: unknown flow 'helpdsk': did you mean 'helpdesk'?"),
    ("{text: x, call: {flow: helpdesk, then: b}}", "7:48: then: unknown state 'b'"),
    ("{text: x, goto: a, call: {flow: helpdesk, end: true}}",
     "7:19: goto cannot be used with call"),
    ("{text: x, call: {flow: helpdesk, then: a, end: true}}",
     "7:51: 'end' cannot be used with then"),
    ("{text: x, call: {flow: helpdesk}}", "7:25: call needs then"),
    ("{text: x, call: {flow: helpdesk, state: topik, then: a}}",
     "7:49: call: state: unknown state 'topik': did you mean 'topic'? (states: topic, bye) "
     "in flow 'helpdesk'"),
])
def test_calls_in_rules_are_checked_with_their_positions(
    tmp_path: Path, rule: str, message: str
) -> None:
    (tmp_path / "helpdesk.yaml").write_text(HELPDESK)
    (tmp_path / "main.yaml").write_text(
        f"flow: main\nstart: a\nstates:\n  a:\n    say: hi\n    on:\n      - {rule}\n")
    with pytest.raises(FlowError) as caught:
        load_flows(tmp_path)
    shown = [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]
    assert any(line.startswith(message) for line in shown), shown
    assert all(str(p.path).endswith("main.yaml") for p in caught.value.problems)


def test_a_called_state_must_be_a_state_of_the_called_flow(tmp_path: Path) -> None:
    (tmp_path / "helpdesk.yaml").write_text(HELPDESK)
    (tmp_path / "main.yaml").write_text(
        "flow: main\nstart: a\nglobal:\n  - {text: help, call: {flow: helpdesk, state: by, "
        "resume: true}}\nstates:\n  a:\n    call: {flow: helpdesk, state: nowhere, then: a}\n"
        "  b:\n    call: {flow: helpdesk, state: bye, then: a}\n")
    with pytest.raises(FlowError) as caught:
        load_flows(tmp_path)
    assert [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems] == [
        "4:48: call: state: unknown state 'by': did you mean 'bye'? (states: topic, bye) in "
        "flow 'helpdesk'",
        "7:35: call: state: unknown state 'nowhere' (states: topic, bye) in flow 'helpdesk'",
    ]


def test_a_states_call_cannot_resume(tmp_path: Path) -> None:
    (tmp_path / "helpdesk.yaml").write_text(HELPDESK)
    (tmp_path / "main.yaml").write_text(
        "flow: main\nstart: a\nstates:\n  a:\n    call: {flow: helpdesk, resume: true}\n")
    with pytest.raises(FlowError, match=r"main.yaml:5:28: a state's call cannot resume"):
        load_flows(tmp_path)
