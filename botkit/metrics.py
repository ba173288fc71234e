"""Counters of what happened to webhooks, turns and sends, by reason; served at ``/metrics``.

Every rejection and drop is counted (``unsigned``, ``bad_signature``, ``stale_token``,
``payload_hash``, ``too_large``, ``malformed``, ``unsupported_media_type``, ``duplicate``,
``unhandled_type``, ``unhandled``, ``queue_full``, ``shutting_down``, ``send_retry``,
``send_failed_terminal``, ...), so tests and operators can see it, and so is every send
that may be a repeat (``send_ambiguous``, ``send_recovered``).

Each bot has its own Prometheus registry rather than the process-wide default one, so
several bots in one process (and tests) never mix their numbers. In the text format:

* ``botkit_events_total{reason="..."}``: every counter above, plus ``accepted``,
  ``turns``, ``sent`` and ``handler_error``;
* ``botkit_turn_duration_seconds``: a histogram of the time middleware and handlers take
  for one event;
* gauges the bot registers for its queues (``botkit_sends_pending`` ...).

Log records about one event or message carry ``message_uuid`` and ``conversation``
attributes (see :func:`log_fields`), for structured (JSON) log formatters.
"""

from __future__ import annotations

from collections import Counter as _Tally
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from botkit.store.base import ConversationKey

__all__ = ["CONTENT_TYPE", "REASONS", "Metrics", "log_fields"]

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
"""The media type of :meth:`Metrics.render`'s output (Prometheus text format 0.0.4)."""

REASONS: Final = (
    "accepted",
    "duplicate",
    "unsigned",
    "bad_signature",
    "stale_token",
    "payload_hash",
    "too_large",
    "malformed",
    "unhandled_type",
    "queue_full",
    "shutting_down",
    "store_unavailable",
    "turns",
    "handler_error",
    "render_error",
    "sent",
    "send_retry",
    "send_failed_terminal",
    "send_ambiguous",
    "send_recovered",
    "unhandled",
    "version_conflict",
    "duplicate_turn",
    "lease_wait",
    "lease_lost",
    "swept",
    "inbox_unparsable",
    "backlog_full",
    "outcome_unrecorded",
)
"""Counters exported from the start at 0, so a dashboard sees them before they first move."""


class Metrics:
    """Named counters. ``metrics.count("duplicate")``; ``metrics["duplicate"]`` reads one.

    Args:
        registry: where to register the Prometheus metrics; a fresh one by default.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        # Kept beside the Prometheus counter: reading a value back from prometheus_client
        # means collecting the whole family, and tests read counters all the time.
        self._counts: _Tally[str] = _Tally()
        self._events = Counter(
            "botkit_events",
            "Webhooks, turns and sends, counted by what happened to them.",
            ["reason"],
            registry=self.registry,
        )
        self._children: dict[str, Counter] = {}
        self.turn_duration = Histogram(
            "botkit_turn_duration_seconds",
            "Time middleware and handlers took for one event.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        for reason in REASONS:
            self._child(reason)

    def count(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to the counter ``name``."""
        self._counts[name] += amount
        self._child(name).inc(amount)

    def __getitem__(self, name: str) -> int:
        return self._counts[name]

    def snapshot(self) -> dict[str, int]:
        """A copy of every counter that has moved."""
        return dict(self._counts)

    def observe_turn(self, seconds: float) -> None:
        """Record how long one event's middleware and handlers took."""
        self.turn_duration.observe(seconds)

    def gauge(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """Export ``read()`` as the gauge ``name``, read at every scrape."""
        Gauge(name, documentation, registry=self.registry).set_function(read)

    def render(self) -> bytes:
        """Every metric in the Prometheus text format (media type :data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)

    def _child(self, name: str) -> Counter:
        child = self._children.get(name)
        if child is None:
            child = self._children[name] = self._events.labels(reason=name)
        return child


def log_fields(
    key: ConversationKey | None, message_uuid: str | None = None, **more: str
) -> dict[str, str]:
    """The ``extra=`` of a log record about one conversation and message.

    Example:
        log.warning("send refused", extra=log_fields(key, message_uuid=uuid))
    """
    fields = {"conversation": str(key) if key is not None else "", **more}
    fields["message_uuid"] = message_uuid or ""
    return fields
