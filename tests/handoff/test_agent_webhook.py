"""The agent webhook over real HTTP: a local receiver checks each event's signature the way
a receiver would (HMAC-SHA256 of the raw body, keyed with the token), and fails at first
so the bot retries with backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from botkit import Bot, Context, FakeClock, Settings
from botkit.handoff.webhooks import verify_signature
from botkit.testing import BotTestClient, FakeSleeper

from .helpers import serve_locally

TOKEN = "hook-signing-token"


@dataclass
class Receiver:
    """What the receiver was sent, and how it answers the next requests."""

    url: str = ""
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    taken: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    """A help desk's webhook endpoint on a free port of 127.0.0.1."""
    seen = Receiver()

    async def hook(request: web.Request) -> web.Response:
        raw = await request.read()  # the raw bytes, before any parsing
        seen.requests.append(({k.lower(): v for k, v in request.headers.items()}, raw))
        expected = "sha256=" + hmac.new(TOKEN.encode(), raw, hashlib.sha256).hexdigest()
        given = request.headers.get("X-Botkit-Signature", "")
        if not hmac.compare_digest(given, expected):
            seen.bad_signatures += 1
            return web.Response(status=401)
        if seen.answers:
            status, headers = seen.answers.pop(0)
            return web.Response(status=status, headers=headers)
        seen.taken.append(json.loads(raw))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks/botkit", hook)
    async with serve_locally(app) as base:
        seen.url = f"{base}/hooks/botkit"
        yield seen


def helpdesk(tmp_path: Path, clock: FakeClock, url: str) -> Bot:
    settings = Settings(store=f"sqlite:///{tmp_path / 'bot.db'}", agent_token=TOKEN,
                        agent_webhook_url=url)
    bot = Bot(settings, clock=clock, sleep=FakeSleeper(clock))

    @bot.on_text(r"(?i)\bhuman\b")
    async def human(ctx: Context) -> None:
        await ctx.handoff(reason="asked")

    @bot.on_message()
    async def echo(ctx: Context) -> None:
        await ctx.reply("echo")

    return bot


async def test_events_are_signed_and_retried_with_backoff_until_taken(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with receiver() as desk:
        # The help desk is down, then busy (it asks for 7 s), then takes everything.
        desk.answers = [(503, {}), (429, {"Retry-After": "7"})]
        bot = helpdesk(tmp_path, clock, desk.url)
        sleeper = bot.sleep
        assert isinstance(sleeper, FakeSleeper)
        async with BotTestClient(bot) as client:
            await client.send("human please", channel="whatsapp")
            await client.send("hello?", channel="whatsapp")
            [sent] = await client.agent("Hi, Anna here", channel="whatsapp")
            await client.delivered(sent)
            await client.hand_back(channel="whatsapp")

    assert desk.bad_signatures == 0
    assert [e["type"] for e in desk.taken] == [
        "handoff.started", "message.received", "message.status", "handoff.released"]
    # The first event was tried three times, with the same id and the same signed body.
    first = [(h, raw) for h, raw in desk.requests if h["x-botkit-event"] == "handoff.started"]
    assert len(first) == 3
    assert len({h["x-botkit-delivery"] for h, _ in first}) == 1
    assert len({raw for _, raw in first}) == 1
    assert first[0][0]["content-type"] == "application/json"
    assert verify_signature(first[0][1], first[0][0]["x-botkit-signature"], TOKEN)
    assert not verify_signature(first[0][1] + b" ", first[0][0]["x-botkit-signature"], TOKEN)
    # Backoff: a wait after the 503, and at least what the 429 asked for after it.
    retry_waits = sleeper.slept[:2]
    assert retry_waits[0] > 0 and retry_waits[1] >= 7
    assert bot.metrics["agent_event_retry"] == 2
    assert bot.metrics["agent_event_sent"] == 8  # 4 here, 4 to the test client's own sink
    status = desk.taken[2]["data"]
    assert status["status"] == "delivered" and status["client_ref"] == sent["client_ref"]
    received = desk.taken[1]
    assert received["data"]["message"]["text"] == "hello?"
    assert received["conversation"]["channel"] == "whatsapp"
    assert received["id"].startswith("evt_") and received["created_at"].endswith("Z")


async def test_a_refusal_that_will_not_change_is_not_retried(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with receiver() as desk:
        desk.answers = [(400, {})]
        bot = helpdesk(tmp_path, clock, desk.url)
        async with BotTestClient(bot) as client:
            await client.send("human", channel="sms")
            await client.send("anyone?", channel="sms")

    assert len(desk.requests) == 2  # one try each: the 400 was final
    assert [e["type"] for e in desk.taken] == ["message.received"]
    assert bot.metrics["agent_event_failed"] == 1
    assert bot.metrics["agent_event_retry"] == 0


async def test_a_receiver_with_another_token_sees_a_bad_signature(
    tmp_path: Path, clock: FakeClock
) -> None:
    check: Callable[[bytes, str | None, str], bool] = verify_signature
    async with receiver() as desk:
        bot = helpdesk(tmp_path, clock, desk.url)
        async with BotTestClient(bot) as client:
            await client.send("human", channel="sms")
    [(headers, raw)] = desk.requests
    assert check(raw, headers["x-botkit-signature"], TOKEN)
    assert not check(raw, headers["x-botkit-signature"], "another-token")
    assert not check(raw, None, TOKEN)
