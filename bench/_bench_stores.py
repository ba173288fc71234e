"""The stores the reliability benchmark runs botkit on, and what PostgreSQL's own
processes spend.

* :func:`bench_store`: a fresh store of a kind (a SQLite file, a Redis key prefix, a
  PostgreSQL schema), removed afterwards. Redis is the server at ``BOTKIT_TEST_REDIS``
  (default ``redis://127.0.0.1:6379/15``), PostgreSQL the database at
  ``BOTKIT_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/botkit_test``).
* :func:`postgres_cpu`: the CPU time the PostgreSQL backends serving one bot have used,
  from ``/proc`` (the server runs on this machine): the bot connects with an
  ``application_name`` of its own, which names its backends in ``pg_stat_activity``.
  With a SQLite store that work is in the bot's process and counted there; with
  PostgreSQL it is not, so the benchmark reports it next to it.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from tests.reliability.harness import StoreSpec

__all__ = ["STORE_KINDS", "bench_store", "cpu_between", "postgres_cpu"]

STORE_KINDS = ("sqlite", "redis", "postgres")


def _postgres_url() -> str:
    return (
        os.environ.get("BOTKIT_TEST_POSTGRES") or "postgresql://postgres@127.0.0.1:5432/botkit_test"
    )


@contextlib.contextmanager
def bench_store(kind: str, work: Path, name: str) -> Iterator[StoreSpec]:
    """A fresh store of ``kind`` for one part of the benchmark, removed afterwards.

    A PostgreSQL store's URL names its schema and an ``application_name`` (both
    ``bench_<name>_<random>``), which :func:`postgres_cpu` finds its backends by.
    """
    if kind == "sqlite":
        yield StoreSpec("sqlite", f"sqlite:///{work / (name + '.db')}")
    elif kind == "redis":
        import redis

        url = os.environ.get("BOTKIT_TEST_REDIS") or "redis://127.0.0.1:6379/15"
        prefix = f"botkit-bench:{uuid.uuid4().hex}:"
        try:
            yield StoreSpec("redis", url, prefix)
        finally:
            with redis.Redis.from_url(url) as client:
                keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
                if keys:
                    client.delete(*keys)
    elif kind == "postgres":
        from tests.store.pg import drop_schemas

        url = _postgres_url()
        schema = f"bench_{name.replace('-', '_')}_{uuid.uuid4().hex[:12]}"
        joiner = "&" if "?" in url else "?"
        try:
            yield StoreSpec("postgres", f"{url}{joiner}schema={schema}&application_name={schema}")
        finally:
            drop_schemas(url, [schema])
    else:
        raise ValueError(f"no store kind {kind!r}; use one of {', '.join(STORE_KINDS)}")


def postgres_cpu(store: StoreSpec | None) -> dict[int, float]:
    """CPU seconds each PostgreSQL backend of ``store``'s bot has used so far, by process
    id (none for another kind of store, or when the processes cannot be read); subtract
    two of these with :func:`cpu_between`."""
    if store is None or store.kind != "postgres":
        return {}
    import asyncpg

    from tests.store.pg import run_sync

    name = store.url.rpartition("application_name=")[2]

    async def backends() -> list[int]:
        conn = await asyncpg.connect(_postgres_url())
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1", name
            )
        finally:
            await conn.close()
        return [int(row["pid"]) for row in rows]

    used: dict[int, float] = {}
    for pid in run_sync(backends):
        with contextlib.suppress(OSError):
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two :func:`postgres_cpu` readings (a backend started in
    between counts whole)."""
    return sum(used - before.get(pid, 0.0) for pid, used in after.items())
