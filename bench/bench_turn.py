"""In-process cost of one turn, against a plain-Python baseline in the same run.

A turn: parse the webhook body, dedupe + commit it to the inbox, load the conversation,
run a decorator handler, render the reply, commit conversation + outbox, and send it
to a fake Messages API transport (an httpx transport answering 202 at once), then mark
it sent.

The baseline does the least a correct bot must: json.loads the body, take a
per-conversation asyncio.Lock, update a dict of state, build the reply dict.

Two more measurements in the same run split botkit's time: the store's own calls for a
turn (accept, load, complete_turn, mark_sent, called directly) and one httpx send to the
same fake transport. "overhead" is what is left: botkit's own code per turn.

Usage:  python bench/bench_turn.py [--turns 5000] [--users 100]
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
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from botkit import Bot, Context, Settings
from botkit.testing import inbound_webhook
from botkit.webhooks import ingest


def bodies(turns: int, users: int) -> list[bytes]:
    now = time.time()
    return [
        json.dumps(
            inbound_webhook(
                "sms", "text", {"text": f"hello {i}"}, user=f"4477009{i % users:05d}", timestamp=now
            )
        ).encode()
        for i in range(turns)
    ]


async def run_baseline(raw: list[bytes]) -> float:
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    state: dict[str, dict[str, Any]] = {}
    sent: list[dict[str, Any]] = []

    async def turn(body: bytes) -> None:
        event = json.loads(body)
        key = f"{event['channel']}:{event['from']}:{event['to']}"
        async with locks[key]:
            data = state.setdefault(key, {"count": 0})
            data["count"] += 1
            sent.append(
                {
                    "to": event["from"],
                    "from": event["to"],
                    "channel": "sms",
                    "message_type": "text",
                    "text": f"#{data['count']} {event['text']}",
                }
            )

    started = time.perf_counter()
    await asyncio.gather(*(turn(b) for b in raw))
    elapsed = time.perf_counter() - started
    assert len(sent) == len(raw)
    return elapsed


class FakeApi(httpx.AsyncBaseTransport):
    """The Messages API at its cheapest: count the request, answer 202."""

    def __init__(self) -> None:
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return httpx.Response(202, content=b'{"message_uuid":"%s"}' % uuid.uuid4().hex.encode())


async def run_botkit(raw: list[bytes], store: str) -> float:
    api = FakeApi()
    bot = Bot(Settings(store=store, api_key="k", api_secret="s"), transport=api)

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        data = ctx.conversation.data
        data["count"] = data.get("count", 0) + 1
        await ctx.reply(f"#{data['count']} {ctx.message.text}")

    async with bot.running():
        started = time.perf_counter()
        for body in raw:
            await ingest(bot, body, None, status=False)
        await bot.idle()
        elapsed = time.perf_counter() - started
    assert api.sent == len(raw), api.sent
    return elapsed


async def run_store_only(raw: list[bytes], url: str) -> float:
    """The store calls of one turn, made directly, for the same events."""
    from botkit.events import parse_body
    from botkit.store import open_store
    from botkit.store.base import NewInboxEntry, NewOutbound

    store = open_store(url)
    await store.open()
    events = [parse_body(b, status=False) for b in raw]
    started = time.perf_counter()
    for event, body in zip(events, raw, strict=True):
        key = event.key
        inbox_id = await store.accept(NewInboxEntry(event.dedupe_key, key, "inbound", body, 0.0))
        assert inbox_id is not None
        conversation = await store.load(key)
        conversation.data["count"] = conversation.data.get("count", 0) + 1
        reply = {
            "to": key.user,
            "from": key.bot,
            "channel": "sms",
            "message_type": "text",
            "text": "x",
            "client_ref": event.message_uuid,
        }
        committed = await store.complete_turn(
            inbox_id, conversation, [NewOutbound(key, reply, event.message_uuid)], now=0.0
        )
        await store.mark_sent(committed.outbound[0].id, "uuid", now=0.0)
    elapsed = time.perf_counter() - started
    await store.close()
    return elapsed


async def run_send_only(count: int) -> float:
    """One httpx send per turn to the same fake transport."""
    from botkit.auth import BasicAuth
    from botkit.client import MessagesClient

    api = FakeApi()
    client = MessagesClient(auth=BasicAuth("k", "s"), transport=api)
    body = {
        "to": "447700900001",
        "from": "447700900000",
        "channel": "sms",
        "message_type": "text",
        "text": "#1 hello",
        "client_ref": "x:0",
    }
    started = time.perf_counter()
    for _ in range(count):
        await client.send(body)
    elapsed = time.perf_counter() - started
    await client.aclose()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=5000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    results: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            raw = bodies(args.turns, args.users)
            results["baseline"].append(await run_baseline(raw))
            results["botkit memory"].append(await run_botkit(raw, "memory://"))
            db = os.path.join(tmp, f"bench{round_}.db")
            results["botkit sqlite"].append(
                await run_botkit(bodies(args.turns, args.users), f"sqlite:///{db}")
            )
            results["store memory"].append(await run_store_only(raw, "memory://"))
            db2 = os.path.join(tmp, f"store{round_}.db")
            results["store sqlite"].append(
                await run_store_only(bodies(args.turns, args.users), f"sqlite:///{db2}")
            )
            results["httpx send"].append(await run_send_only(args.turns))

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {args.turns} turns, "
        f"{args.users} conversations, best of {args.rounds}"
    )
    base = min(results["baseline"]) / args.turns * 1e6
    print(f"{'variant':<16}{'us/turn':>10}{'x baseline':>12}{'median us':>11}")
    for name, times in results.items():
        best = min(times) / args.turns * 1e6
        median = statistics.median(times) / args.turns * 1e6
        print(f"{name:<16}{best:>10.1f}{best / base:>12.1f}{median:>11.1f}")
    per = {name: min(times) / args.turns * 1e6 for name, times in results.items()}
    for store in ("memory", "sqlite"):
        overhead = per[f"botkit {store}"] - per[f"store {store}"] - per["httpx send"]
        print(
            f"overhead ({store}): {overhead:.1f} us/turn = {overhead / base:.1f} x baseline "
            f"(botkit - store calls - httpx send)"
        )


if __name__ == "__main__":
    asyncio.run(main())
