"""Conversation tests: reading test files, running cases, transcripts, and ``botkit test``."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any, get_args

import pytest

import botkit.flows
from botkit import Bot, Button, Buttons, Context, FakeClock, Settings
from botkit.convtest import (
    CaseResult,
    TestFileError,
    bot_factory_for,
    find_test_files,
    load_test_file,
    main_test,
    parse_test_file,
    run_case,
    shown_reply,
)
from botkit.convtest.spec import Channel
from botkit.errors import ConfigError
from botkit.handoff.transcript import reacted_item
from botkit.render import render
from botkit.routing import CHANNELS
from tests.convtest.bots.pizza_bot import make_bot
from tests.reference import CURRENT

BOTS = Path(__file__).parent / "bots"
DOCS = Path(__file__).parents[2] / "docs" / "testing-flows.md"


def one_case(turns: str, channel: str = "sms") -> str:
    """A test file with one case; its first turn is on line 5."""
    body = textwrap.indent(textwrap.dedent(turns).strip("\n"), " " * 6)
    return f"cases:\n  - name: the case\n    channel: {channel}\n    turns:\n{body}\n"


async def run_text(text: str, channel: str = "sms") -> CaseResult:
    [case] = parse_test_file(text, "case.test.yaml").cases
    return await run_case(case, make_bot, channel=channel)


# --- the fixture file: every action and check, on SMS and WhatsApp -------------------------

async def test_every_case_of_the_fixture_file_passes_on_each_of_its_channels() -> None:
    test_file = load_test_file(BOTS / "pizza.test.yaml")
    factory = bot_factory_for(test_file)
    ran = []
    for case in test_file.cases:
        for channel in case.run_on:
            result = await run_case(case, factory, channel=channel)
            assert result.passed, result.text
            ran.append(f"{case.name}[{channel}]")
    assert len(ran) == 10
    assert {"order by tapping[sms]", "order by tapping[whatsapp]", "order by tapping[rcs]",
            "reply kinds as delivered on RCS[rcs]"} <= set(ran)


@pytest.mark.parametrize(("channel", "greeting"), [("sms", "Hi there!"),
                                                   ("whatsapp", "Hi Test User!"),
                                                   ("rcs", "Hi there!")])
async def test_one_case_reads_the_same_on_sms_whatsapp_and_rcs(channel: str,
                                                                greeting: str) -> None:
    test_file = load_test_file(BOTS / "pizza.test.yaml")
    case = test_file.cases[0]
    result = await run_case(case, bot_factory_for(test_file), channel=channel)
    # On SMS the menu is numbered text and taps are typed labels; on RCS chips; the
    # transcript shows what the user reads either way: the question, then the choices.
    assert result.transcript == (
        "> user: hi",
        f"< bot: {greeting} What size? [Small | Medium | Large]",
        "> tap: Medium",
        "< bot: Where should we deliver?",
        "> user: 1 Main St",
        "< bot: Medium pizza to 1 Main St? [Yes | No]",
        "> tap: Yes",
        "< bot: Thanks! Your pizza is on its way.",
    )
    assert result.passed and result.failure is None


async def test_wait_moves_the_clock_and_fires_timers_with_silence_shown() -> None:
    test_file = load_test_file(BOTS / "pizza.test.yaml")
    [case] = [c for c in test_file.cases if c.name.startswith("nudged")]
    result = await run_case(case, make_bot, channel="whatsapp")
    assert result.transcript[2:] == (
        "> wait: 9m",
        "< (no reply)",
        "> wait: 1m",
        "< bot: Still hungry?",
        "< bot: Hi there! What size? [Small | Medium | Large]",  # a timer has no profile
        "> wait: 10m",
        "< bot: Still hungry?",
        "< bot: Hi there! What size? [Small | Medium | Large]",
    )


def reacting_bot() -> Bot:
    """Says what it is told; answers a reaction by quoting the message it is on."""
    bot = Bot(Settings(store="memory://"), clock=FakeClock(1_750_000_000.0))

    @bot.on_reaction()
    async def reacted(ctx: Context) -> None:
        reaction = ctx.event.reaction
        assert reaction is not None
        history = await ctx.bot.store.history(ctx.key.channel, ctx.key.user)
        item = reacted_item(history, reaction.to) or {"text": "?"}
        await ctx.reply(f"{reaction.emoji or 'taken back'} on {item['text']}")

    @bot.on_message()
    async def echo(ctx: Context) -> None:
        await ctx.reply(f"you said {ctx.message.text}")

    return bot


async def test_react_reacts_to_the_bots_latest_message() -> None:
    text = one_case("""
        - user: one
        - user: two
          bot: you said two
        - react: "👍"
          bot: 👍 on you said two
        - react: ""
          bot: taken back on you said two
    """, channel="whatsapp")
    [case] = parse_test_file(text, "case.test.yaml").cases
    result = await run_case(case, reacting_bot, channel="whatsapp")
    assert result.passed, result.text
    assert result.transcript[-4:] == ("> react: 👍", "< bot: 👍 on you said two",
                                      "> react: (taken back)",
                                      "< bot: taken back on you said two")


@pytest.mark.parametrize(("channel", "turns", "problem"), [
    ("whatsapp", '- react: "👍"', "turn 1 (line 5): cannot send this react on whatsapp: "
                                  "the bot has sent nothing to react to"),
    ("sms", '- user: hi\n- react: "👍"', "turn 2 (line 6): cannot send this react on sms: "
                                          "a sms user cannot react to a message (WhatsApp "
                                          "users can)"),
])
async def test_a_reaction_the_user_cannot_send_fails_the_turn(
    channel: str, turns: str, problem: str
) -> None:
    [case] = parse_test_file(one_case(turns, channel), "case.test.yaml").cases
    result = await run_case(case, reacting_bot, channel=channel)
    assert not result.passed and result.transcript[-1] == f"! {problem}"


async def test_a_bot_on_the_system_clock_is_given_a_fake_one() -> None:
    def build() -> Bot:
        bot = Bot(Settings(store="memory://"))

        @bot.on_text()
        async def later(ctx: Context) -> None:
            ctx.set_timer(3600)

        @bot.on_timeout()
        async def nudge(ctx: Context) -> None:
            await ctx.reply("An hour later")

        return bot

    [case] = parse_test_file(one_case("""
        - user: remind me
          silent: true
        - wait: 1h
          bot: An hour later
    """)).cases
    assert (await run_case(case, build, channel="sms")).passed


async def test_the_user_address_of_a_case_is_used() -> None:
    text = one_case("""
        - user: hi
          expect: {state: welcome}
    """).replace("    turns:", '    user: "447700900999"\n    turns:')
    [case] = parse_test_file(text).cases
    assert case.user == "447700900999"
    result = await run_case(case, make_bot, channel="sms")
    assert result.passed, result.text


# --- failures: one per kind of mismatch, with the exact transcript -------------------------

GREETING_SMS = "< bot: Hi there! What size? [Small | Medium | Large]"
SHOP_SMS = ["< bot: Pizza Place",
            "       1 Main St, London",
            "       https://maps.google.com/?q=51.5072,-0.1276"]
PICTURE = ["< bot: Nice picture! Here is ours:",
           "< bot: [image] https://example.com/margherita.jpg",
           "       Margherita"]

FAILURES = {
    "text": ("sms", """
        - user: hi
          bot: Hello there
    """, ["> user: hi", GREETING_SMS,
          "! turn 1 (line 5): expected text 'Hello there' but the bot said "
          "'Hi there! What size?'"]),
    "regex": ("whatsapp", """
        - user: hi
          bot: {match: "(?i)^welcome"}
    """, ["> user: hi", "< bot: Hi Test User! What size? [Small | Medium | Large]",
          "! turn 1 (line 5): expected text matching '(?i)^welcome' but the bot said "
          "'Hi Test User! What size?'"]),
    "buttons": ("sms", """
        - user: hi
          bot: {buttons: [Small, Large]}
    """, ["> user: hi", GREETING_SMS,
          "! turn 1 (line 5): expected buttons [Small | Large] but the bot showed "
          "[Small | Medium | Large]"]),
    "no buttons": ("sms", """
        - user: shop
          bot: {buttons: ["Yes"]}
    """, ["> user: shop", *SHOP_SMS,
          "! turn 1 (line 5): expected buttons [Yes] but the bot showed none"]),
    "kind": ("sms", """
        - user: shop
          bot: {kind: location}
    """, ["> user: shop", *SHOP_SMS,
          "! turn 1 (line 5): expected kind 'location' but the bot sent 'text'"]),
    "too many": ("whatsapp", """
        - image: https://example.com/a.jpg
          bot: "Nice picture! Here is ours:"
    """, ["> image: https://example.com/a.jpg", *PICTURE,
          "! turn 1 (line 5): expected 1 reply but the bot sent 2"]),
    "too few": ("whatsapp", """
        - user: hi
          bot: [{}, {}]
          more: true
    """, ["> user: hi", "< bot: Hi Test User! What size? [Small | Medium | Large]",
          "! turn 1 (line 5): expected at least 2 replies but the bot sent 1"]),
    "second reply": ("whatsapp", """
        - image: {url: "https://example.com/a.jpg", caption: Mine}
          bot: ["Nice picture! Here is ours:", {kind: video}]
    """, ["> image: https://example.com/a.jpg (Mine)", *PICTURE,
          "! turn 1 (line 5): reply 2: expected kind 'video' but the bot sent 'image'"]),
    "silent": ("sms", """
        - user: hi
          silent: true
    """, ["> user: hi", GREETING_SMS,
          "! turn 1 (line 5): expected no reply but the bot sent 1"]),
    "empty bot": ("sms", """
        - user: hi
        - user: shop
          bot: []
    """, ["> user: hi", GREETING_SMS, "> user: shop", *SHOP_SMS,
          "! turn 2 (line 6): expected no reply but the bot sent 1"]),
    "state": ("sms", """
        - user: hi
        - user: 1
          expect: {state: confirm}
    """, ["> user: hi", GREETING_SMS, "> user: 1", "< bot: Where should we deliver?",
          "! turn 2 (line 6): expected state 'confirm' but it is 'address'"]),
    "no state": ("sms", """
        - user: hi
          expect: {state: null}
    """, ["> user: hi", GREETING_SMS,
          "! turn 1 (line 5): expected no state but it is 'welcome'"]),
    "flow": ("sms", """
        - user: hi
          expect: {flow: pizza}
    """, ["> user: hi", GREETING_SMS,
          "! turn 1 (line 5): expected flow 'pizza' but there is none"]),
    "data": ("sms", """
        - user: hi
        - tap: Large
          expect: {data: {size: M}}
    """, ["> user: hi", GREETING_SMS, "> tap: Large", "< bot: Where should we deliver?",
          "! turn 2 (line 6): expected data.size = 'M' but it is 'L'"]),
    "data missing": ("sms", """
        - user: hi
        - expect: {state: welcome, data: {size: M}}
    """, ["> user: hi", GREETING_SMS,
          "! turn 2 (line 6): expected data.size = 'M' but data has no 'size'"]),
    "tap not shown": ("sms", """
        - user: hi
        - tap: XL
    """, ["> user: hi", GREETING_SMS, "> tap: XL",
          "! turn 2 (line 6): no choice 'XL' is shown on sms: ['Small', 'Medium', 'Large']"]),
    "media on sms": ("sms", """
        - image: https://example.com/a.jpg
    """, ["> image: https://example.com/a.jpg",
          "! turn 1 (line 5): cannot send this image on sms: SMS carries text only"]),
}


@pytest.mark.parametrize("kind", list(FAILURES))
async def test_a_mismatch_stops_the_case_with_a_readable_transcript(kind: str) -> None:
    channel, turns, expected = FAILURES[kind]
    result = await run_text(one_case(turns, channel), channel)
    assert not result.passed
    assert list(result.transcript) == expected
    assert result.failure == expected[-1].split(": ", 1)[1]


async def test_the_turns_after_a_mismatch_do_not_run() -> None:
    result = await run_text(one_case("""
        - user: hi
          bot: Nope
        - user: stop
    """))
    assert result.transcript[-1].startswith("! turn 1 ")
    assert "> user: stop" not in result.transcript


async def test_nested_data_is_compared_key_by_key_and_true_is_not_one() -> None:
    def build() -> Bot:
        bot = Bot(Settings(store="memory://"), clock=FakeClock())

        @bot.on_text()
        async def keep(ctx: Context) -> None:
            ctx.conversation.data.update(order={"size": "M", "count": 1, "extras": ["ham"]},
                                         paid=True)

        return bot

    async def check(expect: str) -> CaseResult:
        [case] = parse_test_file(one_case(f"- user: x\n  expect: {expect}\n")).cases
        return await run_case(case, build, channel="sms")

    assert (await check("{data: {order: {size: M}, paid: true}}")).passed
    assert (await check("{data: {order: {extras: [ham]}}}")).passed
    assert (await check("{data: {order: {count: true}}}")).failure == (
        "expected data.order.count = True but it is 1")
    assert (await check("{data: {order: {crust: thin}}}")).failure == (
        "expected data.order.crust = 'thin' but data.order has no 'crust'")


# --- what the user sees of a reply ------------------------------------------------------

def sizes(locale: str = "en", channel: str = "sms", version: str = "v1") -> dict[str, object]:
    reply = Buttons("Which size?", [Button("Small", "S"), Button("Medium", "M"),
                                    Button("Large", "L")])
    [body] = render(reply, channel, version, locale=locale).bodies
    return body


@pytest.mark.parametrize("locale", ["en", "es", "ja"])
def test_a_text_menu_is_split_into_the_question_and_the_titles(locale: str) -> None:
    shown = shown_reply(sizes(locale))
    assert (shown.kind, shown.text, shown.buttons) == (
        "text", "Which size?", ("Small", "Medium", "Large"))
    assert str(shown) == "Which size? [Small | Medium | Large]"


def test_native_buttons_lists_and_v01_bodies_are_read() -> None:
    assert shown_reply(sizes(channel="whatsapp")).kind == "buttons"
    assert shown_reply(sizes(channel="whatsapp", version="v0.1")).buttons == (
        "Small", "Medium", "Large")
    five = Buttons("Pick", [Button(t, t) for t in "ABCDE"])
    [body] = render(five, "whatsapp").bodies
    assert (shown_reply(body).kind, shown_reply(body).buttons) == ("list", tuple("ABCDE"))


def test_a_lettered_menu_and_numbered_lines_of_the_question_are_told_apart() -> None:
    reply = Buttons("Steps:\n1. Mix\n2. Bake\nHow many?", [Button("1", "one"),
                                                           Button("2 people", "two")])
    [body] = render(reply, "sms").bodies
    assert shown_reply(body).buttons == ("1", "2 people")
    reply = Buttons("Steps:\n1. Mix\n2. Bake", [Button("Yes", "y"), Button("No", "n")])
    [body] = render(reply, "sms").bodies
    shown = shown_reply(body)
    assert (shown.text, shown.buttons) == ("Steps:\n1. Mix\n2. Bake", ("Yes", "No"))


def test_a_numbered_list_without_a_menu_hint_stays_text() -> None:
    [body] = render("Steps:\n1. Mix\n2. Bake", "sms").bodies
    shown = shown_reply(body)
    assert (shown.text, shown.buttons) == ("Steps:\n1. Mix\n2. Bake", ())


def test_lines_the_channel_adds_after_a_menu_are_kept_in_the_text() -> None:
    reply = Buttons("Menu", [Button("Website", url="https://example.com"),
                             Button("Small", "S"), Button("Large", "L")])
    [body] = render(reply, "viber_service").bodies
    shown = shown_reply(body)
    assert shown.buttons == ("Small", "Large")
    assert shown.text == "Menu\n[ Website ] -> https://example.com"


def _rcs_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((CURRENT / "outbound" / "rcs" / f"{name}.json")
                                      .read_text(encoding="utf-8"))
    return body


def test_rcs_chips_cards_and_carousels_are_read() -> None:
    chips = shown_reply(_rcs_body("text-suggestions-all-types"))
    assert (chips.kind, chips.text) == ("buttons", "How can we help?")
    assert chips.buttons == ("Talk to an agent", "Call now!", "Find our store",
                             "Share your location", "Open product page", "Open in app",
                             "Save to calendar")
    card = shown_reply(_rcs_body("card-vertical"))
    assert (card.kind, card.text, card.buttons) == (
        "card", "Your order has shipped\nOrder 1234 will arrive on Friday.",
        ("Track parcel", "Call support"))
    carousel = shown_reply(_rcs_body("carousel"))
    assert (carousel.kind, carousel.buttons) == ("carousel", ("Option 1", "Option 2"))
    assert carousel.text == ("Option 1: Photo\nDo you prefer this photo?\n\n"
                             "Option 2: Video\nOr this video?")
    assert str(card) == ("Your order has shipped\nOrder 1234 will arrive on Friday. "
                         "[Track parcel | Call support]")
    assert shown_reply(_rcs_body("image")).kind == "image"
    assert shown_reply(_rcs_body("text")) == shown_reply({**_rcs_body("text"), "suggestions": []})


def _rcs_bot() -> Bot:
    """Sends the reference's RCS bodies and answers each tap with its webhook's shape."""
    bot = Bot(Settings(store="memory://"))
    shows = {"help": "text-suggestions-all-types", "order": "card-vertical",
             "pick": "carousel"}

    @bot.on_text(r"^(help|order|pick)$")
    async def show(ctx: Context) -> None:
        body = {**_rcs_body(shows[ctx.event.text or ""]), "to": ctx.event.sender,
                "from": ctx.event.recipient}
        await ctx.bot.client.send(body)

    @bot.on_button()
    async def tapped(ctx: Context) -> None:
        assert ctx.event.button is not None
        kind = ctx.event.raw["message_type"]
        await ctx.reply(f"{kind}: {ctx.event.button.payload} ({ctx.event.button.title})")

    return bot


async def test_a_case_on_rcs_taps_chips_with_the_webhooks_a_phone_sends() -> None:
    # A reply chip sends reply{id, title}; an action chip button{payload, text}; a card's
    # chips are still there after later messages, as on the phone.
    [case] = parse_test_file(one_case("""
        - user: help
          bot: [{kind: buttons, text: How can we help?}]
        - tap: Talk to an agent
          bot: "reply: agent (Talk to an agent)"
        - tap: Call now!
          bot: "button: postback_data_1234 (Call now!)"
        - user: order
          bot: [{kind: card, text: "Your order has shipped\\nOrder 1234 will arrive on Friday.",
                 buttons: [Track parcel, Call support]}]
        - user: pick
          bot: [{kind: carousel, buttons: [Option 1, Option 2]}]
        - tap: card_2
          bot: "reply: card_2 (Option 2)"
        - tap: Track parcel
          bot: "button: track_1234 (Track parcel)"
        - tap: Nothing shown
          bot: "reply: Nothing shown (Nothing shown)"
    """, channel="rcs")).cases
    result = await run_case(case, _rcs_bot, channel="rcs")
    assert result.passed, result.text
    assert result.transcript[:4] == (
        "> user: help",
        "< bot: How can we help? [Talk to an agent | Call now! | Find our store | "
        "Share your location | Open product page | Open in app | Save to calendar]",
        "> tap: Talk to an agent",
        "< bot: reply: agent (Talk to an agent)",
    )


# --- reading test files ---------------------------------------------------------------------

def test_a_malformed_file_reports_every_problem_with_its_position() -> None:
    text = textwrap.dedent("""\
        cases:
          - name: first
            channel: whatsap
            turns:
              - user: hi
                tap: Small
              - bot: []
              - user: true
                bot: {txt: Hello}
              - wait: 10
              - wait: 1.5h
              - location: {latitude: 100, longitude: 2}
              - expect: {}
              - expect: {data: null}
              - user: hi
                bot: {match: "("}
              - user: hi
                more: true
          - name: second
            channels: [sms, sms]
            turns: []
        """)
    with pytest.raises(TestFileError) as raised:
        parse_test_file(text, "bots/pizza.test.yaml")
    assert str(raised.value).splitlines() == [
        "bots/pizza.test.yaml:3:14: channel: expected one of 'sms', 'mms', 'rcs', 'whatsapp', "
        "'messenger' or 'viber_service', got 'whatsap': did you mean 'whatsapp'?",
        "bots/pizza.test.yaml:6:9: a turn does one thing, but this one has user and tap: "
        "split it into turns",
        "bots/pizza.test.yaml:7:9: bot checks the replies to this turn's action; add one "
        "(user, tap, location, image, audio, video, file, react, wait, agent, "
        "hand_back)",
        'bots/pizza.test.yaml:8:15: user: expected text, got true; to use it as text, put '
        'it in quotes: "true"',
        "bots/pizza.test.yaml:9:15: unknown key 'txt': did you mean 'text'? (allowed here: "
        "text, match, buttons, kind)",
        "bots/pizza.test.yaml:10:15: wait: write a duration like 30s, 10m, 2h or 1h30m "
        "(with its unit)",
        "bots/pizza.test.yaml:11:15: wait: '1.5h' is not a duration; write it like 30s, "
        "10m, 2h, 1d or 1h30m",
        "bots/pizza.test.yaml:12:30: latitude: must be at most 90.0, got the number 100",
        "bots/pizza.test.yaml:13:17: expect: needs state, flow, data or handed_off",
        "bots/pizza.test.yaml:14:24: data: has no value; write the values expected, like "
        "{size: M}",
        "bots/pizza.test.yaml:16:22: match: not a valid regular expression: missing ), "
        "unterminated subpattern at position 0",
        "bots/pizza.test.yaml:18:9: more: true allows replies after those listed in bot; "
        "list some",
        "bots/pizza.test.yaml:20:15: channels: 'sms' is written twice",
        "bots/pizza.test.yaml:21:12: turns: is empty; it needs at least one item",
    ]


@pytest.mark.parametrize(("text", "problem"), [
    ("", "x.test.yaml:1:1: the file is empty; it needs cases:"),
    ("cases: [\n", "x.test.yaml:2:1: YAML syntax error: "),
    ("cases:\n  - name: a\n    channel: sms\n    channel: mms\n    turns: [{user: hi}]\n",
     "x.test.yaml:4:5: duplicate key 'channel' (first written at line 3)"),
    ("cases:\n  - name: a\n    turns: [{user: hi}]\n",
     "x.test.yaml:2:5: name the channel: channel: whatsapp, or channels: [sms, whatsapp]"),
    ("cases:\n  - channel: sms\n    turns: [{user: hi}]\n", "x.test.yaml:2:5: missing key 'name'"),
    ("bots: x.py:make\ncases: []\n",
     "x.test.yaml:1:1: unknown key 'bots': did you mean 'bot'? (allowed here: bot, cases)"),
])
def test_problems_point_at_the_line_and_column(text: str, problem: str) -> None:
    with pytest.raises(TestFileError) as raised:
        parse_test_file(text, "x.test.yaml")
    assert str(raised.value.problems[0]).startswith(problem)


def test_two_cases_with_one_name_are_refused_at_the_second() -> None:
    text = "cases:\n" + "  - {name: same, channel: sms, turns: [{user: hi}]}\n" * 2
    with pytest.raises(TestFileError, match=re.escape(
            "x.test.yaml:3:12: a case named 'same' is already written at line 2")):
        parse_test_file(text, "x.test.yaml")


def test_short_forms_are_read_as_their_long_forms() -> None:
    [case] = parse_test_file(one_case("""
        - user: 2
          bot: Two
        - image: https://example.com/a.jpg
          bot: {kind: image}
        - wait: 1h30m
          silent: true
    """)).cases
    typed, image, wait = case.turns
    assert typed.user == "2" and typed.expected_replies is not None
    assert typed.expected_replies[0].text == "Two"
    assert image.image is not None and image.image.url == "https://example.com/a.jpg"
    assert image.expected_replies is not None and image.expected_replies[0].kind == "image"
    assert wait.wait is not None and wait.wait.total_seconds() == 5400
    assert wait.expected_replies == ()
    assert [t.line for t in case.turns] == [5, 7, 9]


def test_a_file_that_cannot_be_read_is_a_problem_at_its_start(tmp_path: Path) -> None:
    with pytest.raises(TestFileError, match=r"missing\.test\.yaml:1:1: cannot read the file"):
        load_test_file(tmp_path / "missing.test.yaml")


def test_the_channels_are_botkits_channels() -> None:
    assert set(get_args(Channel)) == set(CHANNELS)


def docs_example(tmp_path: Path) -> Path:
    """The example flow and test file of docs/testing-flows.md, written to ``tmp_path``."""
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    for name in ("pizza.yaml", "pizza.test.yaml"):
        [block] = [b for b in blocks if b.startswith(f"# bots/{name}\n")]
        (tmp_path / name).write_text(block, encoding="utf-8")
    return tmp_path / "pizza.test.yaml"


def test_the_example_of_the_docs_is_a_valid_flow_and_test_file(tmp_path: Path) -> None:
    path = docs_example(tmp_path)
    botkit.flows.load_flow(tmp_path / "pizza.yaml")
    test_file = load_test_file(path)
    assert test_file.target == "pizza.yaml"
    assert [len(case.run_on) for case in test_file.cases] == [2, 1, 1, 1, 1, 2]


async def test_the_example_of_the_docs_passes_on_the_flow_engine(tmp_path: Path) -> None:
    test_file = load_test_file(docs_example(tmp_path))
    factory = bot_factory_for(test_file)
    for case in test_file.cases:
        for channel in case.run_on:
            result = await run_case(case, factory, channel=channel)
            assert result.passed, result.text


# --- the bot under test -------------------------------------------------------------------

def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


COUNTER_BOT = """
    from botkit import Bot, Context, Settings


    async def count(ctx: Context) -> None:
        ctx.conversation.data["n"] = ctx.conversation.data.get("n", 0) + 1
        await ctx.reply(f"#{{ctx.conversation.data['n']}}")


    def make_bot() -> Bot:
        new = Bot(Settings(store="sqlite:///{db}"))
        new.on_text()(count)
        return new


    bot = make_bot()
    not_a_bot = 42
    """

COUNTER_CASES = """
    bot: {target}
    cases:
      - name: first
        channel: sms
        turns:
          - {{user: a, bot: "#1"}}
          - {{user: b, bot: "#2"}}
      - name: second
        channels: [sms, whatsapp]
        turns:
          - {{user: a, bot: "#1"}}
    """


@pytest.mark.parametrize("target", ["counter_bot.py:bot", "counter_bot.py:make_bot"])
async def test_every_case_starts_from_nothing_on_a_memory_store(
    tmp_path: Path, target: str
) -> None:
    db = tmp_path / "real.db"
    write(tmp_path / "counter_bot.py", COUNTER_BOT.format(db=db))
    path = write(tmp_path / "counter.test.yaml", COUNTER_CASES.format(target=target))
    test_file = load_test_file(path)
    factory = bot_factory_for(test_file)
    for case in test_file.cases:
        for channel in case.run_on:
            result = await run_case(case, factory, channel=channel)
            assert result.passed, result.text
    assert not db.exists()  # the bot's own database was never opened


def test_a_factory_builds_a_new_bot_each_time() -> None:
    test_file = load_test_file(BOTS / "pizza.test.yaml")
    factory = bot_factory_for(test_file)
    assert factory() is not factory()


def test_a_module_target_is_imported() -> None:
    test_file = parse_test_file(
        "bot: tests.convtest.bots.pizza_bot:make_bot\n"
        "cases: [{name: a, channel: sms, turns: [{user: hi}]}]\n", BOTS / "x.test.yaml")
    assert isinstance(bot_factory_for(test_file)(), Bot)


async def test_targets_that_are_not_bots_are_refused(tmp_path: Path) -> None:
    write(tmp_path / "counter_bot.py", COUNTER_BOT.format(db=tmp_path / "x.db"))
    cases = "cases: [{name: a, channel: sms, turns: [{user: hi}]}]\n"
    with pytest.raises(ConfigError, match=re.escape(
            "counter_bot.py:not_a_bot is neither a Bot nor a function returning one (it is int)")):
        bot_factory_for(parse_test_file(f"bot: counter_bot.py:not_a_bot\n{cases}",
                                        tmp_path / "a.test.yaml"))
    write(tmp_path / "odd.py", "def make() -> int:\n    return 1\n")
    factory = bot_factory_for(parse_test_file(f"bot: odd.py:make\n{cases}",
                                              tmp_path / "b.test.yaml"))
    with pytest.raises(ConfigError, match=re.escape("odd.py:make returned int, not a Bot")):
        factory()


def test_the_default_bot_is_the_flow_beside_the_file(tmp_path: Path) -> None:
    cases = "cases: [{name: a, channel: sms, turns: [{user: hi}]}]\n"
    test_file = parse_test_file(cases, tmp_path / "pizza.test.yaml")
    assert test_file.target == "pizza.yaml"
    with pytest.raises(ConfigError, match=re.escape(f"no such flow: {tmp_path / 'pizza.yaml'}")):
        bot_factory_for(test_file)


HELLO_FLOW = """
    flow: hello
    start: greet
    states:
      greet:
        say: "Hello!"
        final: true
    """


async def test_a_flow_target_runs_on_the_flow_engine(tmp_path: Path) -> None:
    write(tmp_path / "hello.yaml", HELLO_FLOW)
    path = write(tmp_path / "hello.test.yaml", """
        cases:
          - name: greeted
            channels: [sms, whatsapp]
            turns:
              - {user: hi, bot: Hello!}
        """)
    test_file = load_test_file(path)
    factory = bot_factory_for(test_file)
    for channel in test_file.cases[0].run_on:
        result = await run_case(test_file.cases[0], factory, channel=channel)
        assert result.passed, result.text


def test_the_hello_flow_is_a_valid_flow(tmp_path: Path) -> None:
    botkit.flows.load_flow(write(tmp_path / "hello.yaml", HELLO_FLOW))


# --- botkit test ------------------------------------------------------------------------------

def test_botkit_test_passes_a_directory_of_passing_files(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(BOTS)
    assert main_test(["."]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == ["PASS pizza.test.yaml::order by tapping[sms]",
                         "PASS pizza.test.yaml::order by tapping[whatsapp]",
                         "PASS pizza.test.yaml::order by tapping[rcs]"]
    assert lines[-1] == "10 passed, 0 failed"


def test_botkit_test_prints_the_transcript_of_a_failure_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "counter_bot.py", COUNTER_BOT.format(db=tmp_path / "x.db"))
    write(tmp_path / "counter.test.yaml", """
        bot: counter_bot.py:make_bot
        cases:
          - name: counts
            channels: [sms, messenger]
            turns:
              - {user: a, bot: "#1"}
              - {user: b, bot: "#3"}
        """)
    monkeypatch.chdir(tmp_path)
    assert main_test(["counter.test.yaml"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "FAIL counter.test.yaml::counts[sms]",
        "    > user: a",
        "    < bot: #1",
        "    > user: b",
        "    < bot: #2",
        "    ! turn 2 (line 8): expected text '#3' but the bot said '#2'",
        "FAIL counter.test.yaml::counts[messenger]",
        "    > user: a",
        "    < bot: #1",
        "    > user: b",
        "    < bot: #2",
        "    ! turn 2 (line 8): expected text '#3' but the bot said '#2'",
        "0 passed, 2 failed",
    ]


def test_botkit_test_reports_a_file_that_does_not_load_and_runs_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "a.test.yaml", "cases:\n  - name: x\n    channel: telegram\n")
    write(tmp_path / "b.test.yaml", "bot: nowhere.py:make_bot\ncases: [{name: x, channel: "
                                    "sms, turns: [{user: hi}]}]\n")
    write(tmp_path / "counter_bot.py", COUNTER_BOT.format(db=tmp_path / "x.db"))
    write(tmp_path / "c.test.yaml", "bot: counter_bot.py:make_bot\ncases: [{name: ok, "
                                    "channel: sms, turns: [{user: hi, bot: '#1'}]}]\n")
    monkeypatch.chdir(tmp_path)
    assert main_test(["."]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "ERROR a.test.yaml: the file does not load:",
        "    a.test.yaml:2:5: missing key 'turns'",
        "    a.test.yaml:3:14: channel: expected one of 'sms', 'mms', 'rcs', 'whatsapp', "
        "'messenger' or 'viber_service', got 'telegram'",
        "ERROR b.test.yaml: cannot load the bot 'nowhere.py:make_bot': no such file: "
        "nowhere.py",
        "PASS c.test.yaml::ok[sms]",
        "1 passed, 0 failed, 2 files with errors",
    ]


def test_botkit_test_reports_a_flow_or_a_module_that_does_not_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "broken.yaml", """
        flow: broken
        start: greet
        states:
          greet:
            say: Hi
            goto: greet
        """)
    write(tmp_path / "broken.test.yaml", "cases: [{name: x, channel: sms, turns: [{user: hi}]}]")
    write(tmp_path / "fails.py", "raise ImportError('no oven module')\n")
    write(tmp_path / "fails.test.yaml", "bot: fails.py:make\n"
                                        "cases: [{name: x, channel: sms, turns: [{user: hi}]}]")
    monkeypatch.chdir(tmp_path)
    assert main_test(["."]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "ERROR broken.test.yaml: the flow does not load:",
        "    broken.yaml:7:5: unknown key 'goto' (goto goes in a rule under on, or in "
        "timeout; next moves on at once)",
        "ERROR fails.test.yaml: ImportError: no oven module",
        "0 passed, 0 failed, 2 files with errors",
    ]


def test_botkit_test_with_nothing_to_run_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_test([str(tmp_path)]) == 1
    assert capsys.readouterr().out == (
        f"no conversation tests (*.test.yaml) found in {tmp_path}\n")


def test_botkit_test_reports_a_bot_that_breaks_as_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "broken.py", "def make():\n    raise RuntimeError('no oven')\n")
    write(tmp_path / "b.test.yaml", "bot: broken.py:make\ncases: [{name: x, channel: sms, "
                                    "turns: [{user: hi}]}]\n")
    monkeypatch.chdir(tmp_path)
    assert main_test(["b.test.yaml"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "ERROR b.test.yaml::x[sms]: RuntimeError: no oven", "0 passed, 1 failed"]


def test_directories_are_searched_in_name_order_without_hidden_ones(tmp_path: Path) -> None:
    for name in ["b.test.yaml", "a/z.test.yml", "a/flow.yaml", ".hidden/c.test.yaml"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    found = find_test_files([tmp_path, tmp_path / "missing.test.yaml"])
    assert found == [tmp_path / "a/z.test.yml", tmp_path / "b.test.yaml",
                     tmp_path / "missing.test.yaml"]
