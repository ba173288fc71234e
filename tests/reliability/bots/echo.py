"""The reliability tests' bot: counts each conversation's turns and answers with the count.

Every text message increments ``count`` in ``ctx.conversation.data``, appends the
message's text to ``seen`` (the order this conversation's turns ran in), and is
answered ``"<count> <text>"``. So a reply tells which turn of its conversation it was,
and the stored conversation tells in which order the turns ran.

Environment (all optional):

* ``RELIABILITY_RUN_LOG``: a file to which each handler run appends one JSON line
  (process id, conversation, message_uuid, count, start and end on
  ``time.monotonic()``), and each refused send reported to ``@bot.on_error`` one line
  with the API's status, title and detail. Runs that a crash or a lost lease threw away
  are logged too, so overlapping runs are seen even when only one of them committed.
* ``RELIABILITY_HANDLER_SLEEP``: seconds each handler run waits (with ``asyncio.sleep``,
  so other turns may run meanwhile) between reading and writing the count.
* ``RELIABILITY_NO_REPLY=1``: count and record, but send nothing.
* ``RELIABILITY_RETRY_BASE`` / ``RELIABILITY_RETRY_CAP``: a faster backoff curve (the
  attempts and budget still come from ``BOTKIT_SEND_ATTEMPTS`` and
  ``BOTKIT_SEND_RETRY_BUDGET``).
* ``RELIABILITY_REDIS_PREFIX``: the key prefix of a Redis store (``BOTKIT_STORE=redis://``),
  so each test has keys of its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import IO, Any

from botkit import Bot, Context, Settings
from botkit.context import ErrorContext
from botkit.errors import MessagesApiError
from botkit.retry import RetryPolicy
from tests.reliability.bots.stores import store_from_env

settings = Settings.from_env()
bot = Bot(settings, store=store_from_env(settings))
if os.environ.get("RELIABILITY_RETRY_BASE"):
    bot.retry_policy = RetryPolicy(
        base=float(os.environ["RELIABILITY_RETRY_BASE"]),
        cap=float(os.environ.get("RELIABILITY_RETRY_CAP", "1.0")),
        max_attempts=settings.send_attempts,
        budget=settings.send_retry_budget,
    )

SLEEP = float(os.environ.get("RELIABILITY_HANDLER_SLEEP") or 0.0)
NO_REPLY = os.environ.get("RELIABILITY_NO_REPLY") == "1"
_LOG_PATH = os.environ.get("RELIABILITY_RUN_LOG")
_log: IO[str] | None = open(_LOG_PATH, "a", buffering=1) if _LOG_PATH else None  # noqa: SIM115
_running: dict[str, int] = {}


def _record(line: dict[str, Any]) -> None:
    if _log is not None:
        _log.write(json.dumps(line) + "\n")


@bot.on_text()
async def count(ctx: Context) -> None:
    """Increment the conversation's count, remember the order, answer with the count."""
    key = str(ctx.conversation.key)
    start = time.monotonic()
    overlap = _running.get(key, 0)  # another run of this conversation in this process
    _running[key] = overlap + 1
    try:
        data = ctx.conversation.data
        number = int(data.get("count", 0)) + 1
        if SLEEP:
            await asyncio.sleep(SLEEP)
        data["count"] = number
        data.setdefault("seen", []).append(ctx.message.message_uuid)
    finally:
        _running[key] -= 1
        if not _running[key]:
            del _running[key]
    _record(
        {
            "pid": os.getpid(),
            "key": key,
            "uuid": ctx.message.message_uuid,
            "n": number,
            "start": start,
            "end": time.monotonic(),
            "overlap": overlap,
        }
    )
    if not NO_REPLY:
        await ctx.reply(f"{number} {ctx.message.text}")


@bot.on_error(MessagesApiError)
async def refused(ctx: ErrorContext) -> None:
    """Record a send the Messages API refused for good, with the API's own words."""
    error = ctx.error
    assert isinstance(error, MessagesApiError)
    _record(
        {
            "pid": os.getpid(),
            "error": error.status_code,
            "title": error.title,
            "detail": error.detail,
            "client_ref": (ctx.body or {}).get("client_ref"),
            "at": time.monotonic(),
        }
    )
