"""Per-message options: the Messages API fields a reply may carry besides its content.

``options=`` on any reply sets them; each channel takes its own subset, where its
capability data says (:attr:`~botkit.channels.Capabilities.options`): a ``ttl`` goes top
level on SMS, MMS and RCS and into ``viber_service`` on Viber; a ``category`` into
``messenger``, ``viber_service`` or ``rcs``; ``encoding_type`` into ``sms``. A value a
channel takes is checked against that channel's limits, and a wrong one raises
:class:`OptionsError` before anything is queued. An option the channel has no such field
for is left out of that channel's body, with a decision, so one reply can carry a ``ttl``
for SMS and still go out on WhatsApp.

Example:
    await ctx.reply("Your code is 1234", options=MessageOptions(ttl=600))
    await ctx.reply(Image(url), options={"category": "update", "client_ref": "order-42"})
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from botkit._checks import http_url
from botkit.errors import BotkitError

__all__ = ["MessageOptions", "OptionRule", "OptionsError", "apply_options", "check_options"]


class OptionsError(BotkitError, ValueError):
    """A per-message option the reply's channel refuses (out of range, not one of its
    values); raised before anything is queued, naming every problem."""


class MessageOptions(BaseModel):
    """Per-message fields of the Messages API (see the module docstring).

    Attributes:
        ttl: seconds the message may wait for delivery (SMS 20-604800, MMS 300-259200,
            RCS 20-259200, Viber 30-259200).
        client_ref: your reference for the message (up to 100 characters; 40 on v0.1),
            echoed in its status webhooks; botkit's own stable one otherwise.
        webhook_url: where this message's status webhooks go instead of the default.
        webhook_version: ``v1`` or ``v0.1``, the format of those status webhooks.
        category: Messenger ``response``/``update``/``message_tag``, Viber
            ``transaction``/``promotion``, RCS ``acknowledgement``/``authentication``/
            ``promotion``/``service-request``/``transaction``.
        tag: the Messenger message tag, required with ``category="message_tag"``.
        encoding_type: SMS ``text``, ``unicode`` or ``auto``.
        entity_id, content_id: SMS regulatory ids some countries require.
        pool_id: the SMS number pool to send from.
        trusted_recipient: bypass Fraud Defender rules for this message (SMS, MMS, RCS).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ttl: int | None = Field(default=None, gt=0)
    client_ref: str | None = Field(default=None, min_length=1, max_length=100)
    webhook_url: str | None = None
    webhook_version: Literal["v0.1", "v1"] | None = None
    category: str | None = Field(default=None, min_length=1)
    tag: str | None = Field(default=None, min_length=1)
    encoding_type: Literal["text", "unicode", "auto"] | None = None
    entity_id: str | None = Field(default=None, min_length=1)
    content_id: str | None = Field(default=None, min_length=1)
    pool_id: str | None = Field(default=None, min_length=1)
    trusted_recipient: bool | None = None

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value, "webhook_url")

    def given(self) -> Iterator[tuple[str, Any]]:
        """The options set, as ``(name, value)``."""
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is not None:
                yield name, value


@dataclass(frozen=True, slots=True)
class OptionRule:
    """Where one option goes on a channel and what values it takes there.

    Attributes:
        nested: True when it goes into the channel's options object (``sms``,
            ``viber_service``, ...), False for the top level of the body.
        choices: the values allowed (empty: any).
        low, high: the range of a number.
        requires: option values that need another option, e.g. Messenger's
            ``{"message_tag": "tag"}``.
        max_length: the longest text (v0.1's ``client_ref``: 40).
    """

    nested: bool = False
    choices: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None
    requires: Mapping[str, str] | None = None
    max_length: int | None = None


COMMON_V1: Mapping[str, OptionRule] = {
    "client_ref": OptionRule(max_length=100),
    "webhook_url": OptionRule(),
    "webhook_version": OptionRule(),
}
"""The options every v1 message takes, at the top level."""

COMMON_V01: Mapping[str, OptionRule] = {"client_ref": OptionRule(max_length=40)}
"""The options every v0.1 message takes."""


def _problem(name: str, value: Any, rule: OptionRule, options: MessageOptions,
             label: str) -> str | None:
    if rule.choices and value not in rule.choices:
        return (f"{name}: {label} takes {', '.join(map(repr, rule.choices))}, "
                f"not {value!r}")
    if rule.low is not None and value < rule.low:
        return f"{name}: {value} is below {label}'s minimum of {rule.low}"
    if rule.high is not None and value > rule.high:
        return f"{name}: {value} is above {label}'s maximum of {rule.high}"
    if rule.max_length is not None and len(value) > rule.max_length:
        return f"{name}: {label} takes at most {rule.max_length} characters, got {len(value)}"
    needed = (rule.requires or {}).get(value)
    if needed is not None and getattr(options, needed) is None:
        return f"{name}: {value!r} on {label} needs {needed} as well"
    return None


def check_options(options: MessageOptions, rules: Mapping[str, OptionRule],
                  label: str) -> tuple[list[str], list[str]]:
    """``(problems, dropped)``: what ``label``'s channel refuses, and what it has no field for."""
    problems, dropped = [], []
    for name, value in options.given():
        rule = rules.get(name)
        if rule is None:
            dropped.append(name)
            continue
        problem = _problem(name, value, rule, options, label)
        if problem is not None:
            problems.append(problem)
    return problems, dropped


def apply_options(body: dict[str, Any], options: MessageOptions,
                  rules: Mapping[str, OptionRule], options_key: str, *, nested: bool) -> None:
    """Write the options ``rules`` allow into ``body`` (checked already).

    ``nested`` is the v0.1 body form, where the channel object sits in ``message``.
    """
    for name, value in options.given():
        rule = rules.get(name)
        if rule is None:
            continue
        if not rule.nested:
            body[name] = value
            continue
        holder = body["message"] if nested else body
        holder.setdefault(options_key, {})[name] = value
