"""What a state does with messages: matchers, rules (``on``) and global rules.

A :class:`Rule` holds matchers (``text``, ``button``, ``kind``, ``location`` or ``else``)
and actions (``when``, ``set``, ``do``, ``say``, ``goto``); validation folds ``match:``
and an ``else:`` mapping into the rule itself. :class:`GlobalRule` is tried in every
state before the state's own rules. :mod:`botkit.flows.spec` puts them into states.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from botkit.flows.calls import Call
from botkit.flows.fields import (
    NAME_PATTERN,
    Actions,
    ConditionRef,
    Flag,
    Kinds,
    Payloads,
    Regex,
    Say,
    SlotName,
    StateRef,
    TrueFlag,
    check_set_values,
    fail,
)
from botkit.flows.model import FlowModel

__all__ = ["ElseBody", "ElseValue", "GlobalRule", "Match", "Rule"]


_MATCHERS = ("text", "button", "kind", "location")


class _Matchers(FlowModel):
    text: Regex | None = Field(None, description=(
        "A regular expression searched for in the message text (Python syntax; (?i) "
        "ignores case). Typed answers to a button menu also carry text."))
    button: Payloads | None = Field(None, description=(
        "A button payload, or a list of them: matches a tapped button, or a typed answer "
        "to a menu (2, two, second, the title)."))
    kind: Kinds | None = Field(None, description=(
        "A kind of message, or a list of them: text, image, audio, video, file, location, "
        "contact, button, sticker, order, reaction, unsupported, or media (any picture, "
        "sound, video, file or sticker). A reaction is matched only by naming it here."))
    location: TrueFlag | None = Field(None, description="true: matches a shared location.")

    def matchers(self) -> dict[str, Any]:
        """The matchers that are set, by key."""
        return {key: getattr(self, key) for key in _MATCHERS if getattr(self, key) is not None}

    def describe(self) -> str:
        """A short label such as ``button S, M, L`` or ``text /(?i)pizza/``."""
        parts = []
        for key, value in self.matchers().items():
            if key == "text":
                parts.append(f"text /{value}/")
            elif key == "location":
                parts.append("location")
            else:
                parts.append(f"{key} {', '.join(value)}")
        return " and ".join(parts)


class Match(_Matchers):
    """Matchers that must all hold for an event: the ``trigger`` and a rule's ``match``."""

    @model_validator(mode="after")
    def _not_empty(self) -> Match:
        if not self.matchers():
            fail("needs a matcher: text, button, kind or location", prefix=True)
        return self


class _Actions(FlowModel):
    when: ConditionRef | None = Field(None, description=(
        "A condition registered in Python with @bot.condition(\"name\"): the rule applies "
        "only when it returns true."))
    set_: Annotated[dict[SlotName, Any], AfterValidator(check_set_values)] | None = Field(
        None, alias="set", json_schema_extra={"propertyNames": {"pattern": NAME_PATTERN.pattern}},
        description=("Values to store in the conversation, by name; text may use templates "
                     "({{ event.text }}). Stored values are available to later templates."))
    do: Actions | None = Field(None, description=(
        "An action registered in Python with @bot.action(\"name\"), or a list of them, "
        "run in order."))
    say: Say | None = Field(None, description="A reply, or a list of replies, to send.")
    goto: StateRef | None = Field(None, description=(
        "The state to go to. Without goto the conversation stays in the current state."))
    call: Call | None = Field(None, description=(
        "Run another flow on top of this one (after set, do and say), then go on at "
        "then, resume here, or end this flow (end: true). Cannot be used with goto."))


_ACTION_KEYS = {"when": "when", "set_": "set", "do": "do", "say": "say", "goto": "goto",
                "call": "call"}


def _call_alone(rule: _Actions) -> None:
    if rule.call is not None and rule.goto is not None:
        fail("goto cannot be used with call (the call says where to go on)", "goto",
             at="key", prefix=False)


class ElseBody(_Actions):
    """What an ``else`` rule does, written as the value of ``else:``."""


def _else_or_flag(value: Any) -> str:
    return "<rule>" if isinstance(value, dict) else "<flag>"


ElseValue = Annotated[
    Annotated[TrueFlag, Tag("<flag>")] | Annotated[ElseBody, Tag("<rule>")],
    Discriminator(_else_or_flag),
]


def _fold_match(rule: Rule | GlobalRule) -> None:
    """Move the matchers written under ``match:`` onto the rule."""
    if rule.match is None:
        return
    inline = [key for key in _MATCHERS if getattr(rule, key) is not None]
    if inline:
        fail(f"{inline[0]!r} is written beside match; put every matcher under match, or none",
              inline[0], at="key", prefix=False)
    for key in _MATCHERS:
        object.__setattr__(rule, key, getattr(rule.match, key))
    object.__setattr__(rule, "match", None)


class Rule(_Actions, _Matchers):
    """One rule of a state's ``on`` list: when its matchers hold, it does its actions.

    The matchers (``text``, ``button``, ``kind``, ``location``) must all hold; ``else``
    takes whatever no earlier rule took. After validation ``match`` is ``None`` and
    ``else_`` is ``True`` or ``None``: both forms are folded into the rule.
    """

    match: Match | None = Field(None, description=(
        "The matchers grouped under one key (the same keys as beside it); use one form."))
    else_: ElseValue | None = Field(None, alias="else", description=(
        "true: the rule takes any message no earlier rule took. May hold the rule's other "
        "keys as its value: else: {say: ...}."))

    @model_validator(mode="after")
    def _normalise(self) -> Rule:
        _fold_match(self)
        if isinstance(self.else_, ElseBody):
            body = self.else_
            for field, key in _ACTION_KEYS.items():
                if field in body.model_fields_set:
                    if field in self.model_fields_set:
                        fail(f"{key!r} is written both inside else and beside it; use one",
                              key, at="key", prefix=False)
                    object.__setattr__(self, field, getattr(body, field))
            object.__setattr__(self, "else_", True)
        if self.else_ and self.matchers():
            fail("else takes every message; it cannot have other matchers", "else",
                  at="key", prefix=False)
        if not self.else_ and not self.matchers():
            fail("a rule needs a matcher: button, text, kind, location or else", prefix=False)
        _call_alone(self)
        return self

    @property
    def is_else(self) -> bool:
        """True for the ``else`` rule."""
        return bool(self.else_)

    def describe(self) -> str:
        """A short label: the matchers (or ``else``) and the condition, if any."""
        label = "else" if self.is_else else super().describe()
        return f"{label} if {self.when}" if self.when else label


class GlobalRule(_Actions, _Matchers):
    """An interrupt tried in every state before the state's own rules (``global``)."""

    match: Match | None = Field(None, description=(
        "The matchers grouped under one key (the same keys as beside it); use one form."))
    resume: Flag = Field(False, description=(
        "true: after saying its replies, enter the interrupted state again (its say, or "
        "its question, is sent again). Cannot be used with goto."))

    @model_validator(mode="after")
    def _normalise(self) -> GlobalRule:
        _fold_match(self)
        if not self.matchers():
            fail("a global rule needs a matcher: button, text, kind or location",
                  prefix=False)
        if self.resume and self.goto is not None:
            fail("resume goes back to the interrupted state, so it cannot have goto",
                  "resume", at="key", prefix=False)
        if self.resume and self.call is not None:
            fail("resume cannot be used with call (write call: {..., resume: true})",
                 "resume", at="key", prefix=False)
        _call_alone(self)
        return self

    def describe(self) -> str:
        """A short label: the matchers and the condition, if any."""
        label = super().describe()
        return f"{label} if {self.when}" if self.when else label

