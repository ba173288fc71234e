"""D1-D3, D5, D7: sending replies through a faulty Messages API, from a real process.

The fake API refuses, delays or goes away on command; it logs every attempt with its
arrival time and counts acceptances per ``client_ref``, so "retried", "not retried" and
"sent twice" are read from the API's side. The bot runs with the default retry policy
(base 0.5 s, x2, cap 30 s, full jitter, 8 attempts, 300 s budget) unless a test says.

* D1: 429 with ``Retry-After: 2`` -> the next attempt comes 2.0-2.5 s later (real time:
  the delay is the API's, and the attempt times are the API's own clock); 1 accepted.
* D2: 500/502/503/504 and a closed port -> retried with backoff until accepted;
  0 duplicates; the waits stay under the backoff curve's ceilings.
* D3: 400/401/403/404/422 -> exactly one attempt; the API's title and detail reach
  ``@bot.on_error``; ``send_failed_terminal`` counts each.
* D5 at CI scale: the API down 10 s (503, or the port closed) while 1,000 replies are
  due -> webhooks keep being acknowledged (p99 < 1 s, no 5xx), and after recovery all
  1,000 are delivered, none twice, none given up.
* D7: the outbound queue full (``BOTKIT_QUEUE_MAX=20``, the API holding every answer
  3 s) -> webhooks are answered 503 (``queue_full``, with ``Retry-After``) before
  anything is stored; delivered again once the queue drains, every message is answered
  exactly once.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from botkit.retry import RetryPolicy

from .harness import (
    BotProcess,
    FakeApi,
    Replies,
    StoreSpec,
    bot_env,
    deliver,
    percentile,
    read_log,
    text_delivery,
    until,
)
from .scenarios import run_d5

HARD_TIMEOUT = 150


def _attempts(api: FakeApi, message_uuid: str) -> list[dict[str, Any]]:
    return [a for a in api.attempts() if a["client_ref"].startswith(message_uuid + ":")]


def _start(api: FakeApi, store: StoreSpec, tmp_path: Path, **settings: str) -> BotProcess:
    env = bot_env(api=api, store=store.url, run_log=tmp_path / "runs.log", **settings)
    return BotProcess(env, tmp_path).start()


async def test_d1_429_with_retry_after_waits_that_long(
    sqlite_store: StoreSpec, fake_api: FakeApi, tmp_path: Path
) -> None:
    fake_api.fail_next(1, 429, retry_after="2", title="Too Many Requests")
    message = text_delivery("447700900001", "hi")
    with _start(fake_api, sqlite_store, tmp_path) as bot:
        assert [o.status for o in await deliver(bot.url, [message], concurrency=1)] == [200]
        await until(lambda: fake_api.stats()["accepted"] == 1, timeout=20)
        await asyncio.sleep(0.5)  # room for a wrong extra attempt to show
        metrics = bot.metrics()
    attempts = _attempts(fake_api, message.uuid)
    assert [a["status"] for a in attempts] == [429, 202]
    gap = attempts[1]["t"] - attempts[0]["t"]
    print(f"\nD1: 429 Retry-After 2 -> next attempt after {gap:.3f} s; accepted 1")
    assert 2.0 <= gap <= 2.5
    assert fake_api.stats()["accepted"] == 1
    assert metrics["send_retry"] == 1 and metrics["sent"] == 1


async def test_d2_5xx_and_refused_connections_are_retried_without_duplicates(
    sqlite_store: StoreSpec, fake_api: FakeApi, tmp_path: Path
) -> None:
    policy = RetryPolicy()  # the default curve the bot uses
    statuses = (500, 502, 503, 504)
    failures = 2  # per message: two refusals, then accepted
    with _start(fake_api, sqlite_store, tmp_path) as bot:
        messages = []
        for status in statuses:
            fake_api.fail_next(failures, status, title=f"status {status}")
            message = text_delivery(f"4477009002{status % 100:02d}", f"after {status}")
            messages.append(message)
            assert [o.status for o in await deliver(bot.url, [message], concurrency=1)] == [200]
            await until(lambda: fake_api.stats()["accepted"] >= len(messages), timeout=20)

        # Connection refused: the port is closed for 1.5 s while a reply is due.
        fake_api.down("closed")
        refused = text_delivery("447700900299", "while closed")
        assert [o.status for o in await deliver(bot.url, [refused], concurrency=1)] == [200]
        await until(lambda: bot.metrics()["send_retry"] >= len(statuses) * failures + 1, timeout=10)
        await asyncio.sleep(1.0)
        fake_api.up()
        await until(lambda: fake_api.stats()["accepted"] >= len(statuses) + 1, timeout=40)
        await asyncio.sleep(0.5)
        metrics = bot.metrics()

    stats = fake_api.stats()
    lines = []
    for status, message in zip(statuses, messages, strict=True):
        attempts = _attempts(fake_api, message.uuid)
        assert [a["status"] for a in attempts] == [status] * failures + [202]
        gaps = [b["t"] - a["t"] for a, b in itertools.pairwise(attempts)]
        for n, gap in enumerate(gaps, start=1):
            assert gap <= policy.ceiling(n) + 0.25, (status, gaps)
        lines.append(f"{status}: waits {', '.join(f'{g:.3f}' for g in gaps)} s")
    retried_while_closed = metrics["send_retry"] - len(statuses) * failures
    print(
        f"\nD2: {'; '.join(lines)}; closed port: {retried_while_closed:.0f} retries, then "
        f"accepted; duplicates {stats['duplicates']}"
    )
    assert stats["accepted"] == len(statuses) + 1
    assert stats["duplicates"] == 0
    assert Replies.of(fake_api.accepted()).count(refused.uuid) == 1
    assert retried_while_closed >= 1
    assert metrics["send_failed_terminal"] == 0


async def test_d3_other_4xx_are_tried_once_and_reported(
    sqlite_store: StoreSpec, fake_api: FakeApi, tmp_path: Path
) -> None:
    statuses = (400, 401, 403, 404, 422)
    with _start(fake_api, sqlite_store, tmp_path) as bot:
        refused = []
        for status in statuses:
            fake_api.fail_next(1, status, title=f"Title {status}", detail=f"Detail {status}")
            user = f"4477009003{status % 100:02d}"
            message = text_delivery(user, "refused")
            refused.append(message)
            assert [o.status for o in await deliver(bot.url, [message], concurrency=1)] == [200]
            wanted = len(refused)
            await until(
                lambda: len(read_log(tmp_path / "runs.log")[1]) >= wanted,  # noqa: B023
                timeout=20,
            )
        # One more message per user: the lane moved on (same conversations, in order).
        after = [text_delivery(f"4477009003{status % 100:02d}", "after") for status in statuses]
        assert Counter(o.status for o in await deliver(bot.url, after, concurrency=5)) == {
            200: len(statuses)
        }
        await until(lambda: fake_api.stats()["accepted"] >= len(statuses), timeout=20)
        await asyncio.sleep(0.5)
        metrics = bot.metrics()

    _, errors = read_log(tmp_path / "runs.log")
    by_ref = {e["client_ref"].rpartition(":")[0]: e for e in errors}
    for status, message in zip(statuses, refused, strict=True):
        assert [a["status"] for a in _attempts(fake_api, message.uuid)] == [status]
        reported = by_ref[message.uuid]
        assert (reported["error"], reported["title"], reported["detail"]) == (
            status,
            f"Title {status}",
            f"Detail {status}",
        )
    assert len(errors) == len(statuses)
    assert metrics["send_failed_terminal"] == len(statuses)
    assert metrics["send_retry"] == 0
    print(f"\nD3: {', '.join(map(str, statuses))}: 1 attempt each, reported to on_error once")


@pytest.mark.parametrize("mode", ["503", "closed"])
async def test_d5_api_down_10_s_while_1000_replies_are_due(
    sqlite_store: StoreSpec, fake_api: FakeApi, tmp_path: Path, mode: str
) -> None:
    result = await run_d5(fake_api, sqlite_store, tmp_path, replies=1_000, outage=10.0, mode=mode)
    print(
        f"\nD5 ({mode}): {result.replies} webhooks acknowledged in {result.seconds_to_ack:.1f} s "
        f"during a {result.outage:.0f} s outage, ack p99 {result.ack_p99 * 1000:.0f} ms, "
        f"statuses {dict(result.statuses)}; {result.retries_during:.0f} retries during it; "
        f"after recovery {result.delivered} delivered in {result.seconds_to_deliver:.1f} s, "
        f"duplicates {result.duplicates}, given up {result.given_up:.0f}"
    )
    assert result.statuses == {200: result.replies}
    assert result.ack_p99 < 1.0
    assert result.given_up == 0, "replies given up during a 10 s outage"
    assert result.delivered == result.replies
    assert result.duplicates == 0


async def test_d7_full_outbound_queue_answers_503(
    sqlite_store: StoreSpec, fake_api: FakeApi, tmp_path: Path
) -> None:
    queue_max = 20
    messages = [text_delivery(f"4477009{n:05d}", "flood") for n in range(100)]
    fake_api.control(delay=3.0)  # every send is held 3 s: the queue fills
    with _start(fake_api, sqlite_store, tmp_path, BOTKIT_QUEUE_MAX=str(queue_max)) as bot:
        first = await deliver(bot.url, messages, concurrency=10)
        refused = [o for o in first if o.status == 503]
        acked = [o for o in first if o.status == 200]
        probe = text_delivery("447700999999", "probe")
        answer = httpx.post(
            bot.url + probe.path, content=probe.body, headers=probe.headers, timeout=10
        )
        messages.append(probe)
        during = bot.metrics()
        health = bot.health()
        refusal_p99 = percentile([o.seconds for o in refused], 0.99)
        fake_api.control(delay=0)

        # Vonage delivers the refused ones again, later, until they get a 200.
        left = [o.delivery for o in refused] + [probe]
        rounds = 0
        while left:
            rounds += 1
            assert rounds < 100, "refused webhooks never got in"
            await asyncio.sleep(0.2)
            again = await deliver(bot.url, left, concurrency=10)
            left = [o.delivery for o in again if o.status != 200]
        await until(lambda: fake_api.stats()["distinct"] >= len(messages), timeout=30)
        await asyncio.sleep(0.3)
        metrics = bot.metrics()

    stats = fake_api.stats()
    print(
        f"\nD7: BOTKIT_QUEUE_MAX={queue_max}, API holding answers 3 s: {len(acked)} accepted, "
        f"{len(refused)} refused 503 (p99 {refusal_p99 * 1000:.0f} ms), sends pending "
        f"{during['botkit_sends_pending']:.0f}; after redelivery {stats['distinct']} answered, "
        f"duplicates {stats['duplicates']}"
    )
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert answer.json()["type"] == "urn:botkit:problem:queue_full"
    assert len(acked) + len(refused) == len(messages) - 1
    assert len(acked) >= queue_max and refused
    assert during["queue_full"] == len(refused) + 1
    assert during["accepted"] == len(acked)
    assert health["outbound"]["full"] is True
    assert all(o.delivery.uuid not in {a.delivery.uuid for a in acked} for o in refused)
    assert stats["distinct"] == len(messages) and stats["duplicates"] == 0
    assert metrics["accepted"] == len(messages)
