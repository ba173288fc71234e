"""Clocks: the wall clock, and a fake one that tests move by hand."""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "FakeClock", "SystemClock"]


class Clock(Protocol):
    """Anything that tells the time as seconds since the epoch."""

    def now(self) -> float: ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        return time.time()


class FakeClock:
    """A clock that only moves when told to.

    Example:
        clock = FakeClock(1_700_000_000)
        clock.advance(301)   # five minutes and a second later
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self._now += seconds

    def set(self, timestamp: float) -> None:
        """Jump to an absolute time."""
        self._now = float(timestamp)
