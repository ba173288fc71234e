"""Counters of what happened to webhooks and sends, by reason.

Every rejection and drop is counted (``unsigned``, ``bad_signature``, ``stale_token``,
``payload_hash``, ``too_large``, ``malformed``, ``unsupported_media_type``, ``duplicate``,
``unhandled_type``, ``unhandled``, ``send_failed_terminal``, ...), so tests and
operators can see it.
"""

from __future__ import annotations

from collections import Counter

__all__ = ["Metrics"]


class Metrics:
    """Named counters. ``metrics.count("duplicate")``; ``metrics["duplicate"]`` reads one."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def count(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to the counter ``name``."""
        self._counts[name] += amount

    def __getitem__(self, name: str) -> int:
        return self._counts[name]

    def snapshot(self) -> dict[str, int]:
        """A copy of every counter."""
        return dict(self._counts)
