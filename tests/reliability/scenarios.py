"""The larger reliability scenarios, shared by the tests (CI scale) and the benchmark
(full scale): B4 (redeliveries), E1 (``kill -9`` during load) and D5 (API outage).

Each runs against real processes and returns its figures; the caller decides what must
hold (the tests assert, ``bench/bench_reliability.py`` prints).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from .harness import (
    BotProcess,
    Delivery,
    FakeApi,
    Replies,
    StoreSpec,
    bot_env,
    conversation,
    deliver,
    overlaps,
    pending_outbound_refs,
    percentile,
    read_log,
    text_delivery,
    until,
)

__all__ = ["B4Result", "D5Result", "E1Round", "run_b4", "run_d5", "run_e1"]


# -- B4: redeliveries ------------------------------------------------------------------


@dataclass
class B4Result:
    """The figures of one B4 run."""

    messages: int
    redeliveries: int
    statuses: Counter[int | None]
    accepted: int
    duplicates: int
    missing: int
    repeated: int
    seconds_to_ack: float
    seconds_to_reply: float
    metrics: dict[str, float]
    overlaps: int
    bad_counts: int  # conversations whose replies do not count 1..N


async def run_b4(
    api: FakeApi,
    store: StoreSpec,
    log_dir: Path,
    *,
    messages: int,
    conversations: int,
    concurrency: int,
    redelivered: float = 0.20,
    seed: int = 4,
) -> B4Result:
    """``messages`` inbound over ``conversations`` users, a share redelivered 1-5 times,
    shuffled, posted ``concurrency`` at a time; every message must be answered once."""
    rng = random.Random(seed)
    users = [f"4477{n:08d}" for n in range(conversations)]
    originals = [text_delivery(users[i % conversations], f"message {i}") for i in range(messages)]
    deliveries = list(originals)
    for original in rng.sample(originals, int(messages * redelivered)):
        deliveries.extend([original] * rng.randint(1, 5))
    rng.shuffle(deliveries)

    run_log = log_dir / "b4-runs.log"
    env = bot_env(api=api, store=store.url, run_log=run_log, redis_prefix=store.redis_prefix)
    with BotProcess(env, log_dir, name="b4") as bot:
        bot.start()
        started = time.monotonic()
        outcomes = await deliver(bot.url, deliveries, concurrency=concurrency)
        acked = time.monotonic() - started
        await until(
            lambda: api.stats()["distinct"] >= messages,
            timeout=60 + messages / 50,
            what="a reply to every message",
        )
        replied = time.monotonic() - started
        await until(lambda: bot.metrics()["botkit_sends_pending"] == 0, timeout=30)
        metrics = bot.metrics()

    stats = api.stats()
    replies = Replies.of(api.accepted())
    per_user: dict[str, list[int]] = {}
    for delivery in originals:
        user = delivery.body.split(b'"from": "', 1)[1].split(b'"', 1)[0].decode()
        if replies.count(delivery.uuid):
            per_user.setdefault(user, []).append(replies.number(delivery.uuid))
    expected_turns = list(range(1, messages // conversations + 1))
    return B4Result(
        messages=messages,
        redeliveries=len(deliveries) - messages,
        statuses=Counter(o.status for o in outcomes),
        accepted=stats["accepted"],
        duplicates=stats["duplicates"],
        missing=sum(1 for d in originals if replies.count(d.uuid) == 0),
        repeated=sum(1 for d in originals if replies.count(d.uuid) > 1),
        seconds_to_ack=acked,
        seconds_to_reply=replied,
        metrics=metrics,
        overlaps=overlaps(read_log(run_log)[0]),
        bad_counts=sum(1 for n in per_user.values() if sorted(n) != expected_turns),
    )


# -- E1: kill -9 during load -----------------------------------------------------------


@dataclass
class E1Round:
    """The figures of one kill."""

    number: int
    kill_at: int
    api_delay: float
    acknowledged: int = 0
    unacknowledged: int = 0
    pending_at_kill: int = 0
    in_flight_at_kill: int = 0
    duplicates: int = 0
    recovered: int = 0
    integrity: str = "-"
    unanswered: int = 0
    out_of_order: list[str] = field(default_factory=list)
    sent_out_of_order: list[str] = field(default_factory=list)
    wrong_counts: list[str] = field(default_factory=list)
    repeats_not_in_flight: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing lost, order and state kept, repeats only for sends in flight."""
        return (
            self.unanswered == 0
            and not self.out_of_order
            and not self.sent_out_of_order
            and not self.wrong_counts
            and not self.repeats_not_in_flight
            and self.integrity in ("ok", "-")
        )


async def _post(session: aiohttp.ClientSession, url: str, delivery: Delivery) -> int | None:
    try:
        async with session.post(url, data=delivery.body, headers=delivery.headers) as response:
            await response.read()
            return response.status
    except (aiohttp.ClientError, TimeoutError, OSError):
        return None


async def _load_until_killed(
    bot: BotProcess, turns: dict[str, list[Delivery]], kill_at: int
) -> set[str]:
    """Each user sends their turns in order; the bot is killed at the kill_at-th 200."""
    acknowledged: set[str] = set()
    url = bot.url + "/webhooks/inbound"

    async def user(session: aiohttp.ClientSession, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            if await _post(session, url, delivery) != 200:
                return  # cut off by the kill: the rest waits for the redelivery
            acknowledged.add(delivery.uuid)
            if len(acknowledged) == kill_at:
                bot.kill()

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        await asyncio.gather(*(user(session, d) for d in turns.values()))
    bot.kill()  # in case every message was acknowledged before the kill point
    return acknowledged


async def _redeliver(bot: BotProcess, turns: dict[str, list[Delivery]], acked: set[str]) -> None:
    """Vonage-style: deliver each unacknowledged message again until it gets a 200."""
    url = bot.url + "/webhooks/inbound"

    async def user(session: aiohttp.ClientSession, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            if delivery.uuid in acked:
                continue
            deadline = time.monotonic() + 30
            while await _post(session, url, delivery) != 200:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{delivery.uuid} never got a 200")
                await asyncio.sleep(0.05)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        await asyncio.gather(*(user(session, d) for d in turns.values()))


def _integrity(store: StoreSpec) -> str:
    if store.kind != "sqlite":
        return "-"
    path = store.url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


async def _e1_round(
    number: int,
    bot: BotProcess,
    api: FakeApi,
    store: StoreSpec,
    rng: random.Random,
    *,
    users: int,
    turns_each: int,
    api_delays: tuple[float, ...],
) -> E1Round:
    names = [f"447{number:04d}{n:05d}" for n in range(users)]
    turns = {
        user: [text_delivery(user, f"turn {k}") for k in range(1, turns_each + 1)] for user in names
    }
    total = users * turns_each
    result = E1Round(number, rng.randint(1, total - 1), rng.choice(api_delays))
    api.control(delay=result.api_delay)

    acked = await _load_until_killed(bot, turns, result.kill_at)
    result.acknowledged = len(acked)
    result.unacknowledged = total - len(acked)
    result.integrity = _integrity(store)

    # What the store held when the process died, against what the API had accepted.
    pending = set(await pending_outbound_refs(store.url, store.redis_prefix))
    accepted_refs = {item["client_ref"] for item in api.accepted()}
    in_flight = pending & accepted_refs
    result.pending_at_kill = len(pending)
    result.in_flight_at_kill = len(in_flight)
    api.control(delay=0)

    bot.start()
    await _redeliver(bot, turns, acked)
    uuids = {d.uuid for deliveries in turns.values() for d in deliveries}

    def answered() -> bool:
        got = {item["client_ref"].rpartition(":")[0] for item in api.accepted()}
        return uuids <= got

    try:
        await until(answered, timeout=60, what=f"round {number}: a reply to every message")
    except AssertionError:
        got = {item["client_ref"].rpartition(":")[0] for item in api.accepted()}
        missing = uuids - got
        stuck = {
            ref.rpartition(":")[0]
            for ref in await pending_outbound_refs(store.url, store.redis_prefix)
        }
        raise AssertionError(
            f"round {number}: {len(missing)} messages ({len(missing & acked)} of them "
            f"acknowledged before the kill) have no reply 60 s after the restart; the replies "
            f"of {len(missing & stuck)} are still pending in the store, unsent (the restarted "
            f"process recovered {bot.metrics()['send_recovered']:.0f} at its start)"
        ) from None
    await until(lambda: bot.metrics()["botkit_sends_pending"] == 0, timeout=30)
    result.recovered = int(bot.metrics()["send_recovered"])

    this_round = [i for i in api.accepted() if i["client_ref"].rpartition(":")[0] in uuids]
    counts = Counter(item["client_ref"] for item in this_round)
    repeated = {ref for ref, n in counts.items() if n > 1}
    result.duplicates = sum(n - 1 for n in counts.values())
    result.repeats_not_in_flight = sorted(repeated - in_flight)

    replies = Replies.of(this_round)
    result.unanswered = sum(1 for uuid in uuids if replies.count(uuid) == 0)
    # The order each user received their replies in (first copies; a repeat comes later).
    received: dict[str, list[int]] = {}
    first_seen: set[str] = set()
    for item in this_round:
        if item["client_ref"] in first_seen:
            continue
        first_seen.add(item["client_ref"])
        number = int(str(item["body"].get("text", "0")).split(" ", 1)[0])
        received.setdefault(str(item["body"].get("to")), []).append(number)
    for user, numbers in received.items():
        if numbers != sorted(numbers):
            result.sent_out_of_order.append(f"{user}: {numbers}")
    for user, deliveries in turns.items():
        numbers = [replies.number(d.uuid) for d in deliveries]
        if numbers != list(range(1, turns_each + 1)):
            result.out_of_order.append(f"{user}: {numbers}")
        stored = await conversation(store.url, user, store.redis_prefix)
        if stored.data.get("count") != turns_each:
            result.wrong_counts.append(f"{user}: {stored.data.get('count')}")
    return result


async def run_e1(
    api: FakeApi,
    store: StoreSpec,
    log_dir: Path,
    *,
    rounds: int,
    users: int = 30,
    turns_each: int = 10,
    api_delays: tuple[float, ...] = (0.0, 0.002, 0.02),
    seed: int = 1,
    lease: float = 2.0,
) -> list[E1Round]:
    """``rounds`` kills of one bot process, each followed by a restart and redelivery.

    In each round ``users`` new users send ``turns_each`` messages each, every user one
    at a time (the next once the last got its 200), all users at once. When a randomly
    chosen number of webhooks has been acknowledged the process gets SIGKILL (the fake
    API answering after one of ``api_delays`` seconds, chosen at random, so kills land
    while sends are in flight as well as while turns run). Then, as Vonage would, the
    process is started again and every message that did not get a 200 is delivered
    again, in each user's order, until it gets one.
    """
    rng = random.Random(seed)
    env = bot_env(
        api=api,
        store=store.url,
        redis_prefix=store.redis_prefix,
        # On Redis a dead process's leases block its users, and its claim on its unsent
        # replies holds them, this long; the default is 60 s.
        BOTKIT_LOCK_LEASE=str(lease),
    )
    results: list[E1Round] = []
    with BotProcess(env, log_dir, name=f"e1-{store.kind}") as bot:
        bot.start()
        for number in range(1, rounds + 1):
            results.append(
                await _e1_round(
                    number,
                    bot,
                    api,
                    store,
                    rng,
                    users=users,
                    turns_each=turns_each,
                    api_delays=api_delays,
                )
            )
    return results


def e1_table(kind: str, results: list[E1Round]) -> str:
    """The rounds as a text table, with totals."""
    lines = [
        "round kill@ack api_delay acked unacked pending_at_kill in_flight repeated "
        "recovered integrity"
    ]
    for r in results:
        lines.append(
            f"{r.number:5d} {r.kill_at:8d} {r.api_delay:9.3f} {r.acknowledged:5d} "
            f"{r.unacknowledged:7d} {r.pending_at_kill:15d} {r.in_flight_at_kill:9d} "
            f"{r.duplicates:8d} {r.recovered:9d} {r.integrity}"
        )
    lines.append(
        f"{kind}: {len(results)} kills; acknowledged before the kills "
        f"{sum(r.acknowledged for r in results)}, lost "
        f"{sum(r.unanswered for r in results)}, sends in flight at the kills "
        f"{sum(r.in_flight_at_kill for r in results)}, repeated "
        f"{sum(r.duplicates for r in results)}, rounds with a violation "
        f"{sum(not r.ok for r in results)}"
    )
    for r in results:
        if not r.ok:
            found = {
                "unanswered": r.unanswered,
                "turns out of order": r.out_of_order[:3],
                "replies sent out of order": r.sent_out_of_order[:3],
                "wrong counts": r.wrong_counts[:3],
                "repeats not in flight": r.repeats_not_in_flight[:3],
                "integrity": r.integrity if r.integrity not in ("ok", "-") else "",
            }
            lines.append(
                f"round {r.number}: " + "; ".join(f"{k} {v}" for k, v in found.items() if v)
            )
    return "\n".join(lines)


# -- D5: the Messages API down while replies are due ----------------------------------


@dataclass
class D5Result:
    """The figures of one outage."""

    replies: int
    outage: float
    mode: str
    statuses: Counter[int | None]
    seconds_to_ack: float
    ack_p99: float
    retries_during: float
    delivered: int
    duplicates: int
    given_up: float
    seconds_to_deliver: float


async def run_d5(
    api: FakeApi,
    store: StoreSpec,
    log_dir: Path,
    *,
    replies: int,
    outage: float,
    mode: str = "503",
    concurrency: int = 32,
    **settings: str,
) -> D5Result:
    """Take the API down (``mode``: "503" or "closed"), post ``replies`` webhooks from as
    many users, bring the API back ``outage`` seconds after it went down, and wait until
    every reply is delivered or given up."""
    deliveries = [text_delivery(f"4479{n:08d}", "during the outage") for n in range(replies)]
    env = bot_env(api=api, store=store.url, redis_prefix=store.redis_prefix)
    env.update(settings)
    with BotProcess(env, log_dir, name=f"d5-{mode}") as bot:
        bot.start()
        api.down(mode)
        down_at = time.monotonic()
        outcomes = await deliver(bot.url, deliveries, concurrency=concurrency)
        acked_in = time.monotonic() - down_at
        await asyncio.sleep(max(0.0, outage - (time.monotonic() - down_at)))
        during = bot.metrics()
        api.up()
        delivered_in = await until(
            lambda: api.stats()["distinct"] + bot.metrics()["send_failed_terminal"] >= replies,
            timeout=120 + replies / 50,
            what="every reply delivered or given up",
        )
        await until(lambda: bot.metrics()["botkit_sends_pending"] == 0, timeout=30)
        metrics = bot.metrics()
    stats = api.stats()
    return D5Result(
        replies=replies,
        outage=outage,
        mode=mode,
        statuses=Counter(o.status for o in outcomes),
        seconds_to_ack=acked_in,
        ack_p99=percentile([o.seconds for o in outcomes], 0.99),
        retries_during=during["send_retry"],
        delivered=stats["distinct"],
        duplicates=stats["duplicates"],
        given_up=metrics["send_failed_terminal"],
        seconds_to_deliver=delivered_in,
    )
