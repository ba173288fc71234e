"""A PostgreSQL server of the test's own, to stop and start without disturbing anyone.

The machine's shared server is never stopped by a test: tests that take the store away
(a server crash, a restart under load) run their own, made with ``initdb`` in a
temporary directory and served by ``pg_ctl`` on a free port of 127.0.0.1. As root the
binaries run as the ``postgres`` user (the server refuses to run as root), in a
directory that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

__all__ = ["PrivatePostgres", "postgres_binaries"]


def postgres_binaries() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: the newest under /usr/lib/postgresql,
    or the one ``initdb`` on the PATH is in; None when there is none."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivatePostgres:
    """A throwaway PostgreSQL server: ``start()``, ``stop()``, ``start()`` again, ``close()``.

    Its data survive a stop (``immediate`` is a crash: the next start recovers from the
    write-ahead log). ``url`` names its ``postgres`` database, user ``postgres``, trust
    authentication.
    """

    def __init__(self) -> None:
        binaries = postgres_binaries()
        if binaries is None:
            message = "no PostgreSQL server binaries (initdb, pg_ctl) on this machine"
            if os.environ.get("CI") == "true":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        self._bin = binaries
        self._as_postgres = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="botkit-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.log = self.root / "server.log"
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "-N"
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self._bin / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}\n"
                f"{self.log_tail()}"
            )

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c max_connections=60 -c shared_buffers=16MB"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", options, "start")  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server: ``immediate`` (a crash), ``fast`` or ``smart``."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def close(self) -> None:
        """Stop the server if it runs and delete its files."""
        with contextlib.suppress(RuntimeError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-2000:]
        return ""
