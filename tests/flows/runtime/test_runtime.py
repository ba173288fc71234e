"""Flows running in a bot: entering, rules, asks, interrupts, timeouts, sub-flows, handoff."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from botkit import Bot, ConfigError, Context, ConversationKey, FakeClock, FlowError
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, BotTestClient, inbound_webhook

SMS = ConversationKey("sms", DEFAULT_USER["sms"], DEFAULT_BOT["sms"])
WHATSAPP = ConversationKey("whatsapp", DEFAULT_USER["whatsapp"], DEFAULT_BOT["whatsapp"])

SIZES = """
flow: sizes
start: welcome
trigger: {text: "(?i)pizza"}
global:
  - {text: "(?i)^never mind$", say: "Cancelled.", goto: done}
  - {text: "(?i)^help$", say: "Pick a size.", resume: true}
states:
  welcome:
    say:
      text: "Hi {{ event.profile_name or 'there' }}! What size?"
      buttons: [{title: Small, payload: S}, {title: Medium, payload: M}]
    on:
      - button: [S, M]
        set: {size: "{{ event.button.title }}"}
        goto: count
      - {text: "(?i)^later$", say: "OK, later."}
  count:
    ask: {slot: count, type: number, min: 1, max: 5, prompt: "How many?",
          invalid: "1 to 5, please.", retries: 1, on_exhausted: done}
    next: confirm
  confirm:
    say: "{{ count }} {{ size }}. Thanks!"
    next: done
  done:
    say: "Bye."
    final: true
"""


def texts(replies: list[dict[str, object]]) -> list[str]:
    return [str(r["text"]) for r in replies]


async def test_a_flow_runs_from_trigger_to_final_on_sms(flow_bot: Callable[..., Bot]) -> None:
    bot = flow_bot(SIZES)
    async with BotTestClient(bot) as client:
        assert await client.send("hello") == []  # no trigger match: not entered
        [menu] = await client.send("I want pizza")
        assert menu["text"].startswith("Hi there! What size?\n1. Small\n2. Medium")
        assert texts(await client.send("2")) == ["How many?"]
        assert texts(await client.send("3")) == ["3 Medium. Thanks!", "Bye."]
        conversation = await bot.store.load(SMS)
        assert (conversation.flow, conversation.state) == (None, "done")
        assert conversation.data == {"size": "Medium", "count": 3}
        # After a final state the next message enters the flow again.
        [again] = await client.send("pizza please")
        assert again["text"].startswith("Hi there!")


async def test_rules_without_goto_stay_and_unmatched_events_fall_through(
    flow_bot: Callable[..., Bot],
) -> None:
    seen: list[str] = []
    bot = flow_bot(SIZES)

    @bot.on_text()
    async def after_the_flow(ctx: Context) -> None:
        seen.append(ctx.message.text or "")

    async with BotTestClient(bot) as client:
        await client.send("pizza")
        assert texts(await client.send("later")) == ["OK, later."]
        assert await client.send("what?") == []  # no rule: the next handler gets it
        assert (await bot.store.load(SMS)).state == "welcome"
    assert seen == ["what?"]


async def test_a_handler_registered_first_wins(
    flow_bot: Callable[..., Bot], tmp_path: Path
) -> None:
    bot = flow_bot()

    @bot.on_text("(?i)pizza")
    async def first(ctx: Context) -> None:
        await ctx.reply("the handler")

    path = tmp_path / "sizes.yaml"
    path.write_text(SIZES)
    bot.add_flow(path)
    async with BotTestClient(bot) as client:
        assert texts(await client.send("pizza")) == ["the handler"]


async def test_invalid_answers_retry_then_exhaust(flow_bot: Callable[..., Bot]) -> None:
    bot = flow_bot(SIZES)
    async with BotTestClient(bot) as client:
        await client.send("pizza")
        await client.send("1")
        assert texts(await client.send("nine")) == ["1 to 5, please.", "How many?"]
        assert texts(await client.send("0")) == ["Bye."]  # retries: 1, then on_exhausted


async def test_global_rules_interrupt_and_resume(flow_bot: Callable[..., Bot]) -> None:
    bot = flow_bot(SIZES)
    async with BotTestClient(bot) as client:
        await client.send("pizza")
        await client.send("1")
        assert texts(await client.send("help")) == ["Pick a size.", "How many?"]
        assert (await bot.store.load(SMS)).state == "count"
        assert texts(await client.send("never mind")) == ["Cancelled.", "Bye."]


async def test_whatsapp_taps_drive_the_same_flow(flow_bot: Callable[..., Bot]) -> None:
    bot = flow_bot(SIZES)
    async with BotTestClient(bot) as client:
        [menu] = await client.send("pizza", channel="whatsapp")
        assert menu["custom"]["interactive"]["type"] == "button"
        assert texts(await client.tap("Small")) == ["How many?"]


async def test_moving_to_another_state_clears_the_pending_menu(
    flow_bot: Callable[..., Bot],
) -> None:
    bot = flow_bot(SIZES)
    async with BotTestClient(bot) as client:
        await client.send("pizza")
        assert await client.menu() is not None
        await client.send("1")
        assert await client.menu() is None


ASKS = """
flow: asks
start: email
states:
  email:
    ask: {slot: email, type: email, prompt: "Email?"}
    next: phone
  phone:
    ask: {slot: phone, type: phone, prompt: "Phone?"}
    next: day
  day:
    ask: {slot: day, type: date, prompt: "Which day?"}
    next: where
  where:
    ask: {slot: where, accept: [text, location], prompt: "Where?"}
    next: pic
  pic:
    ask: {slot: pic, type: media, prompt: "A photo?"}
    next: size
  size:
    ask: {slot: size, type: choice, choices: [Small, Large], prompt: "Size?", validate: not_small}
    next: done
  done:
    say: "Done."
    final: true
"""


async def test_every_ask_type_checks_and_stores_its_answer(flow_bot: Callable[..., Bot]) -> None:
    def setup(bot: Bot) -> None:
        @bot.condition("not_small")
        def not_small(ctx: Context) -> bool:
            return bool(ctx.match["value"] != "Small")

    bot = flow_bot(ASKS, setup=setup, clock=FakeClock(1_750_000_000))  # 2025-06-15
    async with BotTestClient(bot) as client:
        await client.send("start", channel="whatsapp")
        assert texts(await client.send("not an email", channel="whatsapp")) == ["Email?"]
        await client.send("ana@example.com", channel="whatsapp")
        assert texts(await client.send("12", channel="whatsapp")) == ["Phone?"]
        await client.send("+44 (7700) 900-123", channel="whatsapp")
        assert texts(await client.send("someday", channel="whatsapp")) == ["Which day?"]
        await client.send("tomorrow", channel="whatsapp")
        await client.share_location(51.5, -0.12, name="Home")
        assert texts(await client.send("no photo", channel="whatsapp")) == ["A photo?"]
        photo = inbound_webhook(
            "whatsapp", "image", {"image": {"url": "https://e.x/p.jpg"}}, timestamp=bot.clock.now()
        )
        [size] = await client.deliver(photo)
        assert size["custom"]["interactive"]["type"] == "button"
        await client.tap("Small")  # the condition refuses it
        assert texts(await client.tap("Large")) == ["Done."]
        data = (await bot.store.load(WHATSAPP)).data
    assert data["email"] == "ana@example.com"
    assert data["phone"] == "+447700900123"
    assert data["day"] == "2025-06-16"
    assert data["where"]["latitude"] == 51.5 and data["where"]["name"] == "Home"
    assert data["pic"]["url"] == "https://e.x/p.jpg" and data["pic"]["kind"] == "image"
    assert data["size"] == "Large"


TIMED = """
flow: remind
start: waiting
states:
  waiting:
    say: "Reply yes to confirm."
    on:
      - {text: "(?i)^yes$", goto: done}
    timeout: {after: 10m, say: "Reminder: reply yes to confirm.", goto: last_call}
  last_call:
    on:
      - {text: "(?i)^yes$", goto: done}
    timeout: {after: 1h, say: "Booking released."}
  done:
    say: "Confirmed."
    final: true
"""


async def test_timeouts_say_and_move(flow_bot: Callable[..., Bot]) -> None:
    bot = flow_bot(TIMED)
    async with BotTestClient(bot) as client:
        await client.send("hi")
        assert await client.advance(599) == []
        assert texts(await client.advance(1)) == ["Reminder: reply yes to confirm."]
        assert (await bot.store.load(SMS)).state == "last_call"
        assert texts(await client.advance(3600)) == ["Booking released."]
        assert await client.advance(36_000) == []  # no goto: not re-armed
        assert texts(await client.send("yes")) == ["Confirmed."]


async def test_an_answer_before_the_timeout_cancels_it(flow_bot: Callable[..., Bot]) -> None:
    bot = flow_bot(TIMED)
    async with BotTestClient(bot) as client:
        await client.send("hi")
        await client.send("yes")
        assert await client.advance(10_000) == []


async def test_a_reminder_survives_a_restart(flow_bot: Callable[..., Bot]) -> None:
    clock = FakeClock(1_750_000_000)
    async with BotTestClient(flow_bot(TIMED, clock=clock, db="restart.db")) as client:
        await client.send("hi")
    clock.advance(601)  # the server was down when the reminder fell due
    restarted = flow_bot(TIMED, clock=clock, db="restart.db")
    async with BotTestClient(restarted) as client:
        await restarted.fire_due_timers()
        await restarted.idle()
        assert texts(client.replies) == ["Reminder: reply yes to confirm."]


PARENT = """
flow: parent
start: menu
states:
  menu:
    say: "Menu."
    on:
      - {text: "(?i)^help$", goto: helpdesk}
  helpdesk:
    call: {flow: child, then: back}
  back:
    say: "Back in the menu."
    final: true
"""
CHILD = """
flow: child
start: ask
trigger: {text: "^never$"}
states:
  ask:
    say: "Child here. Done?"
    on:
      - {text: "(?i)^done$", goto: end}
  end:
    say: "Child done."
    final: true
"""


async def test_a_sub_flow_runs_and_returns(flow_bot: Callable[..., Bot]) -> None:
    bot = flow_bot(PARENT, CHILD)
    async with BotTestClient(bot) as client:
        await client.send("hi")
        assert texts(await client.send("help")) == ["Child here. Done?"]
        conversation = await bot.store.load(SMS)
        assert (conversation.flow, conversation.state) == ("child", "ask")
        assert texts(await client.send("done")) == ["Child done.", "Back in the menu."]
        conversation = await bot.store.load(SMS)
        assert conversation.flow is None and "flow_stack" not in conversation.meta


HANDOFF = """
flow: desk
start: menu
states:
  menu:
    say: "Type agent for a person."
    on:
      - {text: "(?i)^agent$", goto: human}
  human:
    say: "Connecting you to a person."
    handoff: true
  welcome_back:
    say: "The bot is back."
    final: true
"""


async def test_handoff_is_silent_until_it_is_handed_back(flow_bot: Callable[..., Bot]) -> None:
    def setup(bot: Bot) -> None:
        @bot.on_text("^#done$")
        async def agent_done(ctx: Context) -> None:  # handlers do not run while handed off
            await ctx.goto("welcome_back", flow="desk")

    bot = flow_bot(HANDOFF, setup=setup)
    async with BotTestClient(bot) as client:
        await client.send("hi")
        assert texts(await client.send("agent")) == ["Connecting you to a person."]
        assert await client.send("hello? anyone?") == []
        assert await client.send("#done") == []
        assert texts(await client.hand_back("welcome_back")) == ["The bot is back."]


async def test_unknown_actions_stop_the_bot_at_start_with_positions(
    flow_bot: Callable[..., Bot],
) -> None:
    bot = flow_bot("flow: f\nstart: a\nstates:\n  a:\n    on:\n      - {else: true, do: nope}\n")
    with pytest.raises(FlowError) as info:
        async with bot.running():
            pass
    [problem] = info.value.problems
    assert (problem.line, problem.column) == (6, 26)
    assert "unknown action 'nope'" in problem.message


def test_goto_to_a_missing_state_is_a_config_error(flow_bot: Callable[..., Bot]) -> None:
    bot = flow_bot(HANDOFF)
    assert "human" in bot.flow("desk").compiled.spec.states
    with pytest.raises(ConfigError, match="no flow named 'nope'"):
        bot.flow("nope")


NUDGE = """
flow: nudge
start: waiting
states:
  waiting:
    say: "Pick a size."
    on:
      - {button: [S, L], goto: done}
      - {else: true, say: "Please pick a size."}
    timeout: {after: 10m, say: "Still there?"}
  done:
    say: "Done."
    final: true
"""


async def test_a_message_the_flow_takes_restarts_the_timeout(flow_bot: Callable[..., Bot]) -> None:
    bot = flow_bot(NUDGE)
    async with BotTestClient(bot) as client:
        await client.send("hi")
        assert await client.advance(540) == []
        assert texts(await client.send("what?")) == ["Please pick a size."]
        assert await client.advance(540) == []  # 18 min since entering, 9 since the message
        assert texts(await client.advance(60)) == ["Still there?"]
