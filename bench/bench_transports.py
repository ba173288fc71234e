"""Benchmark: the Messages client over httpx's own transport versus aiohttp's.

Starts the local fake Messages API (``bench/_fake_api.py``) in a subprocess, then
sends through a real :class:`botkit.client.MessagesClient` with each transport and
measures, in the same run, with 1, 16 and 64 sends in flight (a fixed number of
sends each time):

* CPU time per send: the client process's CPU time (``time.process_time``) divided
  by the number of sends. At 1 in flight these are N sequential sends; this is what a
  bot pays per message whatever the network does.
* Throughput (sends per second of wall-clock time) and the p50/p99 of each send's
  duration.

Each transport first makes a few hundred unmeasured sends, and each width is preceded
by a short unmeasured burst at that width, so connections are open before measuring.
The transports take turns, for ``--rounds`` rounds, and the table shows each one's
best round (lowest CPU; highest throughput, with that round's latencies), because on
a shared machine other processes can only make a round worse. The CPU that other
processes used meanwhile is printed too (Linux), as is the fake API's CPU per send.

Usage::

    python bench/bench_transports.py [--sends N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _fake_api import fetch_stats, running_fake_api

from botkit.auth import BasicAuth
from botkit.client import MessagesClient
from botkit.transports import make_transport

__all__ = ["Phase", "main", "run_round"]

KINDS = ("httpx", "aiohttp")
CONCURRENCY = (1, 16, 64)
WARMUP = 300
BODY = {
    "to": "447700900001",
    "from": "447700900000",
    "channel": "sms",
    "message_type": "text",
    "text": "Your table for two is ready. Reply STOP to opt out.",
    "client_ref": "bench",
}


@dataclass
class Phase:
    """One measurement: ``sends`` sends by one transport with ``width`` in flight."""

    kind: str
    width: int
    cpu_ms: float
    server_cpu_ms: float
    throughput: float
    p50_ms: float
    p99_ms: float


@dataclass
class _Load:
    """Machine-wide busy CPU seconds, from /proc/stat (Linux only)."""

    busy: float | None = field(default_factory=lambda: _busy_seconds())


def _busy_seconds() -> float | None:
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / ticks


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _phase(client: MessagesClient, url: str, kind: str, sends: int, width: int) -> Phase:
    latencies: list[float] = []
    remaining = sends

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            began = time.perf_counter()
            await client.send(BODY)
            latencies.append(time.perf_counter() - began)

    server_before = fetch_stats(url)
    cpu_before = time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(width)))
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_before
    server_after = fetch_stats(url)
    return Phase(
        kind=kind,
        width=width,
        cpu_ms=cpu / sends * 1000,
        server_cpu_ms=(server_after.cpu - server_before.cpu) / sends * 1000,
        throughput=sends / wall,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
    )


async def run_round(url: str, kind: str, sends: int) -> list[Phase]:
    """Measure one transport at every concurrency against the fake API at ``url``."""
    transport = make_transport(kind)
    async with MessagesClient(auth=BasicAuth("bench", "bench"), url=url, transport=transport) as c:
        for _ in range(WARMUP):
            await c.send(BODY)
        phases = []
        # Narrowest first, so the sequential phase runs on a pool of one connection, as
        # in a quiet bot; each wider phase first opens its connections, unmeasured.
        for width in CONCURRENCY:
            await _phase(c, url, kind, width * 4, width)
            phases.append(await _phase(c, url, kind, sends, width))
        return phases


def _best(phases: list[Phase], kind: str, width: int) -> tuple[Phase, float]:
    mine = [p for p in phases if p.kind == kind and p.width == width]
    fastest = max(mine, key=lambda p: p.throughput)
    return fastest, min(p.cpu_ms for p in mine)


def _report(phases: list[Phase], kinds: list[str], sends: int, rounds: int, other: str) -> None:
    names = ("httpx", "httpcore", "aiohttp", "httpx-aiohttp")
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in names)
    print(
        f"machine: nproc={os.cpu_count()}, Python {platform.python_version()} "
        f"({platform.machine()}, {platform.system()}); {other}"
    )
    print(f"packages: {versions}")
    print(f"{sends} sends per measurement, best of {rounds} rounds, after {WARMUP} warm-up sends\n")
    header = f"{'transport':<9} {'in flight':>9} {'CPU ms/send':>11} {'send/s':>7}"
    header += f" {'p50 ms':>7} {'p99 ms':>7} {'server CPU ms/send':>18}"
    print(header)
    print("-" * len(header))
    for kind in kinds:
        for width in CONCURRENCY:
            fastest, cpu = _best(phases, kind, width)
            print(
                f"{kind:<9} {width:>9} {cpu:>11.3f} {fastest.throughput:>7.0f}"
                f" {fastest.p50_ms:>7.2f} {fastest.p99_ms:>7.2f} {fastest.server_cpu_ms:>18.3f}"
            )
    if {"httpx", "aiohttp"} <= set(kinds):
        print("\naiohttp/httpx ratios:")
        for width in CONCURRENCY:
            a, a_cpu = _best(phases, "aiohttp", width)
            h, h_cpu = _best(phases, "httpx", width)
            print(
                f"  {width:>2} in flight: CPU per send x{a_cpu / h_cpu:.2f}, "
                f"throughput x{a.throughput / h.throughput:.2f}, p99 x{a.p99_ms / h.p99_ms:.2f}"
            )


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Compare outbound HTTP transports.")
    parser.add_argument("--sends", type=int, default=3000, help="sends per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="turns each transport takes")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    args = parser.parse_args(argv)
    phases: list[Phase] = []
    load_before, cpu_before, wall_before = _Load(), time.process_time(), time.perf_counter()
    with running_fake_api() as url:
        server_before = fetch_stats(url).cpu
        for _ in range(args.rounds):
            for kind in args.kinds:
                phases += asyncio.run(run_round(url, kind, args.sends))
        server_cpu = fetch_stats(url).cpu - server_before
    wall = time.perf_counter() - wall_before
    load_after = _Load()
    if load_before.busy is None or load_after.busy is None:
        other = "CPU used by other processes: unknown"
    else:
        own = time.process_time() - cpu_before + server_cpu
        cores = max(0.0, (load_after.busy - load_before.busy - own) / wall)
        other = f"other processes used {cores:.2f} cores on average during the {wall:.0f} s run"
    _report(phases, args.kinds, args.sends, args.rounds, other)


if __name__ == "__main__":
    main()
