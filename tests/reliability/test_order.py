"""C1/C2: one user's 100 messages, all in flight at once, are handled one at a time in
acceptance order, by one process (SQLite, Redis, PostgreSQL) and by two processes on one
shared store (Redis, PostgreSQL).

"Acceptance order" is the order in which the store accepted the messages: their inbox
ids, read from the store after the run. With 100 requests in flight that order is
decided by the server, not by the client, so the test learns it afterwards and checks
that everything the bot did follows it:

* each reply carries the turn number its handler counted, and the message accepted
  k-th got turn k (1..100, no gap, no repeat);
* the conversation's stored ``seen`` list (appended by each turn) is the acceptance
  order, and its count is 100 (no lost update);
* no two handler runs of the conversation overlapped in time: every run, committed or
  not, of every process is logged with its start and end on the machine's monotonic
  clock, and each handler yields (``asyncio.sleep``) in the middle of its
  read-modify-write so that an overlap would have the chance to happen;
* exactly one reply per message at the fake Messages API.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from .harness import (
    BotProcess,
    FakeApi,
    Replies,
    StoreSpec,
    bot_env,
    conversation,
    deliver,
    inbox_order,
    overlaps,
    read_log,
    text_delivery,
    until,
)

HARD_TIMEOUT = 90

MESSAGES = 100
USER = "447700901234"
HANDLER_SLEEP = "0.003"


async def _check_order(
    store: StoreSpec, api: FakeApi, run_logs: list[Path], label: str, processes: int
) -> None:
    accepted_order = inbox_order(store.url, store.redis_prefix)
    assert len(accepted_order) == MESSAGES

    stats = api.stats()
    replies = Replies.of(api.accepted())
    assert stats["accepted"] == MESSAGES and stats["duplicates"] == 0
    numbers = [replies.number(message_uuid) for message_uuid in accepted_order]
    assert numbers == list(range(1, MESSAGES + 1)), "turns ran out of acceptance order"

    stored = await conversation(store.url, USER, store.redis_prefix)
    assert stored.data["count"] == MESSAGES
    assert stored.data["seen"] == accepted_order

    runs = [run for path in run_logs for run in read_log(path)[0]]
    pids = Counter(run["pid"] for run in runs)
    assert len(runs) == MESSAGES, f"{len(runs)} handler runs for {MESSAGES} messages"
    assert overlaps(runs) == 0
    assert all(run["overlap"] == 0 for run in runs)
    print(
        f"\n{label}: {MESSAGES} messages in flight at once, {processes} process(es); "
        f"turns by process {dict(pids)}; overlap 0; order = acceptance order; count "
        f"{stored.data['count']}"
    )


async def test_c1_one_user_100_concurrent_messages_in_acceptance_order(
    any_store: StoreSpec, fake_api: FakeApi, tmp_path: Path
) -> None:
    run_log = tmp_path / "runs.log"
    env = bot_env(
        api=fake_api,
        store=any_store.url,
        run_log=run_log,
        redis_prefix=any_store.redis_prefix,
        RELIABILITY_HANDLER_SLEEP=HANDLER_SLEEP,
    )
    deliveries = [text_delivery(USER, f"m{i}") for i in range(MESSAGES)]
    with BotProcess(env, tmp_path) as bot:
        bot.start()
        outcomes = await deliver(bot.url, deliveries, concurrency=MESSAGES)
        assert Counter(o.status for o in outcomes) == {200: MESSAGES}
        await until(lambda: fake_api.stats()["accepted"] >= MESSAGES, timeout=60)
    await _check_order(any_store, fake_api, [run_log], f"C1 {any_store.kind}", 1)


async def test_c2_two_processes_on_one_shared_store_keep_one_order(
    shared_store: StoreSpec, fake_api: FakeApi, tmp_path: Path
) -> None:
    logs = [tmp_path / "runs-a.log", tmp_path / "runs-b.log"]
    bots = [
        BotProcess(
            bot_env(
                api=fake_api,
                store=shared_store.url,
                run_log=log,
                redis_prefix=shared_store.redis_prefix,
                RELIABILITY_HANDLER_SLEEP=HANDLER_SLEEP,
            ),
            tmp_path,
            name=name,
        )
        for name, log in zip(("bot-a", "bot-b"), logs, strict=True)
    ]
    rng = random.Random(2)
    deliveries = [text_delivery(USER, f"m{i}") for i in range(MESSAGES)]
    picks = [rng.randrange(2) for _ in deliveries]
    try:
        for bot in bots:
            bot.start()
        outcomes = await deliver(
            [bot.url for bot in bots], deliveries, concurrency=MESSAGES, pick=picks.__getitem__
        )
        assert Counter(o.status for o in outcomes) == {200: MESSAGES}
        await until(lambda: fake_api.stats()["accepted"] >= MESSAGES, timeout=60)
        accepted_by = [bot.metrics()["accepted"] for bot in bots]
    finally:
        for bot in bots:
            bot.close()
    assert sum(accepted_by) == MESSAGES and min(accepted_by) > 0
    await _check_order(shared_store, fake_api, logs, f"C2 {shared_store.kind}", 2)


async def test_c2_uvicorn_workers_on_one_shared_store_keep_one_order(
    shared_store: StoreSpec, fake_api: FakeApi, tmp_path: Path
) -> None:
    """The same through ``botkit run --workers 2``: the kernel spreads the connections."""
    workers = 2
    run_log = tmp_path / "runs.log"
    env = bot_env(
        api=fake_api,
        store=shared_store.url,
        run_log=run_log,
        redis_prefix=shared_store.redis_prefix,
        RELIABILITY_HANDLER_SLEEP=HANDLER_SLEEP,
    )
    deliveries = [text_delivery(USER, f"m{i}") for i in range(MESSAGES)]
    with BotProcess(env, tmp_path, workers=workers) as bot:
        bot.start()
        outcomes = await deliver(bot.url, deliveries, concurrency=MESSAGES)
        assert Counter(o.status for o in outcomes) == {200: MESSAGES}
        await until(lambda: fake_api.stats()["accepted"] >= MESSAGES, timeout=60)
    label = f"C2 {shared_store.kind} --workers {workers}"
    await _check_order(shared_store, fake_api, [run_log], label, workers)
