"""When to try a refused send again: exponential backoff with jitter, within a budget.

The policy only computes delays; the sender does the waiting, through the bot's
injectable :data:`Sleeper`, so tests can run minutes of backoff in no real time.

Example:
    policy = RetryPolicy(base=0.5, factor=2, cap=30, max_attempts=12, budget=300)
    delay = policy.next_delay(attempt=1, elapsed=0.0, retry_after=2.0)   # >= 2.0
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from botkit.errors import ConfigError

__all__ = ["RetryPolicy", "Sleeper", "poll"]

T = TypeVar("T")


class Sleeper(Protocol):
    """Anything that waits ``seconds``: :func:`asyncio.sleep`, or a fake in tests.

    Every wait botkit decides on (send backoff, the send rate, the shutdown grace) goes
    through one of these, paired with the bot's :class:`~botkit.clock.Clock`.
    """

    def __call__(self, seconds: float, /) -> Awaitable[None]: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff for retryable send failures (429, 5xx, no response).

    The n-th retry waits a random time between half of ``min(cap, base * factor**(n-1))``
    and all of it ("equal jitter": many senders retrying after one outage spread out
    instead of arriving together, while the waits still add up: the default 12 attempts
    span at least 90 s, so a minute-long outage loses nothing), but never less than the
    API's ``Retry-After``.

    Args:
        base: the first retry's longest wait, in seconds.
        factor: how much the longest wait grows with each retry.
        cap: the longest wait between two attempts, in seconds.
        max_attempts: attempts per message, the first one included.
        budget: seconds from the first attempt after which no retry is started; a wait
            that would end past it (a long ``Retry-After``, say) ends the retries too.
        rng: the source of jitter; tests pass a seeded ``random.Random``.
    """

    base: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    max_attempts: int = 12
    budget: float = 300.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.base < 0 or self.cap < 0 or self.factor < 1:
            raise ConfigError("a retry policy needs base >= 0, cap >= 0 and factor >= 1")
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, not {self.max_attempts}")
        if self.budget < 0:
            raise ConfigError(f"the retry budget must be >= 0 seconds, not {self.budget}")

    def ceiling(self, attempt: int) -> float:
        """The longest backoff after failed attempt number ``attempt`` (1-based)."""
        # min() before the power would still overflow for huge attempts; clamp the exponent.
        exponent = min(max(attempt - 1, 0), 64)
        return min(self.cap, self.base * self.factor**exponent)

    def next_delay(self, attempt: int, elapsed: float, retry_after: float | None) -> float | None:
        """Seconds to wait before the next attempt, or None when the budget is spent.

        Args:
            attempt: how many attempts were made so far (1 after the first failure).
            elapsed: seconds since the first attempt started.
            retry_after: the API's ``Retry-After`` in seconds, if it sent one.
        """
        if attempt >= self.max_attempts:
            return None
        ceiling = self.ceiling(attempt)
        delay = self.rng.uniform(ceiling / 2, ceiling)
        if retry_after is not None:
            # Retrying earlier than the API asked is pointless (it will refuse again)
            # and can get the account throttled harder.
            delay = max(delay, retry_after)
        if elapsed + delay > self.budget:
            return None
        return delay


async def poll(
    ask: Callable[[], Awaitable[T | None]], *, sleep: Sleeper, first: float, cap: float
) -> T:
    """Ask until the answer is not None; between asks wait ``first``, then twice as long
    each time up to ``cap``, each wait jittered down to half.

    For waiting on something another process holds (a conversation's lease, earlier
    replies): the jitter keeps the waiters of one thing from asking in lockstep, and the
    cap bounds how late a release is noticed.
    """
    delay = first
    while True:
        answer = await ask()
        if answer is not None:
            return answer
        await sleep(delay * random.uniform(0.5, 1.0))
        delay = min(delay * 2, cap)
