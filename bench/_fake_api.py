"""A tiny, fast stand-in for the Messages API, for benchmarks on one machine.

It answers every ``POST`` with ``202 {"message_uuid": "<uuid4>"}`` over HTTP/1.1
keep-alive, and ``GET /__stats`` with its own CPU time and request count so a
benchmark can tell how much of the machine the server used. It is a bare
``asyncio.Protocol`` rather than a framework because on a small machine the server
competes with the client being measured: the less CPU it needs per request, the less
it disturbs the numbers. It is not a general HTTP server (no chunked request bodies,
no pipelining guarantees beyond in-order replies).

Run it in its own process, either from the command line::

    python bench/_fake_api.py --port 8099

or from a benchmark::

    from _fake_api import running_fake_api

    with running_fake_api() as url:      # http://127.0.0.1:<port>/v1/messages
        ...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["FakeApiStats", "fetch_stats", "main", "running_fake_api", "serve"]

_HEAD_END = b"\r\n\r\n"


class _Counters:
    requests = 0


class _HttpProtocol(asyncio.Protocol):
    """One connection: parse requests as they arrive and answer each in order."""

    def __init__(self, delay: float) -> None:
        self._buffer = bytearray()
        self._delay = delay
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(_HEAD_END)
            if end < 0:
                return
            head = bytes(self._buffer[:end])
            length = _content_length(head)
            total = end + len(_HEAD_END) + length
            if len(self._buffer) < total:
                return  # the body is still arriving
            del self._buffer[:total]
            reply = _reply(head)
            if self._delay:
                asyncio.get_running_loop().call_later(self._delay, self._write, reply)
            else:
                self._write(reply)

    def _write(self, reply: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _response(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


def _reply(head: bytes) -> bytes:
    method, _, rest = head.partition(b" ")
    path = rest.partition(b" ")[0]
    if method == b"GET" and path == b"/__stats":
        stats = {"cpu": time.process_time(), "requests": _Counters.requests}
        return _response(b"200 OK", json.dumps(stats).encode())
    _Counters.requests += 1
    return _response(b"202 Accepted", b'{"message_uuid":"' + str(uuid.uuid4()).encode() + b'"}')


async def serve(sock: socket.socket, *, delay: float = 0.0) -> None:
    """Serve on an already bound socket until cancelled.

    Args:
        sock: a bound TCP socket.
        delay: seconds to wait before each answer, to imitate the real API's latency.
    """
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _HttpProtocol(delay), sock=sock, backlog=1024)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: print ``PORT <n>`` once listening, then serve forever."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args(argv)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    # The parent reads this line to learn the port; the socket is bound already, and
    # the parent waits for a first answer before it starts measuring.
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(sock, delay=args.delay))


class FakeApiStats:
    """CPU seconds the server process has used and the number of sends it answered."""

    def __init__(self, cpu: float, requests: int) -> None:
        self.cpu = cpu
        self.requests = requests


def fetch_stats(url: str) -> FakeApiStats:
    """Ask a running fake API (given its ``/v1/messages`` URL) for its counters."""
    stats_url = url.rsplit("/v1/", 1)[0] + "/__stats"
    with urllib.request.urlopen(stats_url, timeout=5) as response:
        data = json.loads(response.read())
    return FakeApiStats(cpu=float(data["cpu"]), requests=int(data["requests"]))


@contextlib.contextmanager
def running_fake_api(*, delay: float = 0.0, timeout: float = 10.0) -> Iterator[str]:
    """Start the fake API in a subprocess and yield its send URL; stop it on exit.

    Args:
        delay: seconds the server waits before each answer.
        timeout: seconds to wait for it to start.
    """
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--delay", str(delay)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the fake API did not start (said {line!r})")
        url = f"http://127.0.0.1:{int(line.split()[1])}/v1/messages"
        deadline = time.monotonic() + timeout
        while True:
            try:
                fetch_stats(url)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


if __name__ == "__main__":
    main()
