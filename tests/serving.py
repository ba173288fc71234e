"""Waiting for a server a test started as a process (``botkit run``, ``uvicorn``)."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import httpx


def wait_until_serving(
    process: subprocess.Popen[Any], base_url: str, *, within: float = 30.0
) -> httpx.Response:
    """The server's first ``/healthz`` answer; the test fails if the process exits first
    or nothing answers ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            return httpx.get(f"{base_url}/healthz", timeout=1)
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
