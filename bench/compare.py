"""botkit against a bare endpoint, side by side, in one run: ``python bench/compare.py``.

What it measures (every figure from this one run, the servers taking turns round by
round, the best of ``--rounds`` kept for each):

* **Webhook -> reply**: a bare Starlette endpoint (parse, 200, echo from an in-memory
  queue over aiohttp) against botkit as shipped (``botkit run``, an echo bot) on SQLite,
  Redis and PostgreSQL, with signatures on and off; loads of fresh users (every message
  from a new user) and of ``--returning`` returning users. Replies per second count from
  the first webhook until the fake Messages API has accepted the reply to the last one
  acknowledged.
* **Acknowledging**: a bare parse-and-200 endpoint against botkit (signature, dedupe,
  durable inbox, 200; its turns run meanwhile and answer nothing), and the ack p99 of both
  at half of botkit's peak rate (paced connections).
* **Cost**: CPU per webhook of every server (all its processes; for botkit until its
  turns and sends are done), of Redis (a redis-server of the benchmark's own) and of
  PostgreSQL's backends serving the bot; Redis round trips and commands per turn; and
  two processes on one Redis (``--workers 2``).
* ``--parts flat`` (``bench/_compare_flat.py``): throughput with ``--stored``
  conversations already stored against 1,000, bytes per stored conversation, the bot's
  memory.

Load is ``wrk`` (``apt-get install wrk``) posting prebuilt, signed webhooks on
``--connections`` connections; the Messages API is ``bench/_fake_api.py``. PostgreSQL is
the database at ``BOTKIT_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/botkit_test``, a schema of its own, dropped after).
The machine's facts and its load average are printed with the figures: on a shared
machine absolute numbers move, ratios from the same run much less.

Usage::

    python bench/compare.py                      # everything but flat: about 15 minutes
    python bench/compare.py --quick              # 1 round, 1 s windows: a smoke test
    python bench/compare.py --parts flat --stored 1000000
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _bench_stores import bench_store, cpu_between, postgres_cpu
from _compare_load import SECRET, WrkResult, build_load, run_wrk
from _compare_procs import PrivateRedis, Server, python
from _compare_report import Measure, machine_facts, report
from _fake_api import fetch_stats, running_fake_api

from tests.reliability.harness import StoreSpec

__all__ = ["main"]

_BARE = [python(), "-m", "uvicorn", "--app-dir", "bench", "--loop", "uvloop", "--http",
         "httptools", "--no-access-log", "--host", "127.0.0.1", "--port", "{port}"]
_BOTKIT = [python(), "-m", "botkit.cli", "run", "bench/_compare_apps.py:bot", "--host",
           "127.0.0.1", "--port", "{port}"]


def _until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Bench:
    """The servers, the Redis, the fake API and the loads of one run."""

    def __init__(self, args: argparse.Namespace, work: Path, api: str, redis: PrivateRedis,
                 stack: contextlib.ExitStack) -> None:
        self.args, self.work, self.api, self.redis = args, work, api, redis
        self._stack = stack
        self.servers: dict[str, Server] = {}
        self.specs: dict[str, StoreSpec] = {}

    def store(self, kind: str, role: str) -> StoreSpec:
        """A fresh store for one server: a SQLite file, a Redis prefix, a PostgreSQL schema."""
        slug = role.replace(" ", "_")
        if kind == "redis":
            return StoreSpec("redis", f"{self.redis.url}?prefix=bench-{slug}:")
        if kind == "sqlite":
            return StoreSpec("sqlite", f"sqlite:///{self.work}/{slug}.db")
        return self._stack.enter_context(bench_store(kind, self.work, slug))

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VONAGE_", "BOTKIT_"))}
        env.update(PYTHONPATH=str(Path(__file__).resolve().parent.parent),
                   VONAGE_MESSAGES_URL=self.api, VONAGE_API_KEY="bench-key",
                   VONAGE_API_SECRET="bench-secret", BOTKIT_SANDBOX="off", **extra)
        return env

    def add_servers(self) -> None:
        self.servers["bare ack"] = Server(
            "bare ack", [*_BARE, "_compare_apps:bare_ack"], self.env(), self.work)
        self.servers["bare echo"] = Server(
            "bare echo", [*_BARE, "_compare_apps:bare_echo"],
            self.env(BENCH_SERVER="bare_echo"), self.work)
        roles = [(kind, role) for kind in self.args.stores
                 for role in ("echo", "echo unsigned", "ack")]
        if "redis" in self.args.stores and not self.args.no_workers:
            roles.append(("redis", "echo x2"))
        for kind, role in roles:
            spec = self.specs[f"botkit {role} ({kind})"] = self.store(kind, f"{role}-{kind}")
            env = self.env(BENCH_SERVER="bot", BOTKIT_STORE=spec.url,
                           BENCH_REPLY="0" if role == "ack" else "1",
                           BENCH_COUNT_REDIS="1" if kind == "redis" else "0")
            if role != "echo unsigned":
                env["VONAGE_SIGNATURE_SECRET"] = SECRET
            name = f"botkit {role} ({kind})"
            command = [*_BOTKIT, "--workers", "2"] if "x2" in role else list(_BOTKIT)
            self.servers[name] = Server(name, command, env, self.work)

    def start(self) -> None:
        for name, server in self.servers.items():
            server.start(ready=2 if "x2" in name else 1)

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def measure(self, name: str, load: Path, *, seconds: float, delay_ms: float = 0.0,
                connections: int | None = None) -> Measure:
        server = self.servers[name]
        # A server of several processes answers /metrics from one of them: it is timed
        # by its replies, as the bare echo is.
        botkit = name.startswith("botkit") and "x2" not in name
        echo = "echo" in name
        pg = self.specs.get(name) if "(postgres)" in name else None
        sent_before = fetch_stats(self.api).requests
        cpu, redis_cpu = server.cpu(), self.redis.cpu()
        commands = self.redis.commands() if "(redis)" in name else 0
        pg_cpu = postgres_cpu(pg)
        metrics = server.metrics() if botkit else {}
        result: WrkResult = run_wrk(server.url, load, self.work, seconds=seconds,
                                    connections=connections or self.args.connections,
                                    delay_ms=delay_ms)
        replied = None
        if echo:
            target = sent_before + result.ok
            _until(lambda: fetch_stats(self.api).requests >= target, 600, f"{name}'s replies")
            replied = time.monotonic() - result.started
        if botkit:
            def idle() -> bool:
                m = server.metrics()
                done = m.get("turns", 0) - metrics.get("turns", 0)
                accepted = m.get("accepted", 0) - metrics.get("accepted", 0)
                return done >= accepted and m.get("botkit_sends_pending", 0) == 0
            _until(idle, 600, f"{name} to finish its turns")
            after = server.metrics()
            webhooks = int(after.get("accepted", 0) - metrics.get("accepted", 0))
            trips = after.get("bench_redis_round_trips", 0) - metrics.get(
                "bench_redis_round_trips", 0)
            calls = after.get("bench_redis_calls", 0) - metrics.get("bench_redis_calls", 0)
        else:
            if echo:  # until the replies to requests cut off at the end are sent too
                last = -1
                while (now := fetch_stats(self.api).requests) != last:
                    last = now
                    time.sleep(0.2)
            webhooks = (fetch_stats(self.api).requests - sent_before) if echo else result.ok
            trips = calls = 0.0
        webhooks = max(webhooks, 1)
        return Measure(
            name=name, result=result, replied_s=replied, webhooks=webhooks,
            cpu_ms=(server.cpu() - cpu) * 1000 / webhooks,
            redis_cpu_ms=(self.redis.cpu() - redis_cpu) * 1000 / webhooks
            if "(redis)" in name else None,
            pg_cpu_ms=cpu_between(pg_cpu, postgres_cpu(pg)) * 1000 / webhooks if pg else None,
            redis_trips=trips / webhooks if "(redis)" in name and "x2" not in name else None,
            redis_calls=calls / webhooks if "(redis)" in name and "x2" not in name else None,
            redis_commands=(self.redis.commands() - commands) / webhooks
            if "(redis)" in name else None,
            rss=server.rss(),
            load=os.getloadavg()[0],
        )


def _loads(args: argparse.Namespace, work: Path, round_number: int) -> dict[str, Path]:
    size = int(args.max_rate * args.seconds)
    return {
        "fresh": build_load(work / f"fresh-{round_number}.txt", size, users=None,
                            first_user=(round_number + 1) * 10_000_000, signed=True),
        "returning": build_load(work / f"returning-{round_number}.txt", size,
                                users=args.returning, first_user=1, signed=True),
    }


def throughput(args: argparse.Namespace, work: Path) -> list[str]:
    with running_fake_api() as api, PrivateRedis(work) as redis, \
            contextlib.ExitStack() as stack:
        bench = Bench(args, work, api, redis, stack)
        bench.add_servers()
        try:
            bench.start()
            warm = build_load(work / "warm.txt", int(args.max_rate * 2), users=args.returning,
                              first_user=1, signed=True)
            for name in bench.servers:
                bench.measure(name, warm, seconds=1.0)
            best: dict[tuple[str, str], Measure] = {}
            for round_number in range(args.rounds):
                loads = _loads(args, work, round_number)
                for load_name, load in loads.items():
                    for name in bench.servers:
                        if "x2" in name and load_name != "fresh":
                            continue
                        m = bench.measure(name, load, seconds=args.seconds)
                        print(f"round {round_number + 1} {load_name:9} {m.line()}", flush=True)
                        old = best.get((load_name, name))
                        if old is None or m.rate > old.rate:
                            best[(load_name, name)] = m
            paced = _paced(args, work, bench, best)
        finally:
            bench.stop()
    return report(args, best, paced)


def _paced(args: argparse.Namespace, work: Path, bench: Bench,
           best: dict[tuple[str, str], Measure]) -> dict[str, tuple[float, Measure, Measure]]:
    """Ack latency of bare and botkit at half of botkit's peak ack rate, per store."""
    paced: dict[str, tuple[float, Measure, Measure]] = {}
    connections = 16
    for kind in args.stores:
        peak = best[("fresh", f"botkit ack ({kind})")].rate
        rate = peak / 2
        delay = connections * 1000 / rate
        load = build_load(work / f"paced-{kind}.txt", int(rate * args.seconds * 3) + 1000,
                          users=None, first_user=90_000_000 + len(paced) * 1_000_000, signed=True)
        pair = []
        for name in ("bare ack", f"botkit ack ({kind})"):
            runs = [bench.measure(name, load, seconds=args.seconds * 2, delay_ms=delay,
                                  connections=connections) for _ in range(2)]
            pair.append(min(runs, key=lambda m: m.result.p99_ms))
        paced[kind] = (rate, pair[0], pair[1])
        print(f"paced at {rate:.0f}/s ({kind}): bare p99 {pair[0].result.p99_ms:.1f} ms at "
              f"{pair[0].result.per_second:.0f}/s, botkit p99 {pair[1].result.p99_ms:.1f} ms at "
              f"{pair[1].result.per_second:.0f}/s", flush=True)
    return paced


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["throughput"],
                        choices=["throughput", "flat"])
    parser.add_argument("--stores", nargs="+", default=["sqlite", "redis", "postgres"],
                        choices=["sqlite", "redis", "postgres"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0, help="each measurement's window")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--returning", type=int, default=600, help="returning users")
    parser.add_argument("--max-rate", type=float, default=12_000,
                        help="requests per second the loads are sized for")
    parser.add_argument("--no-workers", action="store_true", help="skip the two-process run")
    parser.add_argument("--stored", type=int, default=1_000_000, help="flat: conversations")
    parser.add_argument("--quick", action="store_true", help="1 round of 1 s windows")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds = 1, 1.0
    lines = [*machine_facts()]
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        work = Path(tmp)
        if "throughput" in args.parts:
            lines += throughput(args, work)
        if "flat" in args.parts:
            from _compare_flat import flat

            lines += flat(args, work)
    lines.append(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
