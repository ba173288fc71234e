"""The bots in bots/: they check clean, their conversation tests pass, and one bot serving
the whole folder starts each flow on its own words only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from botkit import Bot, ConversationKey, FakeClock, Settings
from botkit.cli import asgi_for, main
from botkit.flows import bot_for_flow
from botkit.testing import DEFAULT_BOT, BotTestClient

ROOT = Path(__file__).resolve().parents[1]
BOTS = ROOT / "bots"
FLOWS = ("appointment", "pizza", "support")

# A problem line of `botkit check`: "path:line:column: message".
PROBLEM = re.compile(r"^.+:\d+:\d+: (?P<message>.*)$")

# (flow, a message that starts it, what the flow answers first, the state it waits in)
TRIGGERS = [
    (
        "appointment",
        "I'd like to book a haircut",
        "Hi! Which appointment would you like to book?",
        "service",
    ),
    ("pizza", "pizza please", "Hi there! Welcome to Roma Pizza.", "size"),
    ("support", "help", "Hi there, this is Example Shop support.", "topic"),
]


def first_text(replies: list[dict[str, object]]) -> str:
    return str(replies[0]["text"]).split("\n")[0] if replies else ""


def key(user: str) -> ConversationKey:
    return ConversationKey("sms", user, DEFAULT_BOT["sms"])


@pytest.fixture
def folder_bot() -> Bot:
    """One bot serving every flow of bots/, with their Python companions."""
    return bot_for_flow(BOTS, settings=Settings(store="memory://"), clock=FakeClock())


def test_every_bot_has_its_flow_companion_and_tests() -> None:
    for name in FLOWS:
        assert (BOTS / f"{name}.yaml").is_file()
        assert (BOTS / f"{name}.py").is_file()
        assert (BOTS / f"{name}.test.yaml").is_file()


def test_botkit_check_passes_without_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["check"]) == 0  # bots/ by default, not the broken flows the tests keep
    captured = capsys.readouterr()
    lines = (captured.out + captured.err).splitlines()
    errors = [
        line
        for line in lines
        if (found := PROBLEM.match(line)) and not found["message"].startswith("warning:")
    ]
    assert errors == []
    assert (f"checked {len(FLOWS)} flow file(s) and 1 template registry file(s) in bots "
            "(the bots/ folder): 0 error(s)") in captured.err


def test_botkit_test_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    status = main(["test", "bots"])
    out = capsys.readouterr().out
    assert status == 0, out
    summary = out.splitlines()[-1]
    assert re.fullmatch(r"\d+ passed, 0 failed", summary), summary
    for name in FLOWS:
        for channel in ("sms", "whatsapp"):
            assert re.search(rf"^PASS bots/{name}\.test\.yaml::.*\[{channel}\]$", out, re.M), (
                f"no {name} case passed on {channel}"
            )


@pytest.mark.parametrize("name", FLOWS)
def test_each_bot_starts_alone_in_sandbox_mode(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What `botkit run bots/NAME.yaml` builds, without Vonage credentials.
    monkeypatch.setenv("BOTKIT_STORE", f"sqlite:///{tmp_path / 'run.db'}")
    for variable in (
        "VONAGE_API_KEY",
        "VONAGE_API_SECRET",
        "VONAGE_APPLICATION_ID",
        "VONAGE_PRIVATE_KEY",
        "VONAGE_SIGNATURE_SECRET",
    ):
        monkeypatch.delenv(variable, raising=False)
    app = asgi_for(str(BOTS / f"{name}.yaml"))
    bot = app.state.bot
    assert isinstance(bot, Bot)
    assert bot.settings.sandbox_enabled
    assert list(bot.flows) == [name]


def test_one_bot_serves_the_whole_folder(folder_bot: Bot) -> None:
    assert list(folder_bot.flows) == list(FLOWS)  # added in name order


async def test_each_trigger_starts_its_own_flow_on_sms(folder_bot: Bot) -> None:
    async with BotTestClient(folder_bot) as client:
        for number, (flow, text, answer, state) in enumerate(TRIGGERS):
            user = f"4477009001{number:02d}"
            replies = await client.send(text, user=user)
            assert first_text(replies) == answer
            conversation = await folder_bot.store.load(key(user))
            assert (conversation.flow, conversation.state) == (flow, state)


async def test_no_flow_starts_on_other_words(folder_bot: Bot) -> None:
    async with BotTestClient(folder_bot) as client:
        for text in ("hello", "where is my order?", "thanks"):
            assert await client.send(text, user="447700900150") == []
        assert (await folder_bot.store.load(key("447700900150"))).flow is None


async def test_a_running_flow_keeps_words_of_the_other_flows(folder_bot: Bot) -> None:
    async with BotTestClient(folder_bot) as client:
        user = "447700900160"
        await client.send("pizza", user=user)
        # "help" would start the support flow, and "book" the appointment flow; inside
        # the pizza order they are the pizza flow's.
        [help_text, question] = await client.send("help", user=user)
        assert str(help_text["text"]).startswith("I'm taking your pizza order.")
        assert str(question["text"]).startswith("What size would you like?")
        await client.send("book", user=user)
        assert (await folder_bot.store.load(key(user))).flow == "pizza"
        # Once the order is over, each flow starts on its own words again.
        await client.send("never mind", user=user)
        assert first_text(await client.send("help", user=user)) == (
            "Hi there, this is Example Shop support."
        )
        assert (await folder_bot.store.load(key(user))).flow == "support"


async def test_the_support_hand_back_works_with_every_flow_served(folder_bot: Bot) -> None:
    # While a person has it, no flow answers: not even those that "help" or "pizza" start.
    async with BotTestClient(folder_bot) as client:
        user = "447700900170"
        await client.send("support", user=user)
        await client.send("5", user=user)  # Talk to a person
        assert await client.send("is anyone there?", user=user) == []
        assert await client.send("pizza", user=user) == []
        back, more = await client.hand_back(user=user)
        assert back["text"] == "You're back with the Example Shop assistant."
        assert str(more["text"]).startswith("Is there anything else I can help with?")
        conversation = await folder_bot.store.load(key(user))
        assert (conversation.flow, conversation.state) == ("support", "anything_else")
