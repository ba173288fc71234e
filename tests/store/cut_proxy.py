"""A TCP proxy in front of PostgreSQL that can cut a connection at a chosen moment.

Armed with ``"answer"``, it forwards the next statement to the server and cuts the
connection when the server's answer starts to come back: the statement ran (and, as an
implicit transaction, committed) but the client never hears so. Armed with
``"request"``, it cuts the connection as soon as the client sends anything: the server
never sees the statement. Either way the proxy is disarmed after one cut, and new
connections go through as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

__all__ = ["CutProxy"]


class CutProxy:
    """``async with CutProxy(host, port) as proxy:``; connect to ``proxy.port``."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self.armed: Literal["answer", "request"] | None = None
        self.cuts = 0
        self.port = 0

    async def __aenter__(self) -> CutProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*self._target)
        writers = (client_w, server_w)

        def cut(direction: Literal["answer", "request"]) -> bool:
            if self.armed != direction:
                return False
            self.armed = None
            self.cuts += 1
            for writer in writers:
                writer.transport.abort()
            return True

        async def pump(
            reader: asyncio.StreamReader,
            writer: asyncio.StreamWriter,
            direction: Literal["answer", "request"],
        ) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await reader.read(65536):
                    if cut(direction):
                        return
                    writer.write(data)
                    await writer.drain()
            for w in writers:
                w.close()

        await asyncio.gather(
            pump(client_r, server_w, "request"),
            pump(server_r, client_w, "answer"),
            return_exceptions=True,
        )
