"""Sandbox fixtures: a bot in sandbox mode served in-process, and how to act on its page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from botkit import Bot, Settings
from botkit.errors import FlowError
from botkit.flows import bot_for_flow, find_flow_files
from botkit.sandbox import SandboxRecorder

ROOT = Path(__file__).resolve().parents[2]
SECRET = "qwertyuiopasdfghjklzxcvbnm123456"  # the official SDK's own test vector


def flow_folder() -> Path:
    """``bots/`` when it holds flows, else the good flows of the flow tests."""
    bots = ROOT / "bots"
    return bots if find_flow_files([bots]) else ROOT / "tests" / "flows" / "good"


def flow_files() -> list[Path]:
    return find_flow_files([flow_folder()])


def bot_for(path: Path, settings: Settings) -> Bot:
    """The bot ``botkit run PATH`` serves; the test flows get stub actions and conditions."""
    try:
        return bot_for_flow(path, settings=settings)
    except FlowError as exc:
        if path.parent.name == "bots":
            raise
        names = set(re.findall(r"unknown (action|condition) '([^']+)'", str(exc)))
        bot = Bot(settings)
        for kind, name in names:
            register = bot.action if kind == "action" else bot.condition
            register(name)(lambda ctx: True)
        for file in find_flow_files([path.parent]):
            bot.add_flow(file)
        bot.check_flows()
        return bot


def in_sandbox(bot: Bot) -> SandboxRecorder:
    """Give ``bot`` its sandbox recorder now, with instant status webhooks."""
    recorder = SandboxRecorder(bot, tick_delays=(0.0, 0.0))
    bot.sandbox = recorder
    bot.render_observers.append(recorder.remember)
    return recorder


@asynccontextmanager
async def page(bot: Bot) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``bot`` and talk to its app as the sandbox page does (same origin, JSON)."""
    app = bot.asgi()
    async with bot.running():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            yield http


async def settle(bot: Bot) -> None:
    """Wait for the bot's turns, its sends and the sandbox's status webhooks to finish."""
    assert bot.sandbox is not None
    for _ in range(10):
        await bot.idle()
        await bot.sandbox.settle()
        await bot.idle()
        if not bot.sandbox._ticks:
            return


async def act(http: httpx.AsyncClient, bot: Bot, **action: Any) -> dict[str, Any]:
    """POST one user action to ``/sandbox/send`` and wait for everything it causes."""
    response = await http.post("/sandbox/send", json=action)
    assert response.status_code in (200, 502), response.text
    await settle(bot)
    entry: dict[str, Any] = response.json()
    return entry


async def timeline(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await http.get("/sandbox/messages")
    assert response.status_code == 200
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


@pytest.fixture
def sandbox_bot(tmp_path: Path) -> Callable[..., Bot]:
    """Build a sandbox-mode bot (no credentials) on SQLite, with its recorder ready."""

    def build(**settings: Any) -> Bot:
        settings.setdefault("store", f"sqlite:///{tmp_path / 'sandbox.db'}")
        bot = Bot(Settings(**settings))
        in_sandbox(bot)
        return bot

    return build
