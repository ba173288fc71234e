"""``/sandbox`` works with every bot in ``bots/``: its conversations replayed through the page.

Each flow's conversation tests (``NAME.test.yaml``) say what a user does; here the same
user messages, taps and locations go through ``POST /sandbox/send`` on each case's
channels, and every reply must come back through the fake Messages API valid on the wire.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from botkit import Bot, Settings
from botkit.convtest.spec import Turn, load_test_file

from .conftest import act, bot_for, flow_files, in_sandbox, page, timeline

FLOWS = flow_files()


def _user_turns(flow: Path) -> list[tuple[str, list[Turn]]]:
    """(channel, turns) to replay: the flow's test cases, or a greeting on every channel."""
    tests = flow.with_name(flow.stem + ".test.yaml")
    if not tests.is_file():
        return [(channel, [Turn(user="hi")]) for channel in ("sms", "whatsapp")]
    found = []
    for case in load_test_file(tests).cases:
        for channel in case.channels or ([case.channel] if case.channel else ["sms"]):
            found.append((channel, list(case.turns)))
    return found


def _tap(channel: str, title: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The page action for tapping ``title``: a native reply, or the menu label typed."""
    for entry in reversed(entries):
        if entry["direction"] != "out" or entry["channel"] != channel:
            continue
        body = entry["body"]
        interactive = (body.get("custom") or {}).get("interactive")
        if interactive:
            action = interactive["action"]
            options = [b["reply"] for b in action.get("buttons", [])]
            options += [r for s in action.get("sections", []) for r in s["rows"]]
            for option in options:
                if title in (option["id"], option["title"]):
                    return {"type": "reply", "id": option["id"], "title": option["title"]}
        for line in str(body.get("text", "")).split("\n"):
            match = re.fullmatch(r"([0-9]+|[A-Z]+)\. (.*)", line)
            if match and match.group(2) == title:
                return {"type": "text", "text": match.group(1)}
    return {"type": "text", "text": title}  # typed, as a person would


async def _replay(http: httpx.AsyncClient, bot: Bot, channel: str, turns: list[Turn],
                  user: str) -> None:
    for turn in turns:
        if turn.user is not None:
            action: dict[str, Any] = {"type": "text", "text": turn.user}
        elif turn.tap is not None:
            action = _tap(channel, turn.tap, await timeline(http))
        elif turn.location is not None and channel == "whatsapp":
            loc = turn.location
            action = {"type": "location", "lat": loc.latitude, "long": loc.longitude}
        else:
            continue  # waits and media are the convtest suite's business
        entry = await act(http, bot, channel=channel, user=user, **action)
        assert entry["status"] == "accepted", entry


@pytest.mark.parametrize("flow", FLOWS, ids=[f.stem for f in FLOWS])
async def test_the_sandbox_serves_every_bot(flow: Path, tmp_path: Path) -> None:
    bot = bot_for(flow, Settings(store=f"sqlite:///{tmp_path / 'bot.db'}"))
    in_sandbox(bot)
    async with page(bot) as http:
        html = await http.get("/sandbox")
        config = (await http.get("/sandbox/config")).json()
        for index, (channel, turns) in enumerate(_user_turns(flow)):
            digits = "44770090" + f"{index:04d}" if channel != "messenger" else f"84116{index:06d}"
            await _replay(http, bot, channel, turns, digits)
        entries = await timeline(http)
    assert html.status_code == 200 and config["flows"]
    out = [e for e in entries if e["direction"] == "out"]
    assert out, "the bot answered through the sandbox"
    assert [e for e in out if e["violations"]] == []
    assert {e["status"] for e in out} <= {"delivered", "read"}
    assert all(isinstance(e["decisions"], list) for e in out)
