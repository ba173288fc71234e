"""The Redis store's scripts, sent together: calls made at once share one pipeline.

Under load a bot makes many small script calls at once (webhooks accepted, drains opened,
turns committed, sends marked), and with redis-py each one costs more in the client
(taking a pooled connection, its timeouts and retry wrapper, a socket write and a read
wake-up) than Redis spends running it. So :class:`ScriptBatch` works as the SQLite
store's group commit does: the first call starts a *flush* on the next turn of the event
loop, calls made meanwhile join it or, once it is on its way, the next one; a flush is
one pipeline of ``EVALSHA`` commands on one connection, one write and one read.

Nothing about a call changes: every script still runs alone and atomically inside Redis,
and each caller gets its own script's answer or error. The calls of one flush were all
made before any of them was answered, so none depends on another's outcome, and Redis
running them in the pipeline's order is one of the orders they could have run in anyway.
A script Redis does not know (it restarted, or its scripts were flushed) is loaded and
run again by itself: a refused ``EVALSHA`` ran nothing. Redis failing (a lost connection,
a timeout) fails every call of the flush with :class:`~botkit.errors.StoreError`, as it
would have failed each of them alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError, ResponseError

from botkit.errors import StoreError

try:  # botkit[redis] brings it; without it, redis-py's own pipeline packs the commands
    import hiredis
except ImportError:  # pragma: no cover
    hiredis = None  # type: ignore[assignment]

__all__ = ["MAX_BATCH", "ScriptBatch"]

MAX_BATCH = 256
"""Most script calls in one pipeline: bounds a flush's size and its callers' wait."""


@dataclass(slots=True)
class _Call:
    script: AsyncScript
    keys: list[str]
    args: list[Any]
    future: asyncio.Future[Any]


class ScriptBatch:
    """Runs script calls in pipelines (see the module docstring).

    Args:
        client: the store's open redis-py client.
        error: turns a Redis error into the store's :class:`StoreError`.
    """

    def __init__(self, client: redis.asyncio.Redis, error: Callable[[RedisError], StoreError]):
        self.client = client
        self._error = error
        self._queue: list[_Call] = []
        self._flushing: asyncio.Task[None] | None = None

    async def run(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        """Run ``script`` with ``keys`` and ``args`` in the next flush; its answer."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append(_Call(script, keys, args, future))
        if self._flushing is None or self._flushing.get_loop() is not loop:
            self._flushing = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            await asyncio.sleep(0)  # calls made in this pass of the loop join the flush
            while self._queue:
                calls, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._send(calls)
        finally:
            if self._flushing is asyncio.current_task():
                self._flushing = None
                if self._queue:  # cancelled with calls left: they must not wait forever
                    self._flushing = asyncio.get_running_loop().create_task(self._flush())

    async def _send(self, calls: list[_Call]) -> None:
        try:
            if len(calls) == 1:  # alone: no pipeline to build
                call = calls[0]
                answers: list[Any] = [await self._alone(call)]
            elif hiredis is None:  # pragma: no cover
                async with self.client.pipeline(transaction=False) as pipe:
                    for call in calls:
                        pipe.evalsha(call.script.sha, len(call.keys), *call.keys, *call.args)
                    answers = await pipe.execute(raise_on_error=False)
            else:
                answers = await self._pipeline(calls)
                for n, (call, answer) in enumerate(zip(calls, answers, strict=True)):
                    if isinstance(answer, NoScriptError):
                        answers[n] = await self._alone(call)  # loads it, then runs it
        except RedisError as exc:
            error = self._error(exc)
            for call in calls:
                if not call.future.done():
                    call.future.set_exception(error)
            return
        except BaseException:  # cancelled (the loop is closing): no caller waits forever
            for call in calls:
                call.future.cancel()
            raise
        for call, answer in zip(calls, answers, strict=True):
            if call.future.done():
                continue
            if isinstance(answer, RedisError):
                call.future.set_exception(self._error(answer))
            else:
                call.future.set_result(answer)

    async def _pipeline(self, calls: list[_Call]) -> list[Any]:
        """Send the calls as one write on one pooled connection and read every answer.

        What redis-py's pipeline does (the same connection handling and retries), with
        the commands packed here: every argument is encoded as redis-py encodes it, and
        the command packed by hiredis in one call, not argument by argument.
        """
        pool: Any = self.client.connection_pool
        connection = await pool.get_connection()
        try:
            encoding, errors = connection.encoder.encoding, connection.encoder.encoding_errors
            packed = b"".join(
                hiredis.pack_command((  # type: ignore[arg-type]
                    b"EVALSHA", call.script.sha, len(call.keys),
                    *[a if type(a) is bytes else a.encode(encoding, errors)
                      if type(a) is str else repr(a).encode()
                      for a in (*call.keys, *call.args)],
                ))
                for call in calls
            )
            return cast("list[Any]", await connection.retry.call_with_retry(
                lambda: self._exchange(connection, packed, len(calls)),
                lambda error: connection.disconnect(),
            ))
        finally:
            await pool.release(connection)

    @staticmethod
    async def _exchange(connection: Any, packed: bytes, count: int) -> list[Any]:
        await connection.send_packed_command(packed)
        answers: list[Any] = []
        try:
            for _ in range(count):
                try:
                    answers.append(await connection.read_response())
                except ResponseError as exc:
                    answers.append(exc)
        except BaseException:
            # Replies still on the socket must not reach the next borrower.
            await connection.disconnect(nowait=True)
            raise
        return answers

    async def _alone(self, call: _Call) -> Any:
        """Run one call by itself (loading its script when Redis does not know it)."""
        try:
            return await call.script(keys=call.keys, args=call.args, client=self.client)
        except ResponseError as exc:
            return exc  # the script's own error: its caller's alone
