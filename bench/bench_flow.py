"""A YAML flow step against a decorator handler doing the same, on the same pipeline.

Both bots run the whole turn (parse, inbox, route, render, store, send to a fake
transport) on the memory store; the flow is a 30-state cycle where each message moves
to the next state and says its text, and the decorator bot keeps the same state name in
the conversation and says the same text. A third measurement times the routing step
alone (``Route.dispatch`` on a ready Context, no store, no send), which is the flow
engine's own cost. Flow compile time (load + validate + build the machine) is measured
too.

Usage:  python bench/bench_flow.py [--turns 3000] [--states 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from botkit import Bot, Context, Settings
from botkit.events import parse_body
from botkit.flows import load_flow
from botkit.flows.engine import compile_flow
from botkit.store.base import Conversation
from botkit.testing import inbound_webhook
from botkit.webhooks import ingest


def flow_text(states: int) -> str:
    lines = ["flow: cycle", "start: s0", "states:"]
    for i in range(states):
        lines += [
            f"  s{i}:",
            f'    say: "State {i}: say anything"',
            "    on:",
            f'      - {{text: ".", goto: s{(i + 1) % states}}}',
        ]
    return "\n".join(lines) + "\n"


class FakeApi(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(202, content=b'{"message_uuid":"%s"}' % uuid.uuid4().hex.encode())


def bodies(turns: int, users: int) -> list[bytes]:
    now = time.time()
    return [
        json.dumps(
            inbound_webhook(
                "sms", "text", {"text": f"go {i}"}, user=f"4477009{i % users:05d}", timestamp=now
            )
        ).encode()
        for i in range(turns)
    ]


def decorator_bot(states: int) -> Bot:
    bot = Bot(Settings(store="memory://", api_key="k", api_secret="s"), transport=FakeApi())

    @bot.on_text(".")
    async def step(ctx: Context) -> None:
        current = int((ctx.conversation.state or "s0").removeprefix("s"))
        following = (current + 1) % states
        ctx.conversation.state = f"s{following}"
        await ctx.reply(f"State {following}: say anything")

    return bot


def flow_bot(path: Path) -> Bot:
    bot = Bot(Settings(store="memory://", api_key="k", api_secret="s"), transport=FakeApi())
    bot.add_flow(path)
    return bot


async def run_pipeline(bot: Bot, raw: list[bytes]) -> float:
    async with bot.running():
        started = time.perf_counter()
        for body in raw:
            await ingest(bot, body, None, status=False)
        await bot.idle()
        return time.perf_counter() - started


async def run_dispatch(bot: Bot, raw: list[bytes]) -> float:
    """Routing alone: the same events through Route.dispatch, conversations kept in a dict."""
    events = [parse_body(b, status=False) for b in raw]
    conversations: dict[object, Conversation] = {}
    started = time.perf_counter()
    for event in events:
        conversation = conversations.setdefault(event.key, Conversation(event.key))
        ctx = Context(event, conversation, bot)
        handled = await bot.dispatch(ctx)
        assert handled
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=3000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--states", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cycle.yaml"
        path.write_text(flow_text(args.states))
        compile_times = []
        for _ in range(20):
            started = time.perf_counter()
            compile_flow(load_flow(path))
            compile_times.append(time.perf_counter() - started)

        results: dict[str, list[float]] = {
            k: [] for k in ("decorator turn", "flow turn", "decorator dispatch", "flow dispatch")
        }
        for _ in range(args.rounds):
            raw = bodies(args.turns, args.users)
            results["decorator turn"].append(await run_pipeline(decorator_bot(args.states), raw))
            results["flow turn"].append(await run_pipeline(flow_bot(path), raw))
            results["decorator dispatch"].append(
                await run_dispatch(decorator_bot(args.states), raw)
            )
            results["flow dispatch"].append(await run_dispatch(flow_bot(path), raw))

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {args.turns} turns, "
        f"{args.users} conversations, {args.states}-state flow, best of {args.rounds}"
    )
    print(
        f"flow compile (load + validate + machine): best {min(compile_times) * 1e3:.2f} ms, "
        f"median {statistics.median(compile_times) * 1e3:.2f} ms"
    )
    per = {k: min(v) / args.turns * 1e6 for k, v in results.items()}
    for name, value in per.items():
        print(f"{name:<20}{value:>9.1f} us/event")
    print(f"flow / decorator, whole turn: {per['flow turn'] / per['decorator turn']:.2f}x")
    print(
        f"flow / decorator, routing only: {per['flow dispatch'] / per['decorator dispatch']:.2f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())
