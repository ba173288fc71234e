"""The throughput part of ``bench/bench_reliability.py``: botkit on each store against
bare endpoints, with the CPU time each server (and PostgreSQL's backends) used.

See that script's docstring for what is measured; the bare endpoints themselves live
there (``botkit run`` serves them from it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from _bench_stores import bench_store, cpu_between, postgres_cpu

from tests.reliability.harness import (
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

__all__ = ["BARE_QUEUE", "Phase", "throughput"]

BARE_QUEUE = 1_000
THIS = "bench/bench_reliability.py"


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
    store_cpu_ms: float | None = None  # PostgreSQL's backends serving the bot, per webhook


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
    store: StoreSpec | None = None,
) -> Phase:
    before = api.stats()["distinct"]
    server_cpu = _process_cpu(server.pid)
    store_cpu = postgres_cpu(store)
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
    store_seconds = cpu_between(store_cpu, postgres_cpu(store)) if store_cpu else None
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
        store_cpu_ms=None if store_seconds is None else store_seconds * 1000 / len(deliveries),
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


def _botkit_servers(
    api: FakeApi, work: Path, stores: dict[str, StoreSpec]
) -> dict[str, tuple[BotProcess, StoreSpec]]:
    """botkit's ack and echo servers on each store, and on SQLite without signatures."""
    signed = {"VONAGE_SIGNATURE_SECRET": SECRET}
    servers: dict[str, tuple[BotProcess, StoreSpec]] = {}
    for name, store in stores.items():
        kind, _, role = name.partition(" ")
        env = bot_env(api=api, store=store.url, redis_prefix=store.redis_prefix)
        if "ack" in role:
            env["RELIABILITY_NO_REPLY"] = "1"
        if "unsigned" not in role:
            env.update(signed)
        label = f"botkit {role} ({kind})".replace(", unsigned (sqlite)", " (sqlite), unsigned")
        server = BotProcess(env, work, target=ECHO, name=f"botkit-{kind}-{role[:4]}")
        servers[label] = (server, store)
    return servers


async def throughput(args: argparse.Namespace, work: Path) -> list[str]:
    """Part (a) and (b), side by side, best of ``args.rounds`` rounds, for botkit on
    each of ``args.throughput_stores``."""
    lines: list[str] = []
    roles = ["ack", "echo"]
    wanted = [f"{kind} {role}" for kind in args.throughput_stores for role in roles]
    if "sqlite" in args.throughput_stores:  # what the signature check costs
        wanted += ["sqlite ack, unsigned", "sqlite echo, unsigned"]
    with FakeApi(work) as api, contextlib.ExitStack() as stack:
        stores = {
            name: stack.enter_context(bench_store(name.split()[0], work, f"t{n}"))
            for n, name in enumerate(wanted)
        }
        common = {"BENCH_BARE_SENDERS": str(args.bare_senders)}
        servers: dict[str, tuple[BotProcess, StoreSpec | None]] = {
            "bare ack": (
                BotProcess(
                    {**bot_env(api=api, store="memory://"), **common},
                    work,
                    target=f"{THIS}:bare_ack",
                    name="bare-ack",
                ),
                None,
            ),
            "bare echo_queue": (
                BotProcess(
                    {**bot_env(api=api, store="memory://"), **common},
                    work,
                    target=f"{THIS}:bare_echo",
                    name="bare-echo",
                ),
                None,
            ),
            **_botkit_servers(api, work, stores),
        }
        try:
            for server, _ in servers.values():
                server.start()
            # Warm-up: connections open, code paths taken, store files grown a little.
            for name, (server, _) in servers.items():
                warm = _load(500, 50, signed=_signed(name))
                await deliver(server.url, warm, concurrency=args.concurrency)
                if "botkit" in name:
                    await _idle(server)
            await asyncio.sleep(1)
            best: dict[str, Phase] = {}
            for round_number in range(1, args.rounds + 1):
                for name, (server, store) in servers.items():
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
                        store=store,
                    )
                    if "botkit" in name:
                        await _idle(server)
                    print(
                        f"round {round_number} {name}: {phase.acks_per_s:.0f} acks/s"
                        + (f", {phase.replies_per_s:.0f} replies/s" if phase.replies_per_s else "")
                        + f", server CPU {phase.server_cpu_ms:.3f} ms/webhook"
                        + (
                            f", PostgreSQL CPU {phase.store_cpu_ms:.3f} ms/webhook"
                            if phase.store_cpu_ms is not None
                            else ""
                        ),
                        flush=True,
                    )
                    key = phase.replies_per_s if phase.replies_per_s else phase.acks_per_s
                    old = best.get(name)
                    if old is None or key > (old.replies_per_s or old.acks_per_s):
                        best[name] = phase
        finally:
            for server, _ in servers.values():
                server.close()
    return lines + _throughput_report(args, best)


def _throughput_report(args: argparse.Namespace, best: dict[str, Phase]) -> list[str]:
    lines = [
        f"throughput: {args.messages_throughput} webhooks per measurement "
        f"({args.conversations} users), concurrency {args.concurrency}, best of "
        f"{args.rounds} rounds; bare echo_queue: queue {BARE_QUEUE}, "
        f"{args.bare_senders} senders",
        "",
        "| server | acks/s | replies/s | ack p50 ms | ack p99 ms | non-200 | client CPU "
        "| server CPU ms/webhook | PostgreSQL CPU ms/webhook |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, p in best.items():
        replies = f"{p.replies_per_s:,.0f}" if p.replies_per_s else "-"
        store_cpu = "-" if p.store_cpu_ms is None else f"{p.store_cpu_ms:.3f}"
        lines.append(
            f"| {name} | {p.acks_per_s:,.0f} | {replies} | {p.ack_p50_ms:.1f} | "
            f"{p.ack_p99_ms:.1f} | {p.non_200} | {p.client_cpu_share:.0%} | "
            f"{p.server_cpu_ms:.3f} | {store_cpu} |"
        )
    lines.append("")
    echo_bare = best["bare echo_queue"].replies_per_s or 1.0
    for kind in args.throughput_stores:
        ack = best[f"botkit ack ({kind})"].acks_per_s / best["bare ack"].acks_per_s
        echo = (best[f"botkit echo ({kind})"].replies_per_s or 0.0) / echo_bare
        lines.append(
            f"(a) acknowledging, {kind}: botkit / bare = {ack:.2f}x (target >= 0.5x, failure "
            f"< 0.25x): {'PASS' if ack >= 0.5 else 'BELOW TARGET' if ack >= 0.25 else 'FAIL'}"
        )
        lines.append(
            f"(b) webhook -> reply, {kind}: botkit / bare = {echo:.2f}x (target >= 0.7x): "
            f"{'PASS' if echo >= 0.7 else 'BELOW TARGET'}"
        )
        # The same comparison in CPU: bare's server CPU per webhook over botkit's (the
        # best rounds above), independent of what the load generator and the fake API
        # take; PostgreSQL's backends are added to botkit's, as SQLite's work is in it.
        pairs = (("(a)", "bare ack", "ack"), ("(b)", "bare echo_queue", "echo"))
        for label, bare_name, role in pairs:
            phase = best[f"botkit {role} ({kind})"]
            bare_cpu = best[bare_name].server_cpu_ms
            botkit_cpu = phase.server_cpu_ms + (phase.store_cpu_ms or 0.0)
            lines.append(
                f"{label} server CPU per webhook, {kind}: bare {bare_cpu:.3f} ms, botkit "
                f"{botkit_cpu:.3f} ms (bare / botkit = "
                f"{bare_cpu / botkit_cpu if botkit_cpu else 0.0:.2f}x)"
            )
    return lines
