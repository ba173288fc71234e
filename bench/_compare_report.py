"""Figures for ``bench/compare.py``: one measurement, the machine's facts, the report with
its ratios and targets."""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import subprocess
from dataclasses import dataclass
from importlib import metadata

from _compare_load import WrkResult

__all__ = ["Measure", "machine_facts", "report"]


@dataclass
class Measure:
    """One server under one load."""

    name: str
    result: WrkResult
    replied_s: float | None  # seconds from the start until the last reply was accepted
    webhooks: int  # webhooks processed (the CPU figures are per one of these)
    cpu_ms: float  # the server's processes
    redis_cpu_ms: float | None
    pg_cpu_ms: float | None
    redis_trips: float | None  # network round trips (a pipeline is one)
    redis_calls: float | None  # commands sent (a script call is one)
    redis_commands: float | None  # commands Redis ran (those inside scripts too)
    rss: int
    load: float  # the 1-minute load average when it ended

    @property
    def rate(self) -> float:
        """Replies per second for an echo server, acknowledgements per second otherwise."""
        if self.replied_s is not None:
            return self.result.ok / self.replied_s
        return self.result.per_second

    @property
    def total_cpu_ms(self) -> float:
        """CPU per webhook with the store server's work on it added (Redis, PostgreSQL)."""
        return self.cpu_ms + (self.redis_cpu_ms or 0.0) + (self.pg_cpu_ms or 0.0)

    def line(self) -> str:
        extra = ""
        if self.redis_cpu_ms is not None:
            extra += f", redis {self.redis_cpu_ms:.3f} ms"
        if self.pg_cpu_ms is not None:
            extra += f", postgres {self.pg_cpu_ms:.3f} ms"
        if self.redis_trips is not None and self.redis_calls is not None:
            extra += f", {self.redis_calls:.2f} calls in {self.redis_trips:.2f} round trips"
        return (f"{self.name:26} {self.rate:7.0f}/s (acks {self.result.per_second:.0f}/s, p99 "
                f"{self.result.p99_ms:.1f} ms, non-2xx {self.result.requests - self.result.ok}), "
                f"cpu {self.cpu_ms:.3f} ms/webhook{extra}, load {self.load:.1f}")


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    # wrk prints its version with its usage, and exits 1.
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0].strip() if text else "?"


def machine_facts() -> list[str]:
    model = "?"
    try:
        with open("/proc/cpuinfo") as info:
            model = next(ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    with open("/proc/meminfo") as info:
        memory = int(next(ln for ln in info if ln.startswith("MemTotal")).split()[1]) // 1024
    packages = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("uvicorn", "uvloop", "httptools", "starlette", "aiohttp", "orjson",
                     "pydantic", "redis", "asyncpg")
    )
    commit = _version(["git", "rev-parse", "--short", "HEAD"])
    return [
        f"machine: {os.cpu_count()} CPUs ({model}), {memory:,} MiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
        f"packages: {packages}; SQLite {sqlite3.sqlite_version}; "
        f"{_version(['redis-server', '--version'])}; {_version(['wrk', '--version'])}",
        f"commit {commit}; load average at the start: "
        + " ".join(f"{x:.2f}" for x in os.getloadavg()),
    ]


def _verdict(value: float, target: float, *, at_most: bool = False) -> str:
    met = value <= target if at_most else value >= target
    return "met" if met else "NOT met"


def report(args: argparse.Namespace, best: dict[tuple[str, str], Measure],
           paced: dict[str, tuple[float, Measure, Measure]]) -> list[str]:
    lines = [
        "",
        f"best of {args.rounds} rounds of {args.seconds:.0f} s at {args.connections} "
        f"connections; fresh: every message from a new user; returning: {args.returning} "
        "users",
        "",
        "| load | server | replies or acks /s | ack p50 ms | ack p99 ms | non-2xx | "
        "server CPU ms/webhook | store server CPU ms/webhook | Redis calls / round trips / "
        "commands run, per webhook | RSS MB | load avg |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (load, _), m in sorted(best.items()):
        store = m.redis_cpu_ms if m.redis_cpu_ms is not None else m.pg_cpu_ms
        trips = (f"{m.redis_calls:.2f} / {m.redis_trips:.2f} / {m.redis_commands:.1f}"
                 if m.redis_trips is not None and m.redis_calls is not None
                 and m.redis_commands is not None else "-")
        lines.append(
            f"| {load} | {m.name} | {m.rate:,.0f} | {m.result.p50_ms:.1f} | "
            f"{m.result.p99_ms:.1f} | {m.result.requests - m.result.ok} | {m.cpu_ms:.3f} | "
            f"{'-' if store is None else f'{store:.3f}'} | {trips} | {m.rss / 1e6:.0f} | "
            f"{m.load:.1f} |"
        )
    lines.append("")
    lines.append("ratios (botkit / bare, same run):")
    for kind in args.stores:
        target = 0.5 if kind == "sqlite" else 0.35 if kind == "redis" else None
        for load in ("fresh", "returning"):
            bare_echo = best[(load, "bare echo")]
            for role in ("echo", "echo unsigned"):
                m = best[(load, f"botkit {role} ({kind})")]
                ratio = m.rate / bare_echo.rate
                verdict = ("" if target is None
                           else f" (target >= {target}x: {_verdict(ratio, target)})")
                signed = "unsigned" if "unsigned" in role else "signed"
                lines.append(
                    f"  webhook -> reply, {kind}, {load}, {signed}: "
                    f"{ratio:.2f}x{verdict}; CPU per webhook bare / botkit "
                    f"{bare_echo.total_cpu_ms / m.total_cpu_ms:.2f}x")
            ack = best[(load, f"botkit ack ({kind})")]
            bare_ack = best[(load, "bare ack")]
            ratio = ack.rate / bare_ack.rate
            lines.append(f"  acknowledging, {kind}, {load}: {ratio:.2f}x (target >= 0.6x: "
                         f"{_verdict(ratio, 0.6)}); CPU per webhook bare / botkit "
                         f"{bare_ack.total_cpu_ms / ack.total_cpu_ms:.2f}x")
    for kind, (rate, bare, bot) in paced.items():
        ratio = bot.result.p99_ms / bare.result.p99_ms
        lines.append(
            f"  ack p99 at half of botkit's peak ({kind}, asked {rate:.0f}/s; got bare "
            f"{bare.result.per_second:.0f}/s, botkit {bot.result.per_second:.0f}/s): bare "
            f"{bare.result.p99_ms:.1f} ms, botkit {bot.result.p99_ms:.1f} ms = {ratio:.2f}x "
            f"(target <= 2x: {_verdict(ratio, 2.0, at_most=True)})")
    if "redis" in args.stores and "sqlite" in args.stores:
        for load in ("fresh", "returning"):
            redis = best[(load, "botkit echo (redis)")]
            sqlite = best[(load, "botkit echo (sqlite)")]
            ratio = redis.total_cpu_ms / sqlite.total_cpu_ms
            lines.append(
                f"  Redis CPU per webhook (bot + redis-server) / SQLite's, {load}: "
                f"{redis.total_cpu_ms:.3f} / {sqlite.total_cpu_ms:.3f} ms = {ratio:.2f}x "
                f"(target <= 1.5x: {_verdict(ratio, 1.5, at_most=True)}); Redis calls per "
                f"turn {redis.redis_calls or 0:.2f} (target <= 4: "
                f"{_verdict(round(redis.redis_calls or 0.0, 1), 4.0, at_most=True)}), sent in "
                f"{redis.redis_trips or 0:.2f} network round trips")
    two = best.get(("fresh", "botkit echo x2 (redis)"))
    if two is not None:
        one = best[("fresh", "botkit echo (redis)")]
        scale = 2 * one.cpu_ms / two.cpu_ms
        lines.append(
            f"  two processes on one Redis: {two.rate:,.0f} replies/s against {one.rate:,.0f} "
            f"({two.rate / one.rate:.2f}x on this machine's 2 shared cores); bot CPU per webhook "
            f"summed over the processes {two.cpu_ms:.3f} ms against {one.cpu_ms:.3f} ms, Redis "
            f"{two.redis_cpu_ms or 0:.3f} ms against {one.redis_cpu_ms or 0:.3f} ms: with a core "
            f"per process, two would deliver {scale:.2f}x one (target >= 1.6x: "
            f"{_verdict(scale, 1.6)})")
    return lines
