"""Flat cost, for ``bench/compare.py --parts flat``: botkit's throughput with ``--stored``
conversations already in its store against 1,000, the bytes each stored conversation
takes, and the bot process's memory.

Seeding is fast because it never goes through HTTP: a real botkit server answers one
webhook from a template user (so every row and key is what botkit itself writes: the
conversation, its inbox entry, its dedupe key, its sent reply and its outcome, the
user's history), and then the store copies that template N times, replacing the
template's number (it is in the user's number and in the message id) with 1..N: one
``INSERT ... SELECT`` per table on SQLite and PostgreSQL, a Lua loop inside Redis. The
copies are finished history inside retention, as a bot that has answered N users keeps.
Redis runs here without its append-only file (to keep gigabytes off the disk); both
sizes are measured the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import time
from pathlib import Path

import httpx
from _compare_load import SECRET, build_load
from _compare_procs import PrivateRedis, Server
from _compare_report import Measure

from botkit.signature import sign_webhook
from botkit.testing import inbound_webhook

__all__ = ["flat"]

MARK = "7777777777"  # the template user's number (after 44) and the end of its message id
TEMPLATE_USER = "44" + MARK
TEMPLATE_UUID = "00000000-0000-4000-8000-00" + MARK


def _post_template(server: Server) -> None:
    body = httpx.Request("POST", "http://x", json=inbound_webhook(
        "sms", "text", {"text": "hello"}, user=TEMPLATE_USER, timestamp=time.time(),
        message_uuid=TEMPLATE_UUID)).content
    headers = {"content-type": "application/json",
               "authorization": sign_webhook(body, SECRET, now=time.time())}
    answer = httpx.post(f"{server.url}/webhooks/inbound", content=body, headers=headers)
    answer.raise_for_status()
    deadline = time.monotonic() + 30
    while server.metrics().get("sent", 0) < 1:
        if time.monotonic() > deadline:
            raise RuntimeError("the template turn was not answered")
        time.sleep(0.05)


def _seed_sqlite(path: Path, count: int) -> None:
    number = "printf('%010d', n.i)"
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            info = db.execute(f"PRAGMA table_info({table})").fetchall()
            columns = [(c[1], c[2].upper()) for c in info
                       if not (c[5] and c[2].upper() == "INTEGER")]  # ids are given anew
            texty = [name for name, kind in columns if kind in ("TEXT", "BLOB")]
            if not texty:
                continue
            match = " OR ".join(f"CAST({c} AS TEXT) LIKE '%{MARK}%'" for c in texty)
            values = ", ".join(
                f"CAST(replace(CAST(t.{c} AS TEXT), '{MARK}', {number}) AS {kind})"
                if c in texty else f"t.{c}" for c, kind in columns)
            names = ", ".join(c for c, _ in columns)
            db.execute(
                f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                f"INSERT INTO {table} ({names}) SELECT {values} FROM n, "
                f"(SELECT * FROM {table} WHERE {match}) AS t", (count,))
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _sqlite_bytes(path: Path) -> int:
    with sqlite3.connect(path) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
    return int(pages * size)


async def _seed_postgres(url: str, count: int) -> int:
    import asyncpg

    base, _, query = url.partition("?")
    schema = dict(p.split("=", 1) for p in query.split("&"))["schema"]
    conn = await asyncpg.connect(base)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name, data_type, is_identity FROM "
            "information_schema.columns WHERE table_schema = $1 ORDER BY ordinal_position",
            schema)
        tables: dict[str, list[tuple[str, str]]] = {}
        for r in rows:
            if r["is_identity"] != "YES":
                tables.setdefault(r["table_name"], []).append((r["column_name"], r["data_type"]))
        number = "lpad(n.i::text, 10, '0')"
        for table, columns in tables.items():
            texty = [c for c, kind in columns if kind in ("text", "bytea")]
            if not texty:
                continue
            def text(c: str, kind: str) -> str:
                return f"convert_from(t.\"{c}\", 'UTF8')" if kind == "bytea" else f"t.\"{c}\""
            kinds = dict(columns)
            match = " OR ".join(f"{text(c, kinds[c])} LIKE '%{MARK}%'" for c in texty)
            values = []
            for c, kind in columns:
                if c not in texty:
                    values.append(f't."{c}"')
                elif kind == "bytea":
                    values.append(f"convert_to(replace({text(c, kind)}, '{MARK}', {number}), "
                                  "'UTF8')")
                else:
                    values.append(f"replace({text(c, kind)}, '{MARK}', {number})")
            names = ", ".join(f'"{c}"' for c, _ in columns)
            await conn.execute(
                f'INSERT INTO "{schema}"."{table}" ({names}) SELECT {", ".join(values)} FROM '
                f"generate_series(1, {count}) AS n(i), (SELECT * FROM \"{schema}\".\"{table}\" "
                f"AS t WHERE {match}) AS t")
        await conn.execute(f'VACUUM ANALYZE "{schema}".conversations')
        size = await conn.fetchval(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace s "
            "ON s.oid = c.relnamespace WHERE s.nspname = $1 AND c.relkind = 'r'", schema)
        return int(size or 0)
    finally:
        await conn.close()


_REDIS_SEED = """
local mark, first, last = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local p, at = ARGV[4], ARGV[5]
local conv, dedupe, ttl, hist_in, hist_out = ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local version, doc, inbox, outbox, done = ARGV[11], ARGV[12], cjson.decode(ARGV[13]),
  cjson.decode(ARGV[14]), ARGV[15]
for i = first, last do
  local u = string.format('%010d', i)
  local function s(text) return (string.gsub(text, mark, u)) end
  redis.call('HSET', s(conv), 'version', version, 'doc', s(doc), 'updated_at', at)
  redis.call('SET', s(dedupe), at, 'EX', ttl)
  local id = redis.call('INCR', p .. 'inbox:seq')
  local fields = {}
  for _, v in ipairs(inbox) do table.insert(fields, s(v)) end
  redis.call('XADD', p .. 'inbox', id .. '-0', unpack(fields))
  redis.call('ZADD', s(hist_in), id, id)
  local oid = redis.call('INCR', p .. 'outbox:seq')
  fields = {}
  for _, v in ipairs(outbox) do table.insert(fields, s(v)) end
  redis.call('XADD', p .. 'outbox', oid .. '-0', unpack(fields))
  redis.call('HSET', p .. 'outbox:done', oid, done)
  redis.call('ZADD', s(hist_out), oid, oid)
end
return last
"""


def _seed_redis(redis: PrivateRedis, prefix: str, count: int) -> int:
    import json

    client = redis.client()
    before = int(client.info("memory")["used_memory"])
    names = [k.decode() for k in client.scan_iter(match=f"{prefix}*{MARK}*", count=1000)]
    conv = next(k for k in names if k.startswith(prefix + "conv:"))
    dedupe = next(k for k in names if k.startswith(prefix + "dedupe:"))
    hist_in = next(k for k in names if k.startswith(prefix + "hist:in:"))
    hist_out = next(k for k in names if k.startswith(prefix + "hist:out:"))
    stored = client.hgetall(conv)
    (_, inbox), = client.xrange(prefix + "inbox")
    (out_id, outbox), = client.xrange(prefix + "outbox")
    done = client.hget(prefix + "outbox:done", out_id.decode().split("-")[0])
    ttl = client.ttl(dedupe)

    def flat_fields(fields: dict[bytes, bytes]) -> str:
        return json.dumps([x.decode() for kv in fields.items() for x in kv])

    script = client.register_script(_REDIS_SEED)
    step = 20_000
    for first in range(1, count + 1, step):
        last = min(count, first + step - 1)
        script(keys=[], args=[MARK, first, last, prefix, time.time(), conv, dedupe, ttl,
                              hist_in, hist_out, stored[b"version"], stored[b"doc"],
                              flat_fields(inbox), flat_fields(outbox), done])
    used = int(client.info("memory")["used_memory"])
    client.close()
    return used - before


def flat(args: argparse.Namespace, work: Path) -> list[str]:
    """Throughput, bytes and memory with 1,000 and ``args.stored`` stored conversations."""
    from _fake_api import running_fake_api
    from compare import Bench

    lines = ["", f"flat cost: {args.stored:,} stored conversations against 1,000"]
    sizes = (1_000, args.stored)
    with running_fake_api() as api, PrivateRedis(work, appendonly=False) as redis, \
            contextlib.ExitStack() as stack:
        bench = Bench(args, work, api, redis, stack)
        footprint: dict[str, int] = {}
        for kind in args.stores:
            for size in sizes:
                name = f"botkit echo {size} ({kind})"
                spec = bench.store(kind, f"flat-{size}-{kind}")
                env = bench.env(BENCH_SERVER="bot", BOTKIT_STORE=spec.url,
                                VONAGE_SIGNATURE_SECRET=SECRET,
                                BENCH_COUNT_REDIS="1" if kind == "redis" else "0")
                server = bench.servers[name] = Server(name, list(bench_command()), env, work)
                bench.specs[name] = spec
                server.start()
                _post_template(server)
                started = time.monotonic()
                if kind == "sqlite":
                    path = Path(spec.url.removeprefix("sqlite:///"))
                    _seed_sqlite(path, size)
                    footprint[name] = _sqlite_bytes(path)
                elif kind == "postgres":
                    footprint[name] = asyncio.run(_seed_postgres(spec.url, size))
                else:
                    prefix = spec.url.rpartition("prefix=")[2]
                    footprint[name] = _seed_redis(redis, prefix, size)
                print(f"seeded {name}: {size:,} in {time.monotonic() - started:.0f} s, "
                      f"{footprint[name] / 1e6:,.0f} MB", flush=True)
        try:
            best: dict[str, Measure] = {}
            rss: dict[str, list[int]] = {n: [s.rss()] for n, s in bench.servers.items()}
            for round_number in range(args.rounds):
                loads = {
                    "fresh": build_load(work / f"flat-fresh-{round_number}.txt",
                                        int(args.max_rate * args.seconds), users=None,
                                        first_user=(round_number + 5) * 100_000_000,
                                        signed=True),
                    "returning": build_load(work / f"flat-ret-{round_number}.txt",
                                            int(args.max_rate * args.seconds),
                                            users=args.returning, first_user=1, signed=True),
                }
                for load_name, load in loads.items():
                    for name in bench.servers:
                        m = bench.measure(name, load, seconds=args.seconds)
                        rss[name].append(m.rss)
                        print(f"flat round {round_number + 1} {load_name:9} {m.line()}",
                              flush=True)
                        key = f"{load_name} {name}"
                        if key not in best or m.rate > best[key].rate:
                            best[key] = m
        finally:
            bench.stop()
    for kind in args.stores:
        small, large = (f"botkit echo {s} ({kind})" for s in sizes)
        per = (footprint[large] - footprint[small]) / (sizes[1] - sizes[0])
        for load in ("fresh", "returning"):
            a, b = best[f"{load} {small}"], best[f"{load} {large}"]
            ratio = b.rate / a.rate
            lines.append(
                f"  {kind}, {load}: {b.rate:,.0f} replies/s with {sizes[1]:,} stored against "
                f"{a.rate:,.0f} with 1,000 = {ratio:.2f}x (target within 10%: "
                f"{'met' if ratio >= 0.9 else 'NOT met'}); CPU {b.cpu_ms:.3f} against "
                f"{a.cpu_ms:.3f} ms/webhook")
        lines.append(
            f"  {kind}: {per:,.0f} bytes per stored conversation ({footprint[large] / 1e6:,.0f}"
            f" MB for {sizes[1]:,}); bot RSS {rss[large][0] / 1e6:.0f} MB at start, "
            f"{max(rss[large]) / 1e6:.0f} MB at most (1,000 stored: {rss[small][0] / 1e6:.0f} "
            f"and {max(rss[small]) / 1e6:.0f} MB)")
    return lines


def bench_command() -> list[str]:
    from compare import _BOTKIT

    return list(_BOTKIT)
