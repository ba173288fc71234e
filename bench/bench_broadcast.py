"""Broadcast throughput on one process against the configured rate (``BOTKIT_RATE``).

A 10,000-recipient SMS campaign (one sender number) runs through
:class:`~botkit.broadcast.BroadcastRunner` exactly as ``botkit broadcast run`` runs it:
recipients stored, taken in chunks, gated (opt-outs read once a chunk, the window),
rendered, sent through ``MessagesClient`` (the default aiohttp transport) at the rate,
settled in batches. The Messages API is ``bench/_fake_api.py`` in its own process. For
each rate the throughput is recipients sent divided by the run's wall time (taking the
campaign from the store to the final report), and its share of the configured rate.

On a Redis or PostgreSQL store (``--store redis|postgres``) the rate is the store's
shared one, as every process on it would use (:mod:`botkit.ratelimit_shared`); the
servers are ``BOTKIT_TEST_REDIS`` and ``BOTKIT_TEST_POSTGRES`` (defaults: the local
ones), each run in a fresh key prefix or schema.

Command::

    python bench/bench_broadcast.py                       # rates 100 250 500 1000, SQLite
    python bench/bench_broadcast.py --rates 1000 --store memory --recipients 10000
    python bench/bench_broadcast.py --rates 200 500 --store redis --recipients 5000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _fake_api import running_fake_api

from botkit import Bot, Settings
from botkit.auth import auth_from_settings
from botkit.broadcast import BroadcastRunner, load_campaign, read_recipients
from botkit.client import MessagesClient
from botkit.ratelimit import LocalRateLimiter, rate_limiter_for
from botkit.transports import make_transport

CAMPAIGN = """\
name: bench
from: {sms: "447700900000"}
message: "Hi {{ name }}, your order {{ order }} ships today. Reply STOP to opt out."
"""


def write_files(folder: Path, recipients: int) -> tuple[Path, Path]:
    campaign = folder / "campaign.yaml"
    campaign.write_text(CAMPAIGN)
    rows = folder / "recipients.csv"
    rows.write_text("channel,to,name,order\n" + "".join(
        f"sms,447911{n:06d},Customer {n},A-{n:05d}\n" for n in range(recipients)))
    return campaign, rows


async def one_run(url: str, store: str, rate: float, files: tuple[Path, Path]
                  ) -> tuple[float, float, int]:
    """Seconds the campaign took, CPU seconds this process spent on it, recipients sent."""
    settings = Settings(store=store, messages_url=url, api_key="bench", api_secret="bench",
                        rate=rate, sandbox="off")
    bot = Bot(settings)
    campaign = load_campaign(files[0])
    recipients = read_recipients(files[1], campaign)
    await bot.store.open()
    client = MessagesClient(auth=auth_from_settings(settings, bot.clock), url=url,
                            transport=make_transport(settings.http_transport), clock=bot.clock)
    try:
        limiter = (rate_limiter_for(bot.store, rate, clock=bot.clock, sleep=bot.sleep)
                   if bot.store.shared else
                   LocalRateLimiter(rate, clock=bot.clock, sleep=bot.sleep))
        runner = BroadcastRunner(bot, campaign, client=client, limiter=limiter)
        await runner.prepare(recipients)
        started, cpu = time.perf_counter(), time.process_time()
        report = await runner.run()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        await client.aclose()
        await _drop(bot.store)
        await bot.store.close()
    return elapsed, cpu, report.sent


async def _drop(store: object) -> None:
    """Leave nothing of a run on a shared server: its key prefix or its schema."""
    from botkit.store.postgres import PostgresStore
    from botkit.store.redis import RedisStore

    if isinstance(store, RedisStore):
        keys = [key async for key in store.client.scan_iter(match=f"{store.prefix}*")]
        if keys:
            await store.client.delete(*keys)
    elif isinstance(store, PostgresStore):
        async with store.database.connection() as conn:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')


def _store_url(kind: str, sqlite_path: Path) -> str:
    """A fresh store of ``kind``: its own file, Redis key prefix or PostgreSQL schema."""
    fresh = uuid.uuid4().hex[:12]
    if kind == "redis":
        server = os.environ.get("BOTKIT_TEST_REDIS", "redis://127.0.0.1:6379/0")
        return f"{server}?prefix=bench-{fresh}:"
    if kind == "postgres":
        server = os.environ.get("BOTKIT_TEST_POSTGRES",
                                "postgresql://postgres@127.0.0.1:5432/botkit_test")
        return f"{server}?schema=bench_{fresh}"
    return "memory://" if kind == "memory" else f"sqlite:///{sqlite_path}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[100, 250, 500, 1000])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--store", choices=["sqlite", "memory", "redis", "postgres"],
                        default="sqlite")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, store {args.store}, "
          f"{args.recipients} recipients")
    print("| rate (msg/s) | recipients | seconds | msg/s | share of the rate | CPU ms/msg |")
    print("|---:|---:|---:|---:|---:|---:|")
    with running_fake_api() as url, tempfile.TemporaryDirectory() as folder:
        files = write_files(Path(folder), args.recipients)
        for n, rate in enumerate(args.rates):
            store = _store_url(args.store, Path(folder) / f"bench-{n}.db")
            elapsed, cpu, sent = asyncio.run(one_run(url, store, rate, files))
            throughput = sent / elapsed
            print(f"| {rate:,.0f} | {sent:,} | {elapsed:.2f} | {throughput:,.0f} | "
                  f"{throughput / rate:.1%} | {cpu / sent * 1000:.3f} |", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
