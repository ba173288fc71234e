"""botkit's own strict models of the Messages API v1 request bodies, per channel and type.

Users have no copy of the official schema or SDK at run time, so botkit ships these
models: the sandbox checks every outbound body with them and shows a violation before
Vonage would refuse the message. They are stricter than the official SDK models (no
unknown fields, JSON types as they are, the stricter of the spec's and the SDK's limits,
WhatsApp's own limits inside the custom objects botkit sends); botkit's tests hold them
against the official SDK and the spec.

Example:
    >>> check_body({"to": "447700900001", "from": "16273", "channel": "viber_service",
    ...             "message_type": "text", "text": "Hi"}).ok
    True
    >>> check_body({"to": "+447700900001", "from": "447700900000", "channel": "sms",
    ...             "message_type": "text", "text": "Hi"}).violations
    ["to: must be an E.164 number without '+' or '00' (7 to 15 digits), got '+447700900001'"]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from botkit.channels.base import ChannelSpec
    from botkit.wire.common import Strict

__all__ = ["MODELS", "WireCheck", "check_body", "model_for"]


@cache
def _registry() -> Mapping[str, ChannelSpec]:
    # The channel modules build their models from ``botkit.wire.common``, so the registry
    # is read on first use rather than while this package is being imported.
    from botkit.channels import REGISTRY

    return REGISTRY


def __getattr__(name: str) -> Any:
    if name == "MODELS":
        return {channel: spec.wire_models for channel, spec in _registry().items()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


MODELS: Mapping[str, Mapping[str, type[Strict]]]
"""``MODELS[channel][message_type]``: the strict model of each v1 request body, from each
channel's module in :mod:`botkit.channels`."""


@dataclass(frozen=True, slots=True)
class WireCheck:
    """The result of checking one request body.

    Attributes:
        violations: what Vonage (or the provider behind it) would refuse, one readable
            line each: ``field.path: reason``.
        notes: what was not checked, e.g. a custom object type botkit does not model, or
            a v0.1 body.
    """

    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong (notes do not count)."""
        return not self.violations


def model_for(body: Mapping[str, Any]) -> type[Strict] | str:
    """The strict model for ``body``'s channel and message type, or why there is none."""
    channel, kind = body.get("channel"), body.get("message_type")
    registry = _registry()
    spec = registry.get(channel) if isinstance(channel, str) else None
    if spec is None:
        return f"channel: {channel!r} is not a Messages API channel ({', '.join(registry)})"
    by_type = spec.wire_models
    model = by_type.get(kind) if isinstance(kind, str) else None
    if model is None:
        return (f"message_type: {kind!r} cannot be sent on {channel} "
                f"(it takes {', '.join(by_type)})")
    return model


def _errors(exc: ValidationError, prefix: str) -> list[str]:
    lines = []
    for error in exc.errors(include_url=False):
        where = prefix + ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{where.rstrip('.')}: {message}" if where else message)
    return lines


def _check(body: Any, prefix: str, out: WireCheck, *, nested: bool) -> None:
    if not isinstance(body, dict):
        out.violations.append(f"{prefix or 'body'}: must be a JSON object")
        return
    model = model_for(body)
    if isinstance(model, str):
        out.violations.append(prefix + model)
        return
    try:
        model.model_validate(body)
    except ValidationError as exc:
        out.violations.extend(_errors(exc, prefix))
    spec = _registry()[body["channel"]]
    if body.get("message_type") == "custom" and spec.custom_check is not None:
        custom = body.get("custom")
        found = spec.custom_check(custom)
        if isinstance(found, str):
            out.notes.append(prefix + found)
        else:
            try:
                found.model_validate(custom)
            except ValidationError as exc:
                out.violations.extend(_errors(exc, f"{prefix}custom."))
    failover = body.get("failover")
    if isinstance(failover, list):
        if nested:
            out.violations.append(f"{prefix}failover: a failover message cannot have its own")
            return
        for index, message in enumerate(failover):
            _check(message, f"{prefix}failover.{index}.", out, nested=True)


def check_body(body: Mapping[str, Any]) -> WireCheck:
    """Check one v1 request body against the strict models; v0.1 bodies are not checked.

    Returns:
        A :class:`WireCheck`; ``ok`` is True when the body has no violation.
    """
    out = WireCheck()
    if isinstance(body, Mapping) and isinstance(body.get("message"), dict):
        out.notes.append("v0.1 body: the strict models cover the v1 format only")
        return out
    _check(dict(body) if isinstance(body, Mapping) else body, "", out, nested=False)
    return out
