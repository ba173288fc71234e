"""Serving flows: companions, botkit run/check/graph on flow files, and the reloading watcher."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from botkit import Bot, FakeClock, FlowError, Settings
from botkit.cli import asgi_for, main
from botkit.flows import bot_for_flow, watch_flows
from botkit.testing import BotTestClient

GREETER = """
flow: greeter
start: hello
states:
  hello:
    say: "Hello!"
    on:
      - {text: ".", do: remember, say: "You said {{ last }}."}
"""
COMPANION = """
from botkit import Bot, Context


def setup(bot: Bot) -> None:
    @bot.action("remember")
    def remember(ctx: Context) -> None:
        ctx.conversation.data["last"] = ctx.message.text
"""


@pytest.fixture
def greeter(tmp_path: Path) -> Path:
    (tmp_path / "greeter.yaml").write_text(GREETER)
    (tmp_path / "greeter.py").write_text(COMPANION)
    return tmp_path / "greeter.yaml"


async def test_a_flow_and_its_companion_make_a_bot(greeter: Path, tmp_path: Path) -> None:
    bot = bot_for_flow(
        greeter, settings=Settings(store=f"sqlite:///{tmp_path / 'g.db'}"), clock=FakeClock()
    )
    async with BotTestClient(bot) as client:
        assert [r["text"] for r in await client.send("hi")] == ["Hello!"]
        assert [r["text"] for r in await client.send("pizza")] == ["You said pizza."]


def test_a_flow_without_its_companion_names_the_missing_action(tmp_path: Path) -> None:
    (tmp_path / "greeter.yaml").write_text(GREETER)
    with pytest.raises(FlowError, match="unknown action 'remember'"):
        bot_for_flow(tmp_path)


def test_botkit_run_serves_a_flow_file_or_folder(
    greeter: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOTKIT_STORE", "memory://")
    for target in (str(greeter), str(greeter.parent)):
        app = asgi_for(target)
        assert isinstance(app.state.bot, Bot)
        assert "greeter" in app.state.bot.flows


def test_botkit_check_and_graph(greeter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(greeter)]) == 0
    broken = greeter.parent / "broken.yaml"
    broken.write_text("flow: b\nstart: nowhere\nstates:\n  a: {say: hi}\n")
    assert main(["check", str(broken)]) == 1
    out = capsys.readouterr().out
    assert f"{broken}:2:8: " in out and "nowhere" in out
    assert main(["graph", str(greeter)]) == 0
    assert capsys.readouterr().out.startswith("stateDiagram-v2")


async def test_the_watcher_reloads_good_edits_and_keeps_serving_on_broken_ones(
    greeter: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = bot_for_flow(greeter, settings=Settings(store="memory://"), clock=FakeClock())
    async with BotTestClient(bot) as client, watch_flows(bot, interval=0.01):
        await client.send("hi")

        def edit(text: str, bump: int) -> None:
            greeter.write_text(text)
            stat = greeter.stat()
            os.utime(greeter, (stat.st_atime, stat.st_mtime + bump))  # a distinct mtime

        edit(GREETER.replace("You said", "Broken {{ unclosed"), 10)
        await asyncio.sleep(0.2)
        assert "still serving the previous version" in capsys.readouterr().err
        assert [r["text"] for r in await client.send("a")] == ["You said a."]

        edit(GREETER.replace("You said", "Now you said"), 20)
        for _ in range(100):
            await asyncio.sleep(0.02)
            if "reloaded" in capsys.readouterr().err:
                break
        assert [r["text"] for r in await client.send("b")] == ["Now you said b."]


def test_botkit_check_knows_the_companions_actions(
    greeter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(greeter.parent)]) == 0
    greeter.write_text(GREETER.replace("do: remember", "do: remembr"))
    assert main(["check", str(greeter.parent)]) == 1
    assert "unknown action 'remembr': did you mean 'remember'?" in capsys.readouterr().out
