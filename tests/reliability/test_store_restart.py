"""The PostgreSQL server crashes and comes back while the bot is under load.

The test runs a PostgreSQL server of its own (``initdb`` in a temporary directory; the
machine's shared server is never touched). 20 users send 10 messages each, one at a
time per user, each message delivered again every 0.1 s until it gets a 200, as Vonage
does with 5xx answers. After 40 acknowledged messages the server is stopped with
``pg_ctl stop -m immediate`` (a crash: no checkpoint, recovery from the write-ahead log
at the next start), kept down for :data:`DOWN` seconds, and started again. The bot
process is never restarted. Checked:

* **503 while it is down**: every answer is 200 or 503, and every webhook both sent
  and answered while the server was down got 503;
* **nothing acknowledged lost**: every message has its reply at the fake API;
* **processing resumes by itself**: that happens without restarting the bot, each
  user's k-th message got turn k and their stored count is 10 (turns the crash cut short
  ran again after their lease ran out, ``BOTKIT_LOCK_LEASE=2`` here, once each).

The figures are printed (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from ..store.pg_server import PrivatePostgres
from .conftest import with_schema
from .harness import (
    BotProcess,
    Delivery,
    FakeApi,
    Replies,
    bot_env,
    conversation,
    pending_outbound_refs,
    read_log,
    text_delivery,
    until,
)

HARD_TIMEOUT = 150

USERS = 20
TURNS = 10
DOWN = 4.0  # seconds the server stays down
RETRY = 0.1  # seconds between deliveries of a message that was not answered 200


@dataclass(frozen=True)
class Answer:
    """One delivery: when it was sent and answered (monotonic), and the status."""

    sent: float
    answered: float
    status: int | None


@pytest.fixture
def server() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.close()


async def test_a_postgres_restart_under_load_loses_nothing_and_resumes_by_itself(
    server: PrivatePostgres, fake_api: FakeApi, tmp_path: Path
) -> None:
    store_url = with_schema(server.url, "botkit")
    run_log = tmp_path / "runs.log"
    env = bot_env(api=fake_api, store=store_url, run_log=run_log, BOTKIT_LOCK_LEASE="2")
    users = [f"4477008{n:05d}" for n in range(USERS)]
    turns = {
        user: [text_delivery(user, f"turn {k}") for k in range(1, TURNS + 1)] for user in users
    }
    answers: list[Answer] = []
    acknowledged: set[str] = set()
    window: dict[str, float] = {}

    async def user(session: aiohttp.ClientSession, url: str, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            deadline = time.monotonic() + 60
            while True:
                sent = time.monotonic()
                try:
                    async with session.post(
                        url, data=delivery.body, headers=delivery.headers
                    ) as response:
                        await response.read()
                        status: int | None = response.status
                except (aiohttp.ClientError, TimeoutError, OSError):
                    status = None
                answers.append(Answer(sent, time.monotonic(), status))
                if status == 200:
                    acknowledged.add(delivery.uuid)
                    break
                assert time.monotonic() < deadline, f"{delivery.uuid} never got a 200"
                await asyncio.sleep(RETRY)

    async def crash_and_restart() -> None:
        await until(lambda: len(acknowledged) >= 40, timeout=60, interval=0.01)
        await asyncio.to_thread(server.stop, "immediate")
        window["down"] = time.monotonic()
        await asyncio.sleep(DOWN)
        window["starting"] = time.monotonic()
        await asyncio.to_thread(server.start)
        window["up"] = time.monotonic()

    with BotProcess(env, tmp_path, name="restart") as bot:
        bot.start()
        url = bot.url + "/webhooks/inbound"
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await asyncio.gather(
                crash_and_restart(), *(user(session, url, d) for d in turns.values())
            )
        all_uuids = {d.uuid for deliveries in turns.values() for d in deliveries}

        def answered() -> bool:
            got = {item["client_ref"].rpartition(":")[0] for item in fake_api.accepted()}
            return all_uuids <= got

        try:
            resumed = await until(answered, timeout=60, what="a reply to every message")
        except AssertionError:
            got = {item["client_ref"].rpartition(":")[0] for item in fake_api.accepted()}
            pending = await pending_outbound_refs(store_url)
            raise AssertionError(
                f"{len(all_uuids - got)} messages have no reply 60 s after the load; "
                f"{len(pending)} replies pending in the store: {sorted(pending)[:5]}; "
                f"missing {sorted(all_uuids - got)[:5]}"
            ) from None
        await until(lambda: bot.metrics()["botkit_sends_pending"] == 0, timeout=30)
        metrics = bot.metrics()
        assert bot.alive and bot.starts == 1  # resumed by itself: never restarted

    statuses = Counter(a.status for a in answers)
    while_down = [
        a for a in answers if a.sent >= window["down"] and a.answered <= window["starting"]
    ]
    stats = fake_api.stats()
    replies = Replies.of(fake_api.accepted())
    numbers = {user: [replies.number(d.uuid) for d in turns[user]] for user in users}
    counts = [(await conversation(store_url, user)).data.get("count") for user in users]
    runs, _ = read_log(run_log)
    print(
        f"\nPostgreSQL restart under load: {USERS} users x {TURNS} messages; server down "
        f"{window['starting'] - window['down']:.1f} s (immediate stop), up again after "
        f"{window['up'] - window['starting']:.1f} s; answers {dict(statuses)}, "
        f"{len(while_down)} sent and answered while down (all 503: "
        f"{all(a.status == 503 for a in while_down)}); every reply in {resumed:.1f} s after "
        f"the load; replies accepted {stats['accepted']}, duplicates {stats['duplicates']}; "
        f"handler runs {len(runs)} for {USERS * TURNS} messages; store_unavailable "
        f"{metrics.get('store_unavailable', 0):.0f}, outcome_unrecorded "
        f"{metrics.get('outcome_unrecorded', 0):.0f}"
    )
    assert set(statuses) <= {200, 503}, statuses
    assert len(while_down) >= USERS and all(a.status == 503 for a in while_down)
    assert metrics["store_unavailable"] == statuses[503]
    assert len(acknowledged) == USERS * TURNS
    assert stats["distinct"] == USERS * TURNS  # nothing acknowledged lost
    assert all(n == list(range(1, TURNS + 1)) for n in numbers.values()), numbers
    assert counts == [TURNS] * USERS
    assert metrics.get("outcome_unrecorded", 0) == 0
