"""Processes for ``bench/compare.py``: the servers measured, a Redis of its own, the fake
Messages API, and the CPU time and memory each used (read from ``/proc``).

Every process is started in a session of its own and killed with it, so a server with
``--workers`` is measured whole (the CPU of every process of its session is summed).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

__all__ = [
    "ROOT",
    "PrivateRedis",
    "Server",
    "free_port",
    "session_cpu",
    "session_rss",
]

ROOT = Path(__file__).resolve().parent.parent
_TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _session(sid: int) -> list[int]:
    """Every process of the session ``sid`` leads."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat(int(name))
            if fields is not None and int(fields[3]) == sid:
                found.append(int(name))
    return found


def session_cpu(sid: int) -> float:
    """CPU seconds (user + system, all threads) used so far by the processes of a session."""
    total = 0.0
    for pid in _session(sid):
        fields = _stat(pid)
        if fields is not None:
            total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def session_rss(sid: int) -> int:
    """Resident bytes of the processes of a session."""
    total = 0
    for pid in _session(sid):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def _get(url: str, timeout: float = 10.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body: bytes = response.read()
        return body


class Server:
    """One server under test: a command, started in its own session, with a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], work: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.port = free_port()
        self.log_path = work / f"{name.replace(' ', '_').replace('/', '_')}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self, timeout: float = 60.0, ready: int = 1) -> None:
        """Start and wait until ``/healthz`` answers (and ``ready`` apps have started)."""
        self._log = self.log_path.open("wb")
        command = [a.replace("{port}", str(self.port)) for a in self.command]
        self._process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError):
                _get(f"{self.url}/healthz", timeout=2)
                if self.log_path.read_text(errors="replace").count("startup complete") >= ready:
                    return
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start: {self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self, size: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-size:]
        return ""

    def metrics(self) -> dict[str, float]:
        """botkit's gauges and counters (``botkit_events_total`` by reason) from /metrics."""
        found: dict[str, float] = {}
        for line in _get(f"{self.url}/metrics").decode().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name, _, value = line.rpartition(" ")
            if name.startswith("botkit_events_total{"):
                found[name.split('reason="', 1)[1].split('"', 1)[0]] = float(value)
            elif "{" not in name:
                found[name] = float(value)
        return found

    def cpu(self) -> float:
        return session_cpu(self.pid)

    def rss(self) -> int:
        return session_rss(self.pid)

    def stop(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=30)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None


class PrivateRedis:
    """A redis-server of the benchmark's own (appendonly, fsync every second, as
    docs/deploy.md asks of a bot's Redis), so its CPU and its command counters are the
    bot's alone even when other clients use the machine's Redis."""

    def __init__(self, work: Path, *, appendonly: bool = True) -> None:
        self.appendonly = appendonly
        self.port = free_port()
        self.dir = work / f"redis-{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.dir.mkdir(parents=True)
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--save", "", "--appendonly", "yes" if self.appendonly else "no",
             "--appendfsync", "everysec", "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(Exception):
                if self.client().ping():
                    return self
            if time.monotonic() > deadline:
                raise RuntimeError("the benchmark's redis-server did not start")
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url)

    def cpu(self) -> float:
        """CPU seconds the server used (its main thread and its AOF/IO threads)."""
        assert self._process is not None
        return session_cpu(self._process.pid)

    def info(self, section: str) -> dict[str, Any]:
        with self.client() as client:
            info: dict[str, Any] = client.info(section)
            return info

    def commands(self) -> int:
        """Commands executed so far (calls in ``INFO commandstats``, scripts' inside
        commands included)."""
        stats = self.info("commandstats")
        return sum(int(v["calls"]) for k, v in stats.items() if k.startswith("cmdstat_"))

    def flush(self) -> None:
        with self.client() as client:
            client.flushall()


def python() -> str:
    return sys.executable
