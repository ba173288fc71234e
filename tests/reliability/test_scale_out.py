"""Several processes on one shared store (Redis, PostgreSQL) behave as one bot when one of
them starts late.

Starting a process (a deploy, a scale-up, a crashed worker restarted by uvicorn) next to
live ones is routine. The newcomer recovers what dead processes left, and must not take
work the live ones are doing: here, replies the first process queued and is sending
(the fake Messages API answers each send after 1 s, so they stay in flight).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from .harness import BotProcess, FakeApi, StoreSpec, bot_env, deliver, text_delivery, until

HARD_TIMEOUT = 90

MESSAGES = 200
API_DELAY = 1.0


async def test_a_process_joining_does_not_resend_what_a_live_one_is_sending(
    shared_store: StoreSpec, fake_api: FakeApi, tmp_path: Path
) -> None:
    env = bot_env(api=fake_api, store=shared_store.url, redis_prefix=shared_store.redis_prefix)
    first = BotProcess(env, tmp_path, name="bot-a")
    late = BotProcess(env, tmp_path, name="bot-b")
    fake_api.control(delay=API_DELAY)
    deliveries = [text_delivery(f"4477009{n:05d}", "hello") for n in range(MESSAGES)]
    try:
        first.start()
        outcomes = await deliver(first.url, deliveries, concurrency=32)
        assert Counter(o.status for o in outcomes) == {200: MESSAGES}
        in_flight = first.metrics()["botkit_sends_pending"]
        late.start()  # while the first process still sends (64 at a time, 1 s each)
        await until(
            lambda: fake_api.stats()["distinct"] >= MESSAGES, timeout=60, what="every reply"
        )
        await until(
            lambda: all(b.metrics()["botkit_sends_pending"] == 0 for b in (first, late)),
            timeout=60,
        )
        recovered = late.metrics()["send_recovered"]
    finally:
        first.close()
        late.close()
    stats = fake_api.stats()
    print(
        f"\njoining process: {MESSAGES} replies, {in_flight:.0f} pending in the first process "
        f"when the second started; the second recovered {recovered:.0f}; accepted "
        f"{stats['accepted']}, duplicates {stats['duplicates']}"
    )
    assert stats["distinct"] == MESSAGES
    assert stats["duplicates"] == 0, (
        f"{stats['duplicates']} replies sent twice: the late process re-sent messages the "
        f"live one was sending ({recovered:.0f} taken over at its start)"
    )
