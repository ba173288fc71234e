"""``BOTKIT_RATE`` holds for all the processes on one shared store together, not for each.

Two ``botkit run`` processes on one Redis (and on one PostgreSQL schema), both sending
from the same number at
``BOTKIT_RATE=10``: the fake Messages API sees their sends, together, at most 10 a
second. Were the rate per process, the two would reach it twice over (20 a second).
Arrival times are the fake API's (``time.monotonic()``, one clock for the machine).
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from pathlib import Path

from .harness import BotProcess, FakeApi, StoreSpec, bot_env, deliver, text_delivery, until

HARD_TIMEOUT = 90

RATE = 10.0
MESSAGES = 40
# The API sees a send a little after the limiter lets it go, and one request may take a
# few milliseconds longer than the next on a loaded machine: single gaps vary that much.
SLACK = 0.03
# The span's two ends are single requests: on a loaded machine either may arrive up to a
# tenth of a second after its slot. Twice the rate would still miss the bound by 1.7 s,
# and 10% over it by 0.2 s.
SPAN_SLACK = 0.15


async def test_two_processes_share_one_send_rate_per_number(
    shared_store: StoreSpec, fake_api: FakeApi, tmp_path: Path
) -> None:
    env = bot_env(
        api=fake_api,
        store=shared_store.url,
        redis_prefix=shared_store.redis_prefix,
        BOTKIT_RATE=str(RATE),
    )
    bots = [BotProcess(env, tmp_path, name=f"bot-{n}") for n in (1, 2)]
    users = [f"4477009{n:05d}" for n in range(MESSAGES)]
    try:
        for bot in bots:
            bot.start()
        # Each message goes to one process or the other (round robin): both send.
        deliveries = [text_delivery(user, "hi") for user in users]
        outcomes = await deliver([bot.url for bot in bots], deliveries, concurrency=20)
        assert Counter(o.status for o in outcomes) == {200: MESSAGES}
        await until(
            lambda: fake_api.stats()["distinct"] >= MESSAGES, timeout=60, what="every reply"
        )
        sent = [bot.metrics()["sent"] for bot in bots]
    finally:
        for bot in bots:
            bot.close()
    times = sorted(item["t"] for item in fake_api.attempts() if item["status"] == 202)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # From the third send on: the first one of each process (the first two, in some order)
    # also opens its connection to the API, so on a busy machine it arrives later after its
    # slot than the rest do.
    span = times[-1] - times[2]
    print(
        f"\nshared rate, {shared_store.kind}: {MESSAGES} sends from 2 processes at "
        f"BOTKIT_RATE={RATE:g}: "
        f"{span:.2f} s from third to last, gaps min {min(gaps):.3f} s, "
        f"median {statistics.median(gaps):.3f} s; sent per process {sent}"
    )
    assert all(n > 0 for n in sent)
    assert span >= (MESSAGES - 3) / RATE - SPAN_SLACK  # 20/s (per process) would take half
    # Evenly spaced, not bursts: two processes each at the rate would often send together.
    assert statistics.median(gaps) >= 1 / RATE - SLACK
