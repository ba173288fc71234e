"""Chores of a running bot: sweeping up after dead processes, and pruning old records.

The running bot starts :func:`run_housekeeping` next to its timer loop:

* **sweep** (shared stores only, every few seconds: a quarter of ``BOTKIT_LOCK_LEASE``,
  at most 5 s): inbox entries still pending a lease after they were accepted were taken
  by a process that died or hangs; they are queued here, so another process serves
  those users now, not at the next restart. One store call per sweep. (Replies a dead
  process left unsent are taken over by the sender's own claims, see
  :mod:`botkit.sender`.)
* **prune** (every ``BOTKIT_PRUNE_INTERVAL`` seconds, hourly by default; 0 never): finished
  inbox entries and sent or failed outbound messages older than ``BOTKIT_RETENTION``
  (7 days by default), files older than
  :data:`~botkit.store.base.FILE_RETENTION`, and dedupe keys older than 25 hours
  (:data:`~botkit.store.base.DEDUPE_RETENTION`; Redis expires those by itself).

Each process of a bot prunes on its own schedule; pruning twice deletes nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from botkit.errors import StoreError
from botkit.store.base import FILE_RETENTION

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["prune", "run_housekeeping", "sweep_interval"]

log = logging.getLogger("botkit")

_MAX_SWEEP_INTERVAL = 5.0
_MIN_SWEEP_INTERVAL = 0.05


def sweep_interval(lock_lease: float) -> float:
    """Seconds between sweeps (and between a sender's claims): a quarter of the lease,
    at most 5 s.

    An entry is swept once it is a lease old, so sweeping more often than that finds
    nothing new; a quarter keeps the delay after the lease short.
    """
    return min(_MAX_SWEEP_INTERVAL, max(_MIN_SWEEP_INTERVAL, lock_lease / 4))


async def prune(bot: Bot) -> dict[str, int]:
    """Prune the bot's store now, with the retention settings; returns counts by kind."""
    now = bot.clock.now()
    before = now - bot.settings.retention
    pruned = await bot.store.prune(
        now=now, inbox_before=before, outbox_before=before, files_before=now - FILE_RETENTION
    )
    if any(pruned.values()):
        log.info(
            "botkit: pruned %s",
            ", ".join(f"{count} {kind}" for kind, count in pruned.items() if count),
        )
    return pruned


async def run_housekeeping(bot: Bot) -> None:
    """Sweep and prune on schedule until cancelled. Failures are logged, never fatal.

    Waits are in real time (not the bot's ``sleep``): a fake sleeper in tests moves the
    fake clock whenever the loop is idle, and chores must not make time pass.
    """
    settings = bot.settings
    tick = sweep_interval(settings.lock_lease)
    next_prune = time.monotonic()  # the first prune comes at the first tick
    while True:
        await asyncio.sleep(tick)
        try:
            swept = await bot.worker.sweep()
            if swept:
                bot.metrics.count("swept", swept)
                log.info("botkit: took over %d events left by another process", swept)
            if settings.prune_interval > 0 and time.monotonic() >= next_prune:
                next_prune = time.monotonic() + settings.prune_interval
                await prune(bot)
        except StoreError as exc:
            log.warning("botkit: housekeeping cannot reach the store now: %s", exc)
        except Exception:  # a chore must not stop the others; say why and go on
            log.exception("botkit: housekeeping failed; trying again in %.1f s", tick)
