"""The servers ``bench/compare.py`` measures, each served in a process of its own.

* ``bare_ack``: a bare Starlette endpoint that parses the webhook and answers 200.
* ``bare_echo``: the same, and it puts the echo on an in-memory queue (1,000) that 16
  tasks drain to the Messages API over one ``aiohttp.ClientSession``: what a user who
  wants speed writes by hand. A crash loses whatever is queued.
* ``bot``: botkit as shipped, an echo bot (``ctx.reply(text)``), or with
  ``BENCH_REPLY=0`` a bot that answers nothing (the acknowledgement comparison: its turns
  still run, load and commit). Its store is ``BOTKIT_STORE``.

The bare apps run under ``uvicorn --loop uvloop --http httptools --no-access-log``;
``bot`` under ``botkit run``, which picks the same stack. With ``BENCH_COUNT_REDIS=1`` the
bot counts its round trips to Redis (one per command sent or pipeline flushed) and the
commands they carry (a script call is one), and exports them as the gauges
``bench_redis_round_trips`` and ``bench_redis_calls`` on ``/metrics``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["bare_ack", "bare_echo", "bot"]

QUEUE = 1_000
SENDERS = 16


async def _healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _ack(request: Request) -> Response:
    json.loads(await request.body())
    return Response(status_code=200)


bare_ack = Starlette(
    routes=[
        Route("/webhooks/inbound", _ack, methods=["POST"]),
        Route("/healthz", _healthz, methods=["GET"]),
    ]
)
"""Parse the JSON body, answer 200: the least a webhook endpoint can do."""


def _bare_echo_app() -> Starlette:
    queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=QUEUE)

    async def inbound(request: Request) -> Response:
        data = json.loads(await request.body())
        echo = {
            "to": data["from"],
            "from": data["to"],
            "channel": data["channel"],
            "message_type": "text",
            "text": data.get("text", ""),
            "client_ref": data["message_uuid"],
        }
        await queue.put(json.dumps(echo).encode())
        return Response(status_code=200)

    async def send(session: Any, url: str, headers: dict[str, str]) -> None:
        while True:
            body = await queue.get()
            with contextlib.suppress(Exception):
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        import aiohttp

        credentials = f"{os.environ['VONAGE_API_KEY']}:{os.environ['VONAGE_API_SECRET']}"
        headers = {
            "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode(),
            "Content-Type": "application/json",
        }
        url = os.environ["VONAGE_MESSAGES_URL"]
        async with aiohttp.ClientSession() as session:
            tasks = [asyncio.create_task(send(session, url, headers)) for _ in range(SENDERS)]
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    return Starlette(
        routes=[
            Route("/webhooks/inbound", inbound, methods=["POST"]),
            Route("/healthz", _healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _count_redis_round_trips() -> list[int]:
    """Count the writes of a command or pipeline to Redis (a round trip each), and the
    commands they carry (a script call is one command however much it does)."""
    from redis.asyncio.connection import AbstractConnection

    count = [0, 0]
    send, pack = AbstractConnection.send_packed_command, AbstractConnection.pack_command

    async def sent(self: Any, command: Any, check_health: bool = True) -> None:
        count[0] += 1
        await send(self, command, check_health)

    def packed(self: Any, *args: Any) -> Any:
        count[1] += 1
        return pack(self, *args)

    AbstractConnection.send_packed_command = sent  # type: ignore[method-assign]
    AbstractConnection.pack_command = packed  # type: ignore[method-assign]

    # The store's batches pack their script calls with hiredis directly.
    from botkit.store import _redis_batch

    if _redis_batch.hiredis is not None:
        pack_script = _redis_batch.hiredis.pack_command

        class _Counting:
            @staticmethod
            def pack_command(args: Any) -> bytes:
                count[1] += 1
                return pack_script(args)

        _redis_batch.hiredis = _Counting  # type: ignore[assignment]
    return count


def _bot() -> Any:
    from botkit import Bot, Context, Settings

    counted = _count_redis_round_trips() if os.environ.get("BENCH_COUNT_REDIS") == "1" else None
    echo = os.environ.get("BENCH_REPLY", "1") == "1"
    bot = Bot(Settings.from_env())

    @bot.on_text()
    async def answer(ctx: Context) -> None:
        if echo:
            await ctx.reply(ctx.message.text or "")

    if counted is not None:
        bot.metrics.gauge(
            "bench_redis_round_trips", "Round trips to Redis.", lambda: float(counted[0])
        )
        bot.metrics.gauge(
            "bench_redis_calls", "Commands sent to Redis.", lambda: float(counted[1])
        )
    return bot


bare_echo = _bare_echo_app() if os.environ.get("BENCH_SERVER") == "bare_echo" else None
bot = _bot() if os.environ.get("BENCH_SERVER") == "bot" else None
