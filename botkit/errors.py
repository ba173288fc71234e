"""Exceptions raised by botkit.

The hierarchy::

    BotkitError
    ├── ConfigError              settings or registration a bot author must fix
    │   └── FlowError            a YAML flow that does not load (every problem, with positions)
    ├── TemplateError            values that do not fit a registered template (also a ValueError)
    ├── WebhookError             a webhook that cannot be accepted (carries HTTP status and reason)
    │   ├── SignatureError       missing, malformed, forged, stale or mismatched signature
    │   └── PayloadError         body that is not JSON (400) or not a Vonage webhook (422)
    ├── StoreError               the store cannot be reached or refused a write
    │   ├── VersionConflict      a compare-and-set write lost against a newer version
    │   ├── LeaseLost            a turn's lease on its conversation passed to another worker
    │   └── AlreadyDone          the inbox entry a turn would finish was finished already
    ├── UnsupportedChannel       a reply on a channel botkit does not model (none can be sent)
    ├── MessagesApiError         the Messages API refused a send (its problem-details fields)
    │   └── AccountsApiError     the External Accounts API refused a request (the same fields)
    └── MediaError               an inbound media download failed (unreachable, 5xx, ...)
        ├── MediaExpired         the media server answered 401, 403, 404 or 410 (gone, or refused)
        ├── MediaTooLarge        the media is over BOTKIT_MEDIA_MAX (reading stopped at the cap)
        └── NotMedia             a success answer that is a page (HTML, JSON), not a file
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, Self

import httpx

from botkit.clock import Clock, SystemClock

if TYPE_CHECKING:
    from botkit.store.base import ConversationKey

__all__ = [
    "AccountsApiError",
    "AlreadyDone",
    "BotkitError",
    "ConfigError",
    "FlowError",
    "FlowProblem",
    "LeaseLost",
    "MediaError",
    "MediaExpired",
    "MediaTooLarge",
    "MessagesApiError",
    "NotMedia",
    "OptedOut",
    "OutboundSuppressed",
    "PayloadError",
    "SignatureError",
    "StoreError",
    "TemplateError",
    "UnsupportedChannel",
    "VersionConflict",
    "WebhookError",
    "WindowClosed",
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


class TemplateError(BotkitError, ValueError):
    """Values that do not fit a registered template (or a template name not registered).

    Attributes:
        template: the template's name.
        problems: what is wrong, by value name (``""`` for the template as a whole).
    """

    def __init__(self, message: str, *, template: str,
                 problems: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.template = template
        self.problems = dict(problems or {})


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


class UnsupportedChannel(BotkitError):
    """A reply to a conversation on a channel botkit does not model.

    A webhook of a channel Vonage added since is accepted and reaches ``on_message`` as
    ``unsupported`` (with ``raw``), but botkit cannot render a reply for that channel:
    ``ctx.reply`` raises this in the handler, so nothing is queued for it.
    """

    def __init__(self, channel: str) -> None:
        super().__init__(f"botkit does not model the channel {channel!r}: no reply can be "
                         "sent there (read ctx.event.raw; answer through the Messages API)")
        self.channel = channel


class MessagesApiError(BotkitError):
    """The Messages API refused a request.

    Carries Vonage's problem-details fields so handlers can act on them. Build one from
    an answer with :meth:`from_response`, or from a failure to reach the API with
    :meth:`unreachable`.

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

    api: ClassVar[str] = "Messages API"
    """The API's name, as ``str(error)`` starts with it."""

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
        parts = [f"{self.api} answered {self.status_code}"]
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

    @classmethod
    def from_response(cls, response: httpx.Response, *, clock: Clock | None = None) -> Self:
        """The error for a refusal: the problem-details fields of ``response``'s body.

        A body that is not problem-details JSON (an HTML page from a proxy, say) gives
        its reason phrase as the title and its text, clipped, as the detail. ``clock``
        measures a ``Retry-After`` HTTP date when the response has no ``Date`` header.
        """
        retry_after = _retry_after(response, clock if clock is not None else SystemClock())
        try:
            problem = json.loads(response.content)
        except ValueError:
            problem = None
        if not isinstance(problem, dict):
            text = response.text.strip()
            return cls(
                status_code=response.status_code,
                title=response.reason_phrase or None,
                detail=clip(text) if text else None,
                retry_after=retry_after,
                request=response.request,
                response=response,
            )
        # The Messages API says invalid_parameters; the External Accounts API invalid_params.
        invalid = problem.get("invalid_parameters", problem.get("invalid_params"))
        return cls(
            status_code=response.status_code,
            type=_text(problem.get("type")),
            title=_text(problem.get("title")),
            detail=_text(problem.get("detail")),
            instance=_text(problem.get("instance")),
            invalid_parameters=(
                [p for p in invalid if isinstance(p, dict)] if isinstance(invalid, list) else None
            ),
            retry_after=retry_after,
            request=response.request,
            response=response,
        )

    @classmethod
    def unreachable(cls, exc: httpx.TransportError, request: httpx.Request) -> Self:
        """The error for a request that got no answer (``status_code=0``, retryable)."""
        return cls(
            status_code=0,
            title="Connection error",
            # Some httpx exceptions (timeouts) have an empty message; the class name then
            # says what happened.
            detail=str(exc) or type(exc).__name__,
            request=request,
        )


class AccountsApiError(MessagesApiError):
    """The External Accounts API refused a request (or could not be reached: status 0).

    The same fields and retry rules as :class:`MessagesApiError`, whose subclass it is;
    ``invalid_parameters`` holds the API's ``invalid_params``.
    """

    api: ClassVar[str] = "External Accounts API"


class OutboundSuppressed(BotkitError):
    """A message botkit did not send because the outbound policy holds it back.

    Given to ``@bot.on_error`` (never raised out of a turn); the message is counted and
    dropped. The subclasses say why.

    Attributes:
        key: the conversation it was for (channel, user, our number).
        reply: the reply held back.
    """

    def __init__(self, message: str, *, key: ConversationKey, reply: object) -> None:
        super().__init__(message)
        self.key = key
        self.reply = reply


class OptedOut(OutboundSuppressed):
    """The user opted out of this number on this channel (they sent STOP): nothing goes to
    them until they opt back in (START). Counted as ``opted_out``."""


class WindowClosed(OutboundSuppressed):
    """The channel's customer-care window is closed (WhatsApp, Messenger: 24 hours after
    the user's last message) and the reply has no fallback template: only a template may
    go out, so the reply was not sent. Counted as ``window_closed``.

    Attributes:
        last_inbound: when the user last wrote (Unix seconds), or None if never.
    """

    def __init__(
        self, message: str, *, key: ConversationKey, reply: object, last_inbound: float | None
    ) -> None:
        super().__init__(message, key=key, reply=reply)
        self.last_inbound = last_inbound


class MediaError(BotkitError):
    """Downloading an inbound message's media failed.

    Raised as is when the media server could not be reached (``status_code`` 0) or answered
    an error not covered by a subclass (a 5xx, a 429): those may work later, see
    :attr:`retryable`. The subclasses say what else went wrong.

    Attributes:
        url: the media URL.
        status_code: the HTTP status of the answer (0 when none arrived).
    """

    def __init__(self, message: str, *, url: str, status_code: int = 0) -> None:
        super().__init__(message)
        self.url = url
        self.status_code = status_code

    @property
    def retryable(self) -> bool:
        """True when downloading again later may succeed: 429, 5xx, or no answer at all."""
        return self.status_code in (0, 429) or self.status_code >= 500


class MediaExpired(MediaError):
    """The media server no longer gives this file: 404 or 410 (gone), 401 or 403 (refused).

    Vonage keeps inbound media for 48 hours. With "secure inbound media" turned on for the
    application, every failure (an expired URL, a missing or foreign JWT) answers 401: the
    message says which credentials were sent.
    """


class MediaTooLarge(MediaError):
    """The media is larger than the cap (``BOTKIT_MEDIA_MAX``); reading stopped at the cap.

    Attributes:
        limit: the cap in bytes.
        size: the size the server announced (``Content-Length``), or None when it sent the
            body without one and the cap was passed while reading.
    """

    def __init__(
        self, message: str, *, url: str, status_code: int, limit: int, size: int | None
    ) -> None:
        super().__init__(message, url=url, status_code=status_code)
        self.limit = limit
        self.size = size


class NotMedia(MediaError):
    """The media server answered with success, but with a page instead of a file.

    An HTML login or error page, or a JSON error body, sent with status 200 (as proxies
    and some storage services do); never handed to a handler as if it were the file.

    Attributes:
        content_type: the answer's ``Content-Type`` (without parameters).
        excerpt: the start of the answer's body as text, to see what it was.
    """

    def __init__(
        self, message: str, *, url: str, status_code: int, content_type: str, excerpt: str
    ) -> None:
        super().__init__(message, url=url, status_code=status_code)
        self.content_type = content_type
        self.excerpt = excerpt


# Longest error text kept from a body that is not problem-details JSON; the full body stays
# available on ``error.response``.
_MAX_TEXT_DETAIL: Final = 1000


def clip(text: str) -> str:
    """``text`` cut to the length an error message keeps of a response body."""
    return text if len(text) <= _MAX_TEXT_DETAIL else text[:_MAX_TEXT_DETAIL] + "..."


def _text(value: object) -> str | None:
    """A problem-details field as text; numbers are accepted, structures are not."""
    if value is None or isinstance(value, dict | list):
        return None
    return value if isinstance(value, str) else str(value)


def _retry_after(response: httpx.Response, clock: Clock) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or HTTP-date).

    An HTTP date is measured against the response's own ``Date`` header when there is
    one, so a skewed local clock does not stretch or shrink the wait; otherwise
    against ``clock``. Unparsable values are ignored rather than failing the error.
    """
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        when = _http_date(value)
        if when is None:
            return None
        now = _http_date(response.headers.get("date", ""))
        seconds = when - (now if now is not None else clock.now())
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _http_date(value: str) -> float | None:
    """An HTTP date as a POSIX timestamp, or None when it is not one."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        # "-0000" zones parse as naive; HTTP dates are always GMT.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
