"""Benchmark: botkit's reliability at full scale.

Everything runs as real processes on 127.0.0.1: bots are served by ``botkit run``
(uvicorn, one process), the Messages API is the fault-knob fake of the reliability tests
(``tests/reliability/fake_api.py``), and this process is the load generator (aiohttp,
bounded concurrency, bodies built and signed before the clock starts).

Parts (``--parts``, default all):

* ``b4``: B4 at full scale: ``--messages`` inbound (1,000 users x 10), 20% redelivered
  1-5 times, shuffled, at ``--concurrency``.
* ``d5``: D5 at full scale: the API down ``--outage`` seconds (503) while ``--replies``
  replies are due.
* ``e1``: E1 at full scale: ``--kills`` kills per store (``--stores``: SQLite, Redis,
  PostgreSQL), 100 users x 10 messages per round.

Usage::

    python bench/bench_reliability.py                       # everything, full scale
    python bench/bench_reliability.py --parts e1 --kills 10 --stores sqlite

Redis is the server at ``BOTKIT_TEST_REDIS`` (default ``redis://127.0.0.1:6379/15``),
PostgreSQL the database at ``BOTKIT_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/botkit_test``); each part uses a fresh key prefix
or schema and deletes it afterwards (``bench/_bench_stores.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _bench_stores import STORE_KINDS, bench_store  # noqa: E402

from tests.reliability.harness import (  # noqa: E402
    FakeApi,
)
from tests.reliability.scenarios import e1_table, run_b4, run_d5, run_e1  # noqa: E402

__all__ = ["main"]


# -- the full-scale scenarios -----------------------------------------------------------


async def b4(args: argparse.Namespace, work: Path) -> list[str]:
    lines = []
    for kind in args.stores:
        with FakeApi(work) as api, bench_store(kind, work, "b4") as store:
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
    with FakeApi(work) as api, bench_store("sqlite", work, "d5") as store:
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
        with FakeApi(work) as api, bench_store(kind, work, "e1") as store:
            results = await run_e1(api, store, work, rounds=args.kills, users=100, seed=50)
        table = e1_table(kind, results)
        print(table, flush=True)
        lines += [f"E1 {kind}: {args.kills} kills, 100 users x 10 messages per round", table]
    return lines


def _machine() -> str:
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("uvicorn", "starlette", "aiohttp", "redis", "asyncpg")
    )
    return (
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python "
        f"{platform.python_version()}, {versions}"
    )


async def _main(args: argparse.Namespace) -> int:
    parts = {"b4": b4, "d5": d5, "e1": e1}
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
        default=["b4", "d5", "e1"],
        choices=["b4", "d5", "e1"],
    )
    parser.add_argument(
        "--stores", nargs="+", default=list(STORE_KINDS), choices=STORE_KINDS, help="b4, e1"
    )
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--messages", type=int, default=10_000, help="B4")
    parser.add_argument("--replies", type=int, default=1_000, help="D5")
    parser.add_argument("--outage", type=float, default=60.0, help="D5, seconds")
    parser.add_argument("--kills", type=int, default=50, help="E1, per store")
    return asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
