"""Counters of what happened to webhooks, turns and sends, by reason; served at ``/metrics``.

Every rejection and drop is counted (``unsigned``, ``bad_signature``, ``stale_token``,
``payload_hash``, ``too_large``, ``malformed``, ``unsupported_media_type``, ``duplicate``,
``unhandled_type``, ``unhandled``, ``queue_full``, ``shutting_down``, ``send_retry``,
``send_failed_terminal``, ...), so tests and operators can see it, and so is every send
that may be a repeat (``send_ambiguous``, ``send_recovered``). Compliance counts users who
opt out and back in (``opt_out``, ``opt_in``, ``help``) and messages the outbound policy
held back (``opted_out``, ``window_closed``) or replaced by a template (``window_fallback``).

Each bot has its own Prometheus registry rather than the process-wide default one, so
several bots in one process (and tests) never mix their numbers. In the text format:

* ``botkit_events_total{reason="..."}``: every counter above, plus ``accepted``,
  ``turns``, ``sent`` and ``handler_error``;
* ``botkit_unsupported_webhooks_total{channel="...", type="..."}``: valid webhooks botkit
  does not model, accepted and delivered anyway: an inbound message of a channel, type or
  content botkit does not read (``type`` is its ``message_type``), or a status botkit
  does not know (``type`` is ``status:<status>``). Label values are the wire's when they
  look like names, else ``other``; past 200 pairs, new ones count as ``other``/``other``;
* ``botkit_turn_duration_seconds``: a histogram of the time middleware and handlers take
  for one event;
* ``botkit_handoffs_started_total{reason="..."}`` and
  ``botkit_handoffs_released_total{reason="agent"|"hand_back"|"timeout"}``: human
  handoffs (a started reason is what the bot gave, so keep those few);
* ``botkit_handoff_first_reply_seconds``: a histogram of the time from a handoff's start
  to the first agent reply;
* gauges the bot registers for its queues (``botkit_sends_pending`` ...).

Log records about one event or message carry ``message_uuid`` and ``conversation``
attributes (see :func:`log_fields`), for structured (JSON) log formatters.
"""

from __future__ import annotations

import re
from collections import Counter as _Tally
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from botkit.store.base import ConversationKey

__all__ = ["CONTENT_TYPE", "REASONS", "RELEASE_REASONS", "Metrics", "log_fields"]

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
    "agent_event_sent",
    "agent_event_retry",
    "agent_event_failed",
    "agent_event_dropped",
    "agent_action_refused",
    "handoff_reply_dropped",
    "chatwoot_webhook_acted",
    "agent_api_unauthorised",
    "chatwoot_webhook_refused",
    "opt_out",
    "opt_in",
    "help",
    "opted_out",
    "window_closed",
    "window_fallback",
    "deferred",
)
"""Counters exported from the start at 0, so a dashboard sees them before they first move."""

_NAME = re.compile(r"[a-z0-9_.:-]{1,40}")
_MAX_UNSUPPORTED_LABELS: Final = 200


def _label(value: str) -> str:
    # Label values come from the wire: only name-like ones are kept, so an odd (or hostile)
    # body cannot grow the series without bound.
    return value if _NAME.fullmatch(value) else "other"


RELEASE_REASONS: Final = ("agent", "hand_back", "timeout")
"""Why a handoff ends: an agent handed back, Python code did (``bot.hand_back``), or no
agent answered within ``BOTKIT_HANDOFF_TIMEOUT``."""


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
        self._unsupported = Counter(
            "botkit_unsupported_webhooks",
            "Valid webhooks botkit does not model, accepted and delivered as unsupported "
            "(or as an unknown status), by channel and type.",
            ["channel", "type"],
            registry=self.registry,
        )
        self._unsupported_pairs: set[tuple[str, str]] = set()
        self.turn_duration = Histogram(
            "botkit_turn_duration_seconds",
            "Time middleware and handlers took for one event.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        for reason in REASONS:
            self._child(reason)
        self.handoffs_started = Counter(
            "botkit_handoffs_started",
            "Conversations handed to a person, by the reason the bot gave.",
            ["reason"],
            registry=self.registry,
        )
        self.handoffs_released = Counter(
            "botkit_handoffs_released",
            "Handed-off conversations given back to the bot, by why.",
            ["reason"],
            registry=self.registry,
        )
        for reason in RELEASE_REASONS:
            self.handoffs_released.labels(reason=reason)
        self.first_agent_reply = Histogram(
            "botkit_handoff_first_reply_seconds",
            "Time from a handoff's start to the first message of an agent.",
            buckets=(5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 86400),
            registry=self.registry,
        )

    def count(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to the counter ``name``."""
        self._counts[name] += amount
        self._child(name).inc(amount)

    def unsupported(self, channel: str, kind: str) -> None:
        """Count a webhook botkit does not model: its channel and message type (or
        ``status:<status>``). Read back as ``metrics["unsupported:<channel>:<type>"]``."""
        pair = (_label(channel), _label(kind))
        if pair not in self._unsupported_pairs:
            if len(self._unsupported_pairs) >= _MAX_UNSUPPORTED_LABELS:
                pair = ("other", "other")
            self._unsupported_pairs.add(pair)
        self._counts[f"unsupported:{pair[0]}:{pair[1]}"] += 1
        self._unsupported.labels(channel=pair[0], type=pair[1]).inc()

    def __getitem__(self, name: str) -> int:
        return self._counts[name]

    def snapshot(self) -> dict[str, int]:
        """A copy of every counter that has moved."""
        return dict(self._counts)

    def observe_turn(self, seconds: float) -> None:
        """Record how long one event's middleware and handlers took."""
        self.turn_duration.observe(seconds)

    def handoff_started(self, reason: str) -> None:
        """Count a conversation handed to a person."""
        self._counts[f"handoff_started:{reason}"] += 1
        self.handoffs_started.labels(reason=reason).inc()

    def handoff_released(self, reason: str) -> None:
        """Count a handed-off conversation given back to the bot."""
        self._counts[f"handoff_released:{reason}"] += 1
        self.handoffs_released.labels(reason=reason).inc()

    def observe_first_agent_reply(self, seconds: float) -> None:
        """Record how long a handoff waited for its first agent message."""
        self.first_agent_reply.observe(max(seconds, 0.0))

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
