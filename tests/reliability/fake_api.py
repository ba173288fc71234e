"""A local fake Messages API with fault knobs, run in its own process.

It answers ``POST /v1/messages`` with ``202 {"message_uuid": "<uuid4>"}`` and keeps
what it accepted: every body in order, how many times each ``client_ref`` was accepted,
and how many acceptances repeated a ``client_ref`` already seen (duplicates). Every
attempt, accepted or refused, is logged with the time it arrived
(``time.monotonic()``, which on Linux is one clock for every process of the machine, so
a test can compare it with its own).

Faults are set over HTTP on a second port, the control port, so they can be changed
while the API port is closed:

``POST /control`` with a JSON object, any of:

* ``{"fail": {"count": N, "status": 429, "retry_after": "2", "title": "...",
  "detail": "..."}}``: refuse the next N sends with that status (problem-details body,
  and a ``Retry-After`` header when given);
* ``{"delay": 0.5}``: wait that many seconds before each answer (0: none);
* ``{"down": "503"}``: refuse every send with 503 until ``{"down": null}``;
  ``{"down": "closed"}``: stop listening and drop open connections (connection refused)
  until ``{"down": null}`` listens again on the same port;
* ``{"reset": true}``: forget everything accepted and logged, and every fault.

``GET /stats`` (counts), ``GET /accepted`` (every accepted body in order, with its
time) and ``GET /attempts`` (every attempt: time, ``client_ref``, status answered).

It is a bare ``asyncio.Protocol`` HTTP/1.1 server (keep-alive, requests answered in
order per connection, no chunked request bodies) so that it costs little CPU next to
the bot it serves on a small machine.

Usage::

    python tests/reliability/fake_api.py [--port 0] [--control-port 0]

prints ``PORTS <api port> <control port>`` once both listen.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FakeState", "main", "serve"]

_HEAD_END = b"\r\n\r\n"


@dataclass
class _Fault:
    """One pending refusal: its status and what to say."""

    status: int
    retry_after: str | None = None
    title: str = "Refused"
    detail: str = "refused by the fake Messages API"


@dataclass
class FakeState:
    """Everything the fake keeps: faults, accepted messages and the attempt log."""

    faults: list[_Fault] = field(default_factory=list)
    delay: float = 0.0
    down: str | None = None
    accepted: list[dict[str, Any]] = field(default_factory=list)
    by_ref: Counter[str] = field(default_factory=Counter)
    attempts: list[tuple[float, str, int]] = field(default_factory=list)
    duplicates: int = 0
    requests: int = 0

    def reset(self) -> None:
        """Forget every fault, acceptance and attempt."""
        self.faults.clear()
        self.delay = 0.0
        self.down = None
        self.accepted.clear()
        self.by_ref.clear()
        self.attempts.clear()
        self.duplicates = 0
        self.requests = 0

    def send(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Decide the answer to one ``POST /v1/messages``: status, extra headers, body."""
        now = time.monotonic()
        self.requests += 1
        try:
            message = json.loads(body)
            ref = str(message.get("client_ref", ""))
        except (ValueError, AttributeError):
            self.attempts.append((now, "", 400))
            return 400, {}, _problem(400, "Bad Request", "the body is not a JSON object")
        if self.down == "503":
            self.attempts.append((now, ref, 503))
            return 503, {}, _problem(503, "Service Unavailable", "the fake API is down")
        if self.faults:
            fault = self.faults.pop(0)
            self.attempts.append((now, ref, fault.status))
            headers = {} if fault.retry_after is None else {"Retry-After": fault.retry_after}
            return fault.status, headers, _problem(fault.status, fault.title, fault.detail)
        self.attempts.append((now, ref, 202))
        if self.by_ref[ref]:
            self.duplicates += 1
        self.by_ref[ref] += 1
        self.accepted.append({"t": now, "client_ref": ref, "body": message})
        answer = {"message_uuid": str(uuid.uuid4())}
        return 202, {}, json.dumps(answer).encode()

    def stats(self) -> dict[str, Any]:
        """Counts: requests, accepted, distinct client_refs, duplicates, refused."""
        return {
            "requests": self.requests,
            "accepted": len(self.accepted),
            "distinct": len(self.by_ref),
            "duplicates": self.duplicates,
            "duplicate_refs": sorted(ref for ref, n in self.by_ref.items() if n > 1),
            "refused": sum(1 for _, _, status in self.attempts if status != 202),
            "down": self.down,
            "delay": self.delay,
            "faults_left": len(self.faults),
        }

    def control(self, orders: dict[str, Any]) -> None:
        """Apply a ``POST /control`` object (see the module docstring)."""
        if orders.get("reset"):
            self.reset()
        fail = orders.get("fail")
        if fail:
            retry_after = fail.get("retry_after")
            fault = _Fault(
                int(fail["status"]),
                None if retry_after is None else str(retry_after),
                str(fail.get("title", "Refused")),
                str(fail.get("detail", "refused by the fake Messages API")),
            )
            self.faults.extend([fault] * int(fail.get("count", 1)))
        if "delay" in orders:
            self.delay = float(orders["delay"] or 0.0)


def _problem(status: int, title: str, detail: str) -> bytes:
    return json.dumps(
        {
            "type": f"https://developer.vonage.com/api-errors#{status}",
            "title": title,
            "detail": detail,
            "instance": str(uuid.uuid4()),
        }
    ).encode()


_REASONS = {
    200: b"OK",
    202: b"Accepted",
    400: b"Bad Request",
    404: b"Not Found",
    429: b"Too Many Requests",
    503: b"Service Unavailable",
}


def _response(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    reason = _REASONS.get(status, b"Status")
    extra = b"".join(f"{k}: {v}\r\n".encode() for k, v in (headers or {}).items())
    return (
        b"HTTP/1.1 " + str(status).encode() + b" " + reason + b"\r\n"
        b"Content-Type: application/json\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


def _parse(buffer: bytearray) -> tuple[bytes, bytes, bytes] | None:
    """Take one complete request off ``buffer``: (method, path, body), or None for more."""
    end = buffer.find(_HEAD_END)
    if end < 0:
        return None
    head = bytes(buffer[:end])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    total = end + len(_HEAD_END) + length
    if len(buffer) < total:
        return None
    body = bytes(buffer[end + len(_HEAD_END) : total])
    del buffer[:total]
    method, _, rest = head.partition(b" ")
    return method, rest.partition(b" ")[0], body


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection on either port."""

    def __init__(self, server: _Server, *, control: bool) -> None:
        self._server = server
        self._control = control
        self._buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if not self._control:
            self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._server.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (request := _parse(self._buffer)) is not None:
            method, path, body = request
            if self._control:
                self._write(self._server.handle_control(method, path, body))
                continue
            if method != b"POST" or not path.startswith(b"/v1/messages"):
                self._write(_response(404, _problem(404, "Not Found", path.decode())))
                continue
            state = self._server.state
            status, headers, answer = state.send(body)
            reply = _response(status, answer, headers)
            if state.delay:
                asyncio.get_running_loop().call_later(state.delay, self._write, reply)
            else:
                self._write(reply)

    def _write(self, reply: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(reply)


class _Server:
    """The API listener (which "closed" mode stops) and the control listener."""

    def __init__(self, api_sock: socket.socket) -> None:
        self.state = FakeState()
        self.connections: set[_Connection] = set()
        self._api_sock: socket.socket | None = api_sock
        self._api_port = int(api_sock.getsockname()[1])
        self._api: asyncio.Server | None = None

    async def listen_api(self) -> None:
        loop = asyncio.get_running_loop()
        sock = self._api_sock
        if sock is None:  # reopening after "closed": bind the same port again
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self._api_port))
        self._api_sock = None
        self._api = await loop.create_server(
            lambda: _Connection(self, control=False), sock=sock, backlog=1024
        )

    def close_api(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.abort()
        self.connections.clear()

    def handle_control(self, method: bytes, path: bytes, body: bytes) -> bytes:
        state = self.state
        if method == b"GET" and path == b"/stats":
            return _response(200, json.dumps(state.stats()).encode())
        if method == b"GET" and path == b"/accepted":
            return _response(200, json.dumps(state.accepted).encode())
        if method == b"GET" and path == b"/attempts":
            attempts = [{"t": t, "client_ref": r, "status": s} for t, r, s in state.attempts]
            return _response(200, json.dumps(attempts).encode())
        if method == b"POST" and path == b"/control":
            orders = json.loads(body or b"{}")
            state.control(orders)
            if "down" in orders or orders.get("reset"):
                self._set_down(orders.get("down"))
            return _response(200, json.dumps(state.stats()).encode())
        return _response(404, _problem(404, "Not Found", path.decode()))

    def _set_down(self, mode: str | None) -> None:
        if mode not in (None, "503", "closed"):
            raise ValueError(f"down must be '503', 'closed' or null, not {mode!r}")
        was = self.state.down
        self.state.down = mode
        if mode == "closed" and was != "closed":
            self.close_api()
        elif mode != "closed" and was == "closed":
            asyncio.get_running_loop().create_task(self.listen_api())


async def serve(api_sock: socket.socket, control_sock: socket.socket) -> None:
    """Serve both ports on already bound sockets until cancelled."""
    server = _Server(api_sock)
    await server.listen_api()
    loop = asyncio.get_running_loop()
    control = await loop.create_server(lambda: _Connection(server, control=True), sock=control_sock)
    async with control:
        await control.serve_forever()


def _bound(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: print ``PORTS <api> <control>``, then serve forever."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="API port (0: any free one)")
    parser.add_argument("--control-port", type=int, default=0, help="control port")
    args = parser.parse_args(argv)
    api_sock, control_sock = _bound(args.port), _bound(args.control_port)
    print(f"PORTS {api_sock.getsockname()[1]} {control_sock.getsockname()[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(api_sock, control_sock))


if __name__ == "__main__":
    main()
