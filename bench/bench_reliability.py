"""Benchmark: botkit's reliability at full scale, and its throughput against bare endpoints.

Everything runs as real processes on 127.0.0.1: bots are served by ``botkit run``
(uvicorn, one process), the Messages API is the fault-knob fake of the reliability tests
(``tests/reliability/fake_api.py``), and this process is the load generator (aiohttp,
bounded concurrency, bodies built and signed before the clock starts).

Parts (``--parts``, default all):

* ``throughput``: in one run, taking turns for ``--rounds`` rounds (best round shown):

  (a) **acknowledging**: ``--messages-throughput`` signed webhooks (``--conversations``
      users) at ``--concurrency``, to botkit (signature check, dedupe, inbox commit on
      SQLite; its handler counts and records but sends nothing) against a bare Starlette
      endpoint that parses the JSON and answers 200. Figure: webhooks acknowledged per
      second; target >= 0.5x bare, below 0.25x is a failure.
  (b) **webhook -> reply**: the same load to botkit's echo bot (SQLite) against a bare
      Starlette endpoint that parses, answers 200 and puts the echo on a bounded
      in-memory queue (1,000) drained by ``--bare-senders`` tasks through the same HTTP
      transport (``MessagesClient`` on aiohttp). Figure: replies accepted by the fake
      API per second, from the first webhook to the last reply; target >= 0.7x.

  Both bare endpoints are served by ``botkit run`` too (it serves any ASGI app), so the
  server, its options and its access log are the same, and they get the same signed
  requests as botkit (they ignore the signature). Besides throughput, the CPU time the
  server process used (all its threads, from ``/proc``; for botkit until its turns and
  sends are done) is reported per webhook: the
  load generator, the server and the fake API share the machine's cores, so throughput
  alone depends on what else runs.
* ``b4``: B4 at full scale: ``--messages`` inbound (1,000 users x 10), 20% redelivered
  1-5 times, shuffled, at ``--concurrency``.
* ``d5``: D5 at full scale: the API down ``--outage`` seconds (503) while ``--replies``
  replies are due.
* ``e1``: E1 at full scale: ``--kills`` kills per store (SQLite, Redis), 100 users x 10
  messages per round.

Usage::

    python bench/bench_reliability.py                       # everything, full scale
    python bench/bench_reliability.py --parts throughput    # about a minute
    python bench/bench_reliability.py --parts e1 --kills 10 --stores sqlite

Redis is the server at ``BOTKIT_TEST_REDIS`` (default ``redis://127.0.0.1:6379/15``);
each part uses a fresh key prefix and deletes it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from botkit.auth import BasicAuth  # noqa: E402
from botkit.client import MessagesClient  # noqa: E402
from botkit.errors import MessagesApiError  # noqa: E402
from botkit.transports import make_transport  # noqa: E402
from tests.reliability.harness import (  # noqa: E402
    ECHO,
    SECRET,
    BotProcess,
    Delivery,
    FakeApi,
    StoreSpec,
    bot_env,
    deliver,
    percentile,
    text_delivery,
    until,
)
from tests.reliability.scenarios import e1_table, run_b4, run_d5, run_e1  # noqa: E402

__all__ = ["bare_ack", "bare_echo", "main"]

BARE_QUEUE = 1_000
THIS = "bench/bench_reliability.py"


# -- the bare baselines (served by `botkit run bench/bench_reliability.py:bare_ack`) ----


async def _healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _bare_ack_inbound(request: Request) -> Response:
    json.loads(await request.body())
    return Response(status_code=200)


bare_ack = Starlette(
    routes=[
        Route("/webhooks/inbound", _bare_ack_inbound, methods=["POST"]),
        Route("/healthz", _healthz, methods=["GET"]),
    ]
)
"""Parse the JSON body, answer 200: the least a webhook endpoint can do."""


def _bare_echo_app() -> Starlette:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=BARE_QUEUE)
    senders = int(os.environ.get("BENCH_BARE_SENDERS", "16"))

    async def inbound(request: Request) -> Response:
        data = json.loads(await request.body())
        await queue.put(
            {
                "to": data["from"],
                "from": data["to"],
                "channel": "sms",
                "message_type": "text",
                "text": f"1 {data.get('text', '')}",
                "client_ref": f"{data['message_uuid']}:0",
            }
        )
        return Response(status_code=200)

    async def send(client: MessagesClient) -> None:
        while True:
            body = await queue.get()
            with contextlib.suppress(MessagesApiError):
                await client.send(body)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = MessagesClient(
            auth=BasicAuth(os.environ["VONAGE_API_KEY"], os.environ["VONAGE_API_SECRET"]),
            url=os.environ["VONAGE_MESSAGES_URL"],
            transport=make_transport("aiohttp"),
        )
        tasks = [asyncio.create_task(send(client)) for _ in range(senders)]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await client.aclose()

    return Starlette(
        routes=[
            Route("/webhooks/inbound", inbound, methods=["POST"]),
            Route("/healthz", _healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


bare_echo = _bare_echo_app()
"""Parse, answer 200, and send the echo from a bounded in-memory queue (not durable)."""


# -- throughput -------------------------------------------------------------------------


@dataclass
class Phase:
    """One measured load against one server."""

    name: str
    acks_per_s: float
    replies_per_s: float | None
    ack_p50_ms: float
    ack_p99_ms: float
    client_cpu_share: float
    server_cpu_ms: float
    non_200: int


def _signed(name: str) -> bool:
    # The bare endpoints get the same signed requests as botkit, as Vonage sends them.
    return "unsigned" not in name


def _process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system, all threads) the process has used so far."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load(messages: int, conversations: int, *, signed: bool) -> list[Delivery]:
    secret = SECRET if signed else None
    return [
        text_delivery(f"4478{(i % conversations):08d}", f"hello {i}", secret=secret)
        for i in range(messages)
    ]


async def _measure(
    name: str,
    server: BotProcess,
    api: FakeApi,
    deliveries: list[Delivery],
    concurrency: int,
    *,
    replies: bool,
) -> Phase:
    before = api.stats()["distinct"]
    server_cpu = _process_cpu(server.pid)
    cpu = time.process_time()
    started = time.monotonic()
    outcomes = await deliver(server.url, deliveries, concurrency=concurrency, timeout=60)
    acked = time.monotonic() - started
    client_cpu = time.process_time() - cpu
    replied = None
    if replies:
        target = before + len(deliveries)
        await until(
            lambda: api.stats()["distinct"] >= target, timeout=300, interval=0.02, what=name
        )
        replied = time.monotonic() - started
    if name.startswith("botkit"):
        # Its turns (and sends) may still run after the last 200: they are part of the
        # work per webhook. The throughput figures above do not wait for them.
        await _idle(server)
    # Until the last reply for the echo servers, and until idle for botkit's.
    server_cpu = _process_cpu(server.pid) - server_cpu
    latencies = [o.seconds for o in outcomes]
    return Phase(
        name=name,
        acks_per_s=len(deliveries) / acked,
        replies_per_s=None if replied is None else len(deliveries) / replied,
        ack_p50_ms=statistics.median(latencies) * 1000,
        ack_p99_ms=percentile(latencies, 0.99) * 1000,
        client_cpu_share=client_cpu / acked,
        server_cpu_ms=server_cpu * 1000 / len(deliveries),
        non_200=sum(1 for o in outcomes if o.status != 200),
    )


async def _idle(server: BotProcess) -> None:
    """Wait until a botkit server has processed and sent everything it accepted."""
    await until(
        lambda: (
            (m := server.metrics())["botkit_turns_pending"] == 0 and m["botkit_sends_pending"] == 0
        ),
        timeout=300,
        interval=0.05,
    )


async def throughput(args: argparse.Namespace, work: Path) -> list[str]:
    """Part (a) and (b), side by side, best of ``args.rounds`` rounds."""
    lines: list[str] = []
    with FakeApi(work) as api:
        common = {"BENCH_BARE_SENDERS": str(args.bare_senders)}
        signed = {"VONAGE_SIGNATURE_SECRET": SECRET}
        servers = {
            "bare ack": BotProcess(
                {**bot_env(api=api, store="memory://"), **common},
                work,
                target=f"{THIS}:bare_ack",
                name="bare-ack",
            ),
            "botkit ack": BotProcess(
                {
                    **bot_env(
                        api=api, store=f"sqlite:///{work / 'ack.db'}", RELIABILITY_NO_REPLY="1"
                    ),
                    **signed,
                },
                work,
                target=ECHO,
                name="botkit-ack",
            ),
            "bare echo_queue": BotProcess(
                {**bot_env(api=api, store="memory://"), **common},
                work,
                target=f"{THIS}:bare_echo",
                name="bare-echo",
            ),
            "botkit echo": BotProcess(
                {**bot_env(api=api, store=f"sqlite:///{work / 'echo.db'}"), **signed},
                work,
                target=ECHO,
                name="botkit-echo",
            ),
            # Not in the ratios: what the signature check costs of the figures above.
            "botkit ack, unsigned": BotProcess(
                bot_env(api=api, store=f"sqlite:///{work / 'ack2.db'}", RELIABILITY_NO_REPLY="1"),
                work,
                target=ECHO,
                name="botkit-ack-unsigned",
            ),
            "botkit echo, unsigned": BotProcess(
                bot_env(api=api, store=f"sqlite:///{work / 'echo2.db'}"),
                work,
                target=ECHO,
                name="botkit-echo-unsigned",
            ),
        }
        try:
            for server in servers.values():
                server.start()
            # Warm-up: connections open, code paths taken, SQLite files grown a little.
            for name, server in servers.items():
                warm = _load(500, 50, signed=_signed(name))
                await deliver(server.url, warm, concurrency=args.concurrency)
                if "botkit" in name:
                    await _idle(server)
            await asyncio.sleep(1)
            best: dict[str, Phase] = {}
            for round_number in range(1, args.rounds + 1):
                for name, server in servers.items():
                    deliveries = _load(
                        args.messages_throughput, args.conversations, signed=_signed(name)
                    )
                    phase = await _measure(
                        name,
                        server,
                        api,
                        deliveries,
                        args.concurrency,
                        replies="echo" in name,
                    )
                    if "botkit" in name:
                        await _idle(server)
                    print(
                        f"round {round_number} {name}: {phase.acks_per_s:.0f} acks/s"
                        + (f", {phase.replies_per_s:.0f} replies/s" if phase.replies_per_s else "")
                        + f", server CPU {phase.server_cpu_ms:.3f} ms/webhook",
                        flush=True,
                    )
                    key = phase.replies_per_s if phase.replies_per_s else phase.acks_per_s
                    old = best.get(name)
                    if old is None or key > (old.replies_per_s or old.acks_per_s):
                        best[name] = phase
        finally:
            for server in servers.values():
                server.close()

    lines.append(
        f"throughput: {args.messages_throughput} webhooks per measurement "
        f"({args.conversations} users), concurrency {args.concurrency}, best of "
        f"{args.rounds} rounds; bare echo_queue: queue {BARE_QUEUE}, "
        f"{args.bare_senders} senders"
    )
    lines.append("")
    lines.append(
        "| server | acks/s | replies/s | ack p50 ms | ack p99 ms | non-200 | client CPU "
        "| server CPU ms/webhook |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in servers:
        p = best[name]
        replies = f"{p.replies_per_s:,.0f}" if p.replies_per_s else "-"
        lines.append(
            f"| {name} | {p.acks_per_s:,.0f} | {replies} | {p.ack_p50_ms:.1f} | "
            f"{p.ack_p99_ms:.1f} | {p.non_200} | {p.client_cpu_share:.0%} | "
            f"{p.server_cpu_ms:.3f} |"
        )
    ack = best["botkit ack"].acks_per_s / best["bare ack"].acks_per_s
    echo_bare = best["bare echo_queue"].replies_per_s or 1.0
    echo = (best["botkit echo"].replies_per_s or 0.0) / echo_bare
    lines.append("")
    lines.append(
        f"(a) acknowledging: botkit / bare = {ack:.2f}x (target >= 0.5x, failure < 0.25x): "
        f"{'PASS' if ack >= 0.5 else 'BELOW TARGET' if ack >= 0.25 else 'FAIL'}"
    )
    lines.append(
        f"(b) webhook -> reply: botkit / bare = {echo:.2f}x (target >= 0.7x): "
        f"{'PASS' if echo >= 0.7 else 'BELOW TARGET'}"
    )
    # The same comparison in CPU: bare's server CPU per webhook over botkit's (the best
    # rounds above), independent of what the load generator and the fake API take.
    for label, bare_name, botkit_name in (
        ("(a)", "bare ack", "botkit ack"),
        ("(b)", "bare echo_queue", "botkit echo"),
    ):
        bare_cpu, botkit_cpu = best[bare_name].server_cpu_ms, best[botkit_name].server_cpu_ms
        lines.append(
            f"{label} server CPU per webhook: bare {bare_cpu:.3f} ms, botkit {botkit_cpu:.3f} ms "
            f"(bare / botkit = {bare_cpu / botkit_cpu if botkit_cpu else 0.0:.2f}x)"
        )
    return lines


# -- the full-scale scenarios -----------------------------------------------------------


@contextlib.contextmanager
def _store(kind: str, work: Path, name: str) -> Iterator[StoreSpec]:
    if kind == "sqlite":
        yield StoreSpec("sqlite", f"sqlite:///{work / (name + '.db')}")
        return
    import redis

    url = os.environ.get("BOTKIT_TEST_REDIS") or "redis://127.0.0.1:6379/15"
    prefix = f"botkit-bench:{uuid.uuid4().hex}:"
    try:
        yield StoreSpec("redis", url, prefix)
    finally:
        with redis.Redis.from_url(url) as client:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)


async def b4(args: argparse.Namespace, work: Path) -> list[str]:
    lines = []
    for kind in args.stores:
        with FakeApi(work) as api, _store(kind, work, "b4") as store:
            r = await run_b4(
                api,
                store,
                work,
                messages=args.messages,
                conversations=args.messages // 10,
                concurrency=args.concurrency,
            )
        lines.append(
            f"B4 {kind}: {r.messages:,} messages + {r.redeliveries:,} redeliveries, shuffled, "
            f"c{args.concurrency}: statuses {dict(r.statuses)}; replies accepted "
            f"{r.accepted:,}, duplicates {r.duplicates}, missing {r.missing}; handler "
            f"overlaps {r.overlaps}, conversations with a wrong count {r.bad_counts}; all "
            f"acknowledged in {r.seconds_to_ack:.1f} s, all answered in "
            f"{r.seconds_to_reply:.1f} s ({r.messages / r.seconds_to_reply:,.0f} messages/s)"
        )
        print(lines[-1], flush=True)
    return lines


async def d5(args: argparse.Namespace, work: Path) -> list[str]:
    with FakeApi(work) as api, _store("sqlite", work, "d5") as store:
        r = await run_d5(api, store, work, replies=args.replies, outage=args.outage)
    line = (
        f"D5 sqlite: API down {r.outage:.0f} s (503) while {r.replies:,} replies were due: "
        f"webhooks {dict(r.statuses)} in {r.seconds_to_ack:.1f} s, ack p99 "
        f"{r.ack_p99 * 1000:.0f} ms; {r.retries_during:,.0f} retries during the outage; after "
        f"recovery {r.delivered:,} delivered in {r.seconds_to_deliver:.1f} s, given up "
        f"{r.given_up:.0f}, duplicates {r.duplicates}"
    )
    print(line, flush=True)
    return [line]


async def e1(args: argparse.Namespace, work: Path) -> list[str]:
    lines = []
    for kind in args.stores:
        with FakeApi(work) as api, _store(kind, work, "e1") as store:
            results = await run_e1(api, store, work, rounds=args.kills, users=100, seed=50)
        table = e1_table(kind, results)
        print(table, flush=True)
        lines += [f"E1 {kind}: {args.kills} kills, 100 users x 10 messages per round", table]
    return lines


def _machine() -> str:
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("uvicorn", "starlette", "aiohttp", "redis")
    )
    return (
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python "
        f"{platform.python_version()}, {versions}"
    )


async def _main(args: argparse.Namespace) -> int:
    parts = {"throughput": throughput, "b4": b4, "d5": d5, "e1": e1}
    report = [f"machine: {_machine()}"]
    with tempfile.TemporaryDirectory(prefix="bench-reliability-") as tmp:
        work = Path(tmp)
        for name in args.parts:
            started = time.monotonic()
            print(f"== {name}", flush=True)
            report += ["", f"== {name}"]
            report += await parts[name](args, work)
            report.append(f"({name} took {time.monotonic() - started:.0f} s)")
    print("\n".join(report))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["throughput", "b4", "d5", "e1"],
        choices=["throughput", "b4", "d5", "e1"],
    )
    parser.add_argument("--stores", nargs="+", default=["sqlite", "redis"])
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--messages-throughput", type=int, default=6_000)
    parser.add_argument("--conversations", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bare-senders", type=int, default=16)
    parser.add_argument("--messages", type=int, default=10_000, help="B4")
    parser.add_argument("--replies", type=int, default=1_000, help="D5")
    parser.add_argument("--outage", type=float, default=60.0, help="D5, seconds")
    parser.add_argument("--kills", type=int, default=50, help="E1, per store")
    return asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
