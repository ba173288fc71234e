"""Benchmark: botkit's reliability at full scale, and its throughput against bare endpoints.

Everything runs as real processes on 127.0.0.1: bots are served by ``botkit run``
(uvicorn, one process), the Messages API is the fault-knob fake of the reliability tests
(``tests/reliability/fake_api.py``), and this process is the load generator (aiohttp,
bounded concurrency, bodies built and signed before the clock starts).

Parts (``--parts``, default all):

* ``throughput``: in one run, taking turns for ``--rounds`` rounds (best round shown):

  (a) **acknowledging**: ``--messages-throughput`` signed webhooks (``--conversations``
      users) at ``--concurrency``, to botkit (signature check, dedupe, inbox commit; its
      handler counts and records but sends nothing) on each of ``--throughput-stores``
      (SQLite and PostgreSQL by default) against a bare Starlette endpoint that parses
      the JSON and answers 200. Figure: webhooks acknowledged per second; target >= 0.5x
      bare, below 0.25x is a failure.
  (b) **webhook -> reply**: the same load to botkit's echo bot (each store) against a bare
      Starlette endpoint that parses, answers 200 and puts the echo on a bounded
      in-memory queue (1,000) drained by ``--bare-senders`` tasks through the same HTTP
      transport (``MessagesClient`` on aiohttp). Figure: replies accepted by the fake
      API per second, from the first webhook to the last reply; target >= 0.7x.

  Both bare endpoints are served by ``botkit run`` too (it serves any ASGI app), so the
  server, its options and its access log are the same, and they get the same signed
  requests as botkit (they ignore the signature). Besides throughput, the CPU time the
  server process used (all its threads, from ``/proc``; for botkit until its turns and
  sends are done) is reported per webhook, and on PostgreSQL the CPU time of the
  server's backends serving the bot (in the ratios it is added to botkit's, as SQLite's
  work is inside botkit's process): the load generator, the server and the fake API
  share the machine's cores, so throughput alone depends on what else runs. The part is
  in ``bench/_bench_throughput.py``.
* ``b4``: B4 at full scale: ``--messages`` inbound (1,000 users x 10), 20% redelivered
  1-5 times, shuffled, at ``--concurrency``.
* ``d5``: D5 at full scale: the API down ``--outage`` seconds (503) while ``--replies``
  replies are due.
* ``e1``: E1 at full scale: ``--kills`` kills per store (``--stores``: SQLite, Redis,
  PostgreSQL), 100 users x 10 messages per round.

Usage::

    python bench/bench_reliability.py                       # everything, full scale
    python bench/bench_reliability.py --parts throughput    # about a minute
    python bench/bench_reliability.py --parts e1 --kills 10 --stores sqlite

Redis is the server at ``BOTKIT_TEST_REDIS`` (default ``redis://127.0.0.1:6379/15``),
PostgreSQL the database at ``BOTKIT_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/botkit_test``); each part uses a fresh key prefix
or schema and deletes it afterwards (``bench/_bench_stores.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from importlib import metadata
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _bench_stores import STORE_KINDS, bench_store  # noqa: E402
from _bench_throughput import BARE_QUEUE, throughput  # noqa: E402
from _compare_apps import _healthz, bare_ack  # noqa: E402

from botkit.auth import BasicAuth  # noqa: E402
from botkit.client import MessagesClient  # noqa: E402
from botkit.errors import MessagesApiError  # noqa: E402
from botkit.transports import make_transport  # noqa: E402
from tests.reliability.harness import (  # noqa: E402
    FakeApi,
)
from tests.reliability.scenarios import e1_table, run_b4, run_d5, run_e1  # noqa: E402

__all__ = ["bare_ack", "bare_echo", "main"]


# -- the bare baselines (served by `botkit run bench/bench_reliability.py:bare_ack`) ----
# bare_ack (parse the JSON body, answer 200) is bench/_compare_apps.py's.


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
    parser.add_argument(
        "--stores", nargs="+", default=list(STORE_KINDS), choices=STORE_KINDS, help="b4, e1"
    )
    parser.add_argument(
        "--throughput-stores",
        nargs="+",
        default=["sqlite", "postgres"],
        choices=STORE_KINDS,
        help="the stores botkit's throughput is measured on",
    )
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
