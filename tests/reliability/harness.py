"""Real processes for the reliability tests and the reliability benchmark.

* :class:`FakeApi`: the fault-knob fake Messages API (``fake_api.py``) in a subprocess.
* :class:`BotProcess`: ``python -m botkit.cli run <target> --port P`` in a subprocess,
  pointed at the fake with ``VONAGE_MESSAGES_URL`` and dummy credentials; killed with
  ``kill -9`` or stopped with SIGTERM, and always killed by :meth:`BotProcess.close`.
* :func:`deliver`: a load generator (aiohttp, bounded concurrency) posting webhooks the
  way Vonage does, recording each answer (or transport failure) and its latency.
* Readers of what the processes left: the bot's run log, the store's inbox order, its
  pending outbound messages, a conversation.

Every wait here has a deadline: nothing blocks forever when a process misbehaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp
import httpx

from botkit.signature import sign_webhook
from botkit.store import ConversationKey, open_store
from botkit.store.base import Conversation, Store
from botkit.testing import DEFAULT_BOT, inbound_webhook

__all__ = [
    "ECHO",
    "ROOT",
    "SECRET",
    "BotProcess",
    "Delivery",
    "FakeApi",
    "Outcome",
    "StoreSpec",
    "bot_env",
    "conversation",
    "deliver",
    "free_port",
    "inbox_order",
    "open_test_store",
    "overlaps",
    "pending_outbound_refs",
    "percentile",
    "read_log",
    "text_delivery",
    "until",
]

ROOT = Path(__file__).resolve().parents[2]
ECHO = "tests/reliability/bots/echo.py:bot"
SECRET = "reliability-signature-secret-0123456789"
BOT_NUMBER = DEFAULT_BOT["sms"]

# Settings a bot process could inherit from the developer's shell and that would change
# what the tests measure.
_SCRUBBED = (
    "VONAGE_API_KEY",
    "VONAGE_API_SECRET",
    "VONAGE_APPLICATION_ID",
    "VONAGE_PRIVATE_KEY",
    "VONAGE_SIGNATURE_SECRET",
    "VONAGE_MESSAGES_URL",
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(
    process: subprocess.Popen[bytes], *, sig: int = signal.SIGKILL, group: bool = False
) -> None:
    """Signal the process (or its process group, which it leads) and reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


class FakeApi:
    """The fake Messages API (``tests/reliability/fake_api.py``) in its own process.

    Use it as a context manager; the process is killed on exit whatever happened.
    """

    def __init__(self, log_dir: Path) -> None:
        self._log_path = log_dir / "fake-api.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.port = 0
        self.control_port = 0

    def __enter__(self) -> FakeApi:
        self._log = self._log_path.open("wb")
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("fake_api.py"))],
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        try:
            line = _read_line(self._process, timeout=20)
            if not line.startswith(b"PORTS "):
                raise RuntimeError(f"the fake API did not start: {line!r}, {self.log_tail()}")
            self.port, self.control_port = (int(p) for p in line.split()[1:3])
            deadline = time.monotonic() + 20
            while True:
                try:
                    self.stats()
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill the process (idempotent)."""
        if self._process is not None:
            _stop(self._process)
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self) -> str:
        """The end of the fake's stderr, for failure messages."""
        with contextlib.suppress(OSError):
            return self._log_path.read_text(errors="replace")[-2000:]
        return ""

    @property
    def url(self) -> str:
        """The send URL, for ``VONAGE_MESSAGES_URL``."""
        return f"http://127.0.0.1:{self.port}/v1/messages"

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(
            method, f"http://127.0.0.1:{self.control_port}{path}", json=body, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def control(self, **orders: Any) -> dict[str, Any]:
        """Send orders to ``POST /control`` (see ``fake_api.py``); returns the stats."""
        result: dict[str, Any] = self._control("POST", "/control", orders)
        return result

    def fail_next(
        self,
        count: int,
        status: int,
        *,
        retry_after: str | None = None,
        title: str = "Refused",
        detail: str = "refused by the fake Messages API",
    ) -> None:
        """Refuse the next ``count`` sends with ``status``."""
        fail = {"count": count, "status": status, "title": title, "detail": detail}
        if retry_after is not None:
            fail["retry_after"] = retry_after
        self.control(fail=fail)

    def down(self, mode: str = "503") -> None:
        """Refuse every send (``"503"``) or close the port (``"closed"``) until :meth:`up`."""
        self.control(down=mode)

    def up(self) -> None:
        """Accept sends again."""
        self.control(down=None)

    def reset(self) -> None:
        """Forget everything accepted and every fault."""
        self.control(reset=True)

    def stats(self) -> dict[str, Any]:
        """requests, accepted, distinct, duplicates, duplicate_refs, refused, down, ..."""
        result: dict[str, Any] = self._control("GET", "/stats")
        return result

    def accepted(self) -> list[dict[str, Any]]:
        """Every accepted send in order: ``{"t", "client_ref", "body"}``."""
        result: list[dict[str, Any]] = self._control("GET", "/accepted")
        return result

    def attempts(self) -> list[dict[str, Any]]:
        """Every send attempt in order: ``{"t", "client_ref", "status"}``."""
        result: list[dict[str, Any]] = self._control("GET", "/attempts")
        return result


def _read_line(process: subprocess.Popen[bytes], *, timeout: float) -> bytes:
    """One line of the process's stdout, or fail after ``timeout`` seconds."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    os.set_blocking(fd, False)
    deadline = time.monotonic() + timeout
    buffer = b""
    while b"\n" not in buffer:
        chunk = None
        with contextlib.suppress(BlockingIOError):
            chunk = os.read(fd, 4096)
        if chunk:
            buffer += chunk
            continue
        if chunk == b"" or process.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    return buffer.split(b"\n", 1)[0]


def bot_env(
    *,
    api: FakeApi,
    store: str,
    run_log: Path | None = None,
    redis_prefix: str | None = None,
    **settings: str,
) -> dict[str, str]:
    """The environment of a bot process: the fake API, dummy credentials, the store.

    Extra keyword arguments are more variables (``BOTKIT_QUEUE_MAX="20"``, ...).
    """
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(
        PYTHONPATH=str(ROOT),
        VONAGE_MESSAGES_URL=api.url,
        VONAGE_API_KEY="reliability-key",
        VONAGE_API_SECRET="reliability-secret",
        BOTKIT_STORE=store,
        BOTKIT_SANDBOX="off",
        PYTHONUNBUFFERED="1",
    )
    if run_log is not None:
        env["RELIABILITY_RUN_LOG"] = str(run_log)
    if redis_prefix is not None:
        env["RELIABILITY_REDIS_PREFIX"] = redis_prefix
    env.update(settings)
    return env


class BotProcess:
    """``python -m botkit.cli run TARGET --port P [--workers N]`` in a subprocess.

    Args:
        env: the process environment (see :func:`bot_env`).
        log_dir: where its stderr goes (``<name>-<n>.log``, one file per start).
        target: what to run.
        name: names the log files.
        workers: ``--workers``.
    """

    def __init__(
        self,
        env: dict[str, str],
        log_dir: Path,
        *,
        target: str = ECHO,
        name: str = "bot",
        workers: int = 1,
    ) -> None:
        self.env = env
        self.log_dir = log_dir
        self.target = target
        self.name = name
        self.workers = workers
        self.port = free_port()
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> BotProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, *, timeout: float = 30.0) -> BotProcess:
        """Start the process and wait until ``/healthz`` answers 200."""
        if self.alive:
            raise RuntimeError(f"{self.name} is already running")
        self.close()
        self.starts += 1
        self._log = (self.log_dir / f"{self.name}-{self.starts}.log").open("wb")
        command = [sys.executable, "-m", "botkit.cli", "run", self.target, "--port", str(self.port)]
        if self.workers != 1:
            command += ["--workers", str(self.workers)]
        # A session of its own: kill() reaches uvicorn's worker processes too.
        self._process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200 and (
                    self.workers == 1 or self._workers_started() >= self.workers
                ):
                    return self
            if not self.alive or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"{self.name} did not start: {self.log_tail()}")
            time.sleep(0.05)

    def _workers_started(self) -> int:
        """How many uvicorn workers have finished starting (their lifespan ran)."""
        return self.log_tail(size=1 << 30).count("Application startup complete.")

    def kill(self) -> None:
        """``kill -9`` the process and every process it started (``--workers``)."""
        if self._process is not None:
            _stop(self._process, sig=signal.SIGKILL, group=True)

    def terminate(self, *, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait up to ``timeout`` s; returns the exit code (None: killed)."""
        if self._process is None:
            return None
        self._process.send_signal(signal.SIGTERM)
        try:
            return self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def close(self) -> None:
        """Kill the process if it still runs, and close its log (idempotent)."""
        self.kill()
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, size: int = 3000) -> str:
        """The end of the current start's log, for failure messages."""
        path = self.log_dir / f"{self.name}-{self.starts}.log"
        with contextlib.suppress(OSError):
            return path.read_text(errors="replace")[-size:]
        return ""

    def metrics(self) -> dict[str, float]:
        """``botkit_events_total`` by reason, and the gauges, from ``GET /metrics``."""
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        found: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name, _, value = line.rpartition(" ")
            if name.startswith("botkit_events_total{"):
                reason = name.split('reason="', 1)[1].split('"', 1)[0]
                found[reason] = float(value)
            elif name.startswith("botkit_") and "{" not in name:
                found[name] = float(value)
        return found

    def health(self) -> dict[str, Any]:
        """``GET /healthz`` as JSON (whatever its status)."""
        result: dict[str, Any] = httpx.get(f"{self.url}/healthz", timeout=10).json()
        return result


# -- webhooks and load ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook request: its message_uuid (for bookkeeping), body and headers."""

    uuid: str
    body: bytes
    headers: dict[str, str]
    path: str = "/webhooks/inbound"


@dataclass(slots=True)
class Outcome:
    """What one delivery got: a status (None: no answer at all) and how long it took."""

    delivery: Delivery
    status: int | None
    seconds: float
    error: str = ""


def text_delivery(
    user: str,
    text: str,
    *,
    message_uuid: str | None = None,
    secret: str | None = None,
    now: float | None = None,
) -> Delivery:
    """An SMS inbound webhook from ``user``, signed with ``secret`` when given."""
    at = time.time() if now is None else now
    message_uuid = message_uuid or str(uuid.uuid4())
    body = json.dumps(
        inbound_webhook(
            "sms", "text", {"text": text}, user=user, timestamp=at, message_uuid=message_uuid
        )
    ).encode()
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["authorization"] = sign_webhook(body, secret, now=at)
    return Delivery(message_uuid, body, headers)


async def deliver(
    urls: str | Sequence[str],
    deliveries: Iterable[Delivery],
    *,
    concurrency: int,
    timeout: float = 15.0,
    pick: Callable[[int], int] | None = None,
) -> list[Outcome]:
    """Post every delivery, ``concurrency`` at a time; one :class:`Outcome` each, in order.

    Args:
        urls: the bot's base URL, or several (``pick(i)`` chooses the index for the i-th
            delivery; round robin by default).
        timeout: seconds allowed per request; a request that gets no answer in time, or
            whose connection fails, has ``status`` None.
    """
    bases = [urls] if isinstance(urls, str) else list(urls)
    items = list(deliveries)
    outcomes: list[Outcome | None] = [None] * len(items)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(items)):
        queue.put_nowait(index)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    client_timeout = aiohttp.ClientTimeout(total=timeout)

    async def one(session: aiohttp.ClientSession) -> None:
        while True:
            try:
                index = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            item = items[index]
            base = bases[pick(index) if pick else index % len(bases)]
            started = time.monotonic()
            try:
                async with session.post(
                    base + item.path, data=item.body, headers=item.headers
                ) as response:
                    await response.read()
                    status: int | None = response.status
                    error = ""
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"
            outcomes[index] = Outcome(item, status, time.monotonic() - started, error)

    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        await asyncio.gather(*(one(session) for _ in range(concurrency)))
    return [outcome for outcome in outcomes if outcome is not None]


async def until(
    condition: Callable[[], bool], *, timeout: float, interval: float = 0.1, what: str = ""
) -> float:
    """Poll ``condition`` until it holds; returns the seconds it took.

    Raises:
        AssertionError: it still does not hold after ``timeout`` seconds.
    """
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not reached within {timeout:.0f} s: {what or condition}")
        await asyncio.sleep(interval)
    return time.monotonic() - started


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


# -- what the processes left behind ----------------------------------------------------


def read_log(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The bot's run log: (handler runs, refused sends reported to on_error)."""
    runs: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    if not path.exists():
        return runs, errors
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by kill -9
        (errors if "error" in record else runs).append(record)
    return runs, errors


def overlaps(runs: Iterable[dict[str, Any]]) -> int:
    """How many handler runs started before the previous run of their conversation ended.

    Runs of every process are compared on ``time.monotonic()``, which is one clock for
    the whole machine on Linux.
    """
    by_key: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for run in runs:
        by_key[run["key"]].append((run["start"], run["end"]))
    found = 0
    for spans in by_key.values():
        spans.sort()
        latest_end = float("-inf")
        for start, end in spans:
            if start < latest_end:
                found += 1
            latest_end = max(latest_end, end)
    return found


def open_test_store(store_url: str, redis_prefix: str | None = None) -> Store:
    """An unopened handle on the store the bot processes use."""
    if redis_prefix is not None:
        from botkit.store.redis import RedisStore

        return RedisStore(store_url, prefix=redis_prefix)
    return open_store(store_url)


def inbox_order(store_url: str, redis_prefix: str | None = None) -> list[str]:
    """Every inbox entry's dedupe key (an inbound message's uuid), in acceptance order."""
    if store_url.startswith("sqlite:///"):
        path = store_url.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
            rows = db.execute("SELECT dedupe_key FROM inbox ORDER BY id").fetchall()
        return [str(row[0]) for row in rows]
    if store_url.startswith(("postgresql://", "postgres://")):
        return _postgres_inbox_order(store_url)
    import redis

    with redis.Redis.from_url(store_url) as client:
        entries = client.xrange(f"{redis_prefix}inbox")
    ordered = sorted(entries, key=lambda e: int(e[0].split(b"-")[0]))
    return [fields[b"dedupe"].decode() for _, fields in ordered]


def _postgres_inbox_order(store_url: str) -> list[str]:
    import asyncpg

    from botkit.store._pg_sql import from_db
    from botkit.store.postgres import PostgresStore

    from ..store.pg import run_sync

    store = PostgresStore.from_url(store_url)

    async def fetch() -> list[str]:
        conn = await asyncpg.connect(store.url)
        try:
            rows = await conn.fetch(f'SELECT dedupe_key FROM "{store.schema}".inbox ORDER BY id')
        finally:
            await conn.close()
        return [from_db(row[0]) for row in rows]

    return run_sync(fetch)


async def pending_outbound_refs(store_url: str, redis_prefix: str | None = None) -> list[str]:
    """The client_refs of every outbound message still pending in the store."""
    store = open_test_store(store_url, redis_prefix)
    await store.open()
    try:
        return [m.client_ref for m in await store.pending_outbound(limit=1_000_000)]
    finally:
        await store.close()


async def conversation(store_url: str, user: str, redis_prefix: str | None = None) -> Conversation:
    """The stored SMS conversation of ``user`` with the bot's number."""
    store = open_test_store(store_url, redis_prefix)
    await store.open()
    try:
        return await store.load(ConversationKey("sms", user, BOT_NUMBER))
    finally:
        await store.close()


@dataclass(frozen=True)
class StoreSpec:
    """Where the bot processes of one test keep their data."""

    kind: str
    url: str
    redis_prefix: str | None = None


@dataclass
class Replies:
    """The fake API's accepted sends, grouped: per inbound uuid, its reply count and text."""

    by_uuid: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, accepted: Iterable[dict[str, Any]]) -> Replies:
        replies = cls()
        for item in accepted:
            ref = str(item["client_ref"])
            uuid_, _, _ = ref.rpartition(":")
            replies.by_uuid.setdefault(uuid_, []).append(str(item["body"].get("text", "")))
        return replies

    def count(self, message_uuid: str) -> int:
        return len(self.by_uuid.get(message_uuid, []))

    def number(self, message_uuid: str) -> int:
        """The turn number the (first) reply to ``message_uuid`` carries."""
        return int(self.by_uuid[message_uuid][0].split(" ", 1)[0])
