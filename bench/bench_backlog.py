"""Memory per event waiting for its turn: ``python bench/bench_backlog.py``.

A bot whose handler waits at a gate is flooded with webhooks (through the real ``ingest``
path: signature off, parse, dedupe, inbox commit, submit), and the memory Python holds
(``tracemalloc``) is read while they wait, per waiting event:

* with a backlog larger than the flood (``BOTKIT_BACKLOG`` above it), every event waits
  in memory: its lane job, its parsed event and its inbox entry;
* with the default backlog (1,000), the events past it wait in the store: the figure is
  what the backlog itself keeps for them (nothing per event).

Usage::

    python bench/bench_backlog.py                  # SQLite and Redis, 4,000 events
    python bench/bench_backlog.py --events 10000 --stores sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from botkit import Bot, Context, Settings
from botkit.store import Store
from botkit.testing import inbound_webhook
from botkit.webhooks import ingest

__all__ = ["main"]


async def _held(store: Store, events: int, backlog: int) -> float:
    """Bytes held per waiting event while ``events`` wait behind a closed gate."""
    settings = Settings(store="memory://", api_key="k", api_secret="s", backlog=backlog)
    bot = Bot(settings, store=store)
    gate = asyncio.Event()
    done = 0

    @bot.on_text()
    async def slow(ctx: Context) -> None:
        nonlocal done
        await gate.wait()
        done += 1

    bodies = [json.dumps(inbound_webhook("sms", "text", {"text": f"message {n}"},
                                         user=f"4477{n:08d}", timestamp=time.time())).encode()
              for n in range(events)]
    async with bot.running():
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for body in bodies:
            await ingest(bot, body, None, status=False)
        await asyncio.sleep(0.5)  # the turns start and wait at the gate
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        gate.set()
        while done < events:
            await asyncio.sleep(0.05)
    return held / events


def _store(kind: str, work: Path, n: int) -> Store:
    if kind == "sqlite":
        from botkit.store.sqlite import SQLiteStore

        return SQLiteStore(work / f"backlog-{n}.db")
    import uuid

    from botkit.store.redis import RedisStore

    return RedisStore("redis://127.0.0.1:6379/15", prefix=f"bench-backlog-{uuid.uuid4().hex}:")


async def _main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for n, kind in enumerate(args.stores):
            queued = await _held(_store(kind, work, 2 * n), args.events, args.events + 1)
            spilled = await _held(_store(kind, work, 2 * n + 1), args.events, 1000)
            past = (spilled * args.events - queued * 1000) / (args.events - 1000)
            print(f"{kind}, {args.events:,} events waiting: {queued / 1024:.1f} KiB per event "
                  f"queued in memory (BOTKIT_BACKLOG above {args.events:,}); with "
                  f"BOTKIT_BACKLOG=1000, {spilled * args.events / 2**20:.1f} MiB held in all, "
                  f"{max(past, 0) / 1024:.2f} KiB per event past the first 1,000 (they wait "
                  "in the store)", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--stores", nargs="+", default=["sqlite", "redis"],
                        choices=["sqlite", "redis"])
    asyncio.run(_main(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
