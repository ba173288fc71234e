"""Exceptions raised by botkit.

The hierarchy::

    BotkitError
    ├── ConfigError              settings or registration a bot author must fix
    │   └── FlowError            a YAML flow that does not load (every problem, with positions)
    ├── WebhookError             a webhook that cannot be accepted (carries HTTP status and reason)
    │   ├── SignatureError       missing, malformed, forged, stale or mismatched signature
    │   └── PayloadError         body that is not JSON (400) or not a Vonage webhook (422)
    ├── StoreError               the store cannot be reached or refused a write
    │   ├── VersionConflict      a compare-and-set write lost against a newer version
    │   ├── LeaseLost            a turn's lease on its conversation passed to another worker
    │   └── AlreadyDone          the inbox entry a turn would finish was finished already
    └── MessagesApiError         the Messages API refused a send (its problem-details fields)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import httpx

__all__ = [
    "AlreadyDone",
    "BotkitError",
    "ConfigError",
    "FlowError",
    "FlowProblem",
    "LeaseLost",
    "MessagesApiError",
    "PayloadError",
    "SignatureError",
    "StoreError",
    "VersionConflict",
    "WebhookError",
]


class BotkitError(Exception):
    """Root of every exception botkit raises on purpose."""


class ConfigError(BotkitError):
    """A setting or a registration is wrong; the message says which and how to fix it."""


@dataclass(frozen=True, slots=True)
class FlowProblem:
    """One problem in a flow file, at a 1-based line and column."""

    path: str
    line: int
    column: int
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        prefix = "" if self.severity == "error" else "warning: "
        return f"{self.path}:{self.line}:{self.column}: {prefix}{self.message}"


class FlowError(ConfigError):
    """A flow file does not load. ``problems`` lists every error found, in file order.

    ``str(error)`` is one ``path:line:column: message`` line per problem.
    """

    def __init__(self, problems: list[FlowProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class WebhookError(BotkitError):
    """A webhook request that botkit refuses.

    Attributes:
        status_code: the HTTP status to answer with.
        reason: a short, stable counter name (``malformed``, ``too_large``, ...).
        field: the offending field's dotted path, when one is to blame.
    """

    def __init__(
        self, message: str, *, status_code: int, reason: str, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.reason = reason
        self.field = field

    @property
    def detail(self) -> str:
        return str(self)


class SignatureError(WebhookError):
    """The webhook's signature is missing, malformed, forged, stale or does not cover the body."""

    def __init__(self, message: str, *, reason: str, status_code: int = 401) -> None:
        super().__init__(message, status_code=status_code, reason=reason)


class PayloadError(WebhookError):
    """The webhook body is not JSON (400) or not a Vonage webhook (422)."""


class StoreError(BotkitError):
    """The store could not be reached or could not take a write."""


class VersionConflict(StoreError):
    """A conversation write was based on a version that is no longer current."""


class LeaseLost(StoreError):
    """A fenced write came from a worker whose lease on the conversation is gone.

    Another worker took the conversation over (the lease expired, say while a handler
    hung); the write was refused and nothing of it was stored.
    """


class AlreadyDone(StoreError):
    """A turn tried to finish an inbox entry that is no longer pending.

    The entry was finished by another run of the same turn (a second process, or a late
    write by a worker that hung); the write was refused and nothing of it was stored.
    """


class MessagesApiError(BotkitError):
    """The Messages API refused a request.

    Carries Vonage's problem-details fields so handlers can act on them.

    Attributes:
        status_code: HTTP status of the response (0 when no response arrived).
        type: the error type URL, e.g. ``https://developer.nexmo.com/api-errors#unathorized``.
        title: short summary, e.g. ``Unauthorized``.
        detail: the longer explanation.
        instance: Vonage's trace id for this request.
        invalid_parameters: ``[{"name": ..., "reason": ...}]`` for validation errors.
        retry_after: seconds from a ``Retry-After`` header, when the API sent one.
        request: the httpx request that was sent.
        response: the httpx response, when one arrived.
    """

    def __init__(
        self,
        *,
        status_code: int,
        type: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        instance: str | None = None,
        invalid_parameters: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        self.status_code = status_code
        self.type = type
        self.title = title
        self.detail = detail
        self.instance = instance
        self.invalid_parameters = invalid_parameters or []
        self.retry_after = retry_after
        self.request = request
        self.response = response
        super().__init__(self._message())

    @property
    def retryable(self) -> bool:
        """True when sending again later may succeed: 429, 5xx, or no response at all (0)."""
        return self.status_code in (0, 429) or self.status_code >= 500

    def _message(self) -> str:
        parts = [f"Messages API answered {self.status_code}"]
        if self.title:
            parts.append(f": {self.title}")
        if self.detail:
            parts.append(f" - {self.detail}")
        if self.invalid_parameters:
            names = ", ".join(
                f"{p.get('name')} ({p.get('reason')})" for p in self.invalid_parameters
            )
            parts.append(f" [invalid: {names}]")
        if self.instance:
            parts.append(f" (instance {self.instance})")
        return "".join(parts)
