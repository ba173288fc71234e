"""The YAML flow format as pydantic models: what a flow file may say, checked and normalised.

A loaded flow is a :class:`FlowSpec`: its name, its start state, an optional
:class:`Match` that gates entry (``trigger``), :class:`GlobalRule` interrupts tried in
every state, and the :class:`State` objects by name. A state may say something, wait for
messages (:class:`Rule`), ask a question (:class:`Ask`), move on (``next``), time out
(:class:`Timeout`), run another flow (:class:`Call`), hand the conversation to a person
(``handoff``) or end the flow (``final``). ``docs/flows.md`` explains each key to flow
authors; the field descriptions here become the published JSON Schema.

The models both validate and normalise: after validation a rule's matchers always sit on
the rule itself (``match:`` is folded in), an ``else`` mapping is folded into its rule,
and every "one or a list" value is a tuple. Names that refer to something else (states,
actions, conditions, flows) are checked only when the loader passes what exists through
the validation context (:class:`KnownNames`); use :func:`botkit.flows.load_flow` rather
than ``FlowSpec.model_validate``, which checks the shape only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Strict,
    Tag,
    field_validator,
    model_validator,
)

from botkit.flows.durations import format_duration
from botkit.replies import reply_from_data

if TYPE_CHECKING:
    from botkit.errors import FlowProblem
    from botkit.flows.yamlpos import PositionIndex

from botkit.flows.fields import (
    ASK_ACCEPTS,
    CONTEXT_KEY,
    ERROR_TYPE,
    NAME_PATTERN,
    Actions,
    AskType,
    ConditionRef,
    Duration,
    Flag,
    FlowName,
    FlowRef,
    Kinds,
    KnownNames,
    MessageKind,
    Payloads,
    Regex,
    Say,
    SlotName,
    StateName,
    StateRef,
    Template,
    Text,
    TrueFlag,
    check_set_values,
    choice_from_title,
    fail,
    flow_error,
    string_or_object_schema,
    template_problem,
    unknown_name,
)

__all__ = [
    "CONTEXT_KEY",
    "ERROR_TYPE",
    "Ask",
    "AskType",
    "Call",
    "Choice",
    "Edge",
    "ElseBody",
    "FlowSpec",
    "GlobalRule",
    "KnownNames",
    "Match",
    "MessageKind",
    "Rule",
    "State",
    "Timeout",
    "flow_error",
    "template_problem",
    "unknown_name",
]


# --- models ---------------------------------------------------------------------------

class _Model(BaseModel):
    """Base of every flow model: unknown keys and empty values are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=False,
                              validate_by_alias=True)

    @field_validator("*", mode="before")
    @classmethod
    def _has_value(cls, value: Any) -> Any:
        # `goto:` with nothing after it reads as null: almost always a slip, never a wish.
        if value is None:
            fail("has no value; write one or leave the key out", at="key")
        return value


_MATCHERS = ("text", "button", "kind", "location")


class _Matchers(_Model):
    text: Regex | None = Field(None, description=(
        "A regular expression searched for in the message text (Python syntax; (?i) "
        "ignores case). Typed answers to a button menu also carry text."))
    button: Payloads | None = Field(None, description=(
        "A button payload, or a list of them: matches a tapped button, or a typed answer "
        "to a menu (2, two, second, the title)."))
    kind: Kinds | None = Field(None, description=(
        "A kind of message, or a list of them: text, image, audio, video, file, location, "
        "contact, button, sticker, order, unsupported, or media (any picture, sound, "
        "video, file or sticker)."))
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


class _Actions(_Model):
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


_ACTION_KEYS = {"when": "when", "set_": "set", "do": "do", "say": "say", "goto": "goto"}


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
        return self

    def describe(self) -> str:
        """A short label: the matchers and the condition, if any."""
        label = super().describe()
        return f"{label} if {self.when}" if self.when else label


class Choice(_Model):
    """One answer of a ``choice`` question, shown as a button. A plain string is both
    title and payload."""

    model_config = ConfigDict(json_schema_extra=string_or_object_schema)

    title: Text = Field(description="What the user sees.")
    payload: Text = Field(description="What is stored (and matched), never shown.")

    @model_validator(mode="before")
    @classmethod
    def _from_title(cls, value: Any) -> Any:
        return choice_from_title(value)


class Ask(_Model):
    """A question whose answer is checked and stored in ``slot``.

    The prompt is sent when the state is entered. A valid answer is stored and the flow
    goes to the state's ``next``; an invalid one gets ``invalid`` (or the prompt again),
    and after ``retries`` invalid answers in a row the flow goes to ``on_exhausted``.
    """

    slot: SlotName = Field(description=(
        "The name the answer is stored under (use it in templates: {{ address }})."))
    type: AskType = Field("text", description=(
        "How the answer is checked and stored: text, number, choice, location, contact, "
        "media, email, phone or date."))
    prompt: Template = Field(description="The question, sent when the state is entered.")
    invalid: Template | None = Field(None, description=(
        "Sent after an answer that does not fit; without it the prompt is sent again."))
    accept: Kinds | None = Field(None, description=(
        "The kinds of message taken as an answer; the default follows type (text for "
        "text, number, email, phone and date; button and text for choice; location; "
        "contact; media)."))
    choices: Annotated[tuple[Choice, ...], Field(min_length=1)] | None = Field(None, description=(
        "For type choice: the answers, shown as buttons."))
    validate_: ConditionRef | None = Field(None, alias="validate", description=(
        "A condition registered with @bot.condition(\"name\") that must also accept the "
        "answer."))
    min: Annotated[float, Strict(), Field(allow_inf_nan=False)] | None = Field(
        None, description="For type number: the smallest accepted number.")
    max: Annotated[float, Strict(), Field(allow_inf_nan=False)] | None = Field(
        None, description="For type number: the largest accepted number.")
    retries: Annotated[int, Strict(), Field(ge=0, le=10)] = Field(2, description=(
        "How many invalid answers in a row are answered with invalid before giving up "
        "(0-10). Matters only with on_exhausted."))
    on_exhausted: StateRef | None = Field(None, description=(
        "The state to go to when the retries are used up; without it the question is "
        "asked again for as long as it takes."))

    @model_validator(mode="after")
    def _consistent(self) -> Ask:
        if self.type == "choice" and self.choices is None:
            fail("type choice needs choices: a list of answers shown as buttons", "type",
                  at="key", prefix=False)
        if self.type != "choice" and self.choices is not None:
            fail(f"choices go with type choice, not {self.type}", "choices", at="key",
                  prefix=False)
        for bound in ("min", "max"):
            if self.type != "number" and getattr(self, bound) is not None:
                fail(f"{bound} goes with type number, not {self.type}", bound, at="key",
                      prefix=False)
        if self.min is not None and self.max is not None and self.min > self.max:
            fail(f"min ({self.min:g}) is larger than max ({self.max:g})", "min", at="key",
                  prefix=False)
        if self.choices is not None:
            buttons = [{"title": c.title, "payload": c.payload} for c in self.choices]
            try:
                reply_from_data({"text": self.prompt, "buttons": buttons})
            except ValueError as exc:
                fail(f"choices: {str(exc).removeprefix('buttons: ')}", "choices",
                      prefix=False)
        return self

    @property
    def accepts(self) -> tuple[str, ...]:
        """The event kinds taken as an answer: ``accept``, or the default for ``type``."""
        if self.accept is not None:
            return self.accept
        return ASK_ACCEPTS.get(self.type, ("text",))


class Timeout(_Model):
    """What happens when the user says nothing for a while in a waiting state."""

    after: Duration = Field(description="How long to wait: 30s, 10m, 2h, 1d, 1h30m.")
    say: Say | None = Field(None, description="A reply, or a list of replies, to send.")
    goto: StateRef | None = Field(None, description=(
        "The state to go to; without it the conversation stays where it is."))

    @model_validator(mode="after")
    def _does_something(self) -> Timeout:
        if self.say is None and self.goto is None:
            fail("a timeout needs say, goto or both", prefix=False)
        return self


class Call(_Model):
    """Run another flow as a sub-flow, then come back."""

    flow: FlowRef = Field(description="The name of the flow to run (its flow: key).")
    then: StateRef = Field(description=(
        "The state of this flow to go to when the called flow reaches a final state."))


_WAITS = ("on", "ask", "handoff")
_EXCLUSIVE = (  # (key, keys it cannot be written with, why)
    ("final", ("on", "ask", "next", "timeout", "call", "handoff"), "the flow ends here"),
    ("call", ("on", "ask", "next", "timeout", "handoff"),
     "the flow continues at call.then"),
    ("handoff", ("on", "ask", "next"), "Python code moves the conversation on"),
)


class State(_Model):
    """One step of a flow. Entering it sends ``say``, then, depending on its keys:

    - ``on``: waits for a message and tries its rules in order;
    - ``ask``: sends the question and waits for a valid answer, then goes to ``next``;
    - ``next`` (without ``ask``): goes on at once;
    - ``call``: runs another flow, then continues at ``call.then``;
    - ``handoff``: stays silent until Python code moves the conversation on;
    - ``final``: ends the flow.
    """

    say: Say | None = Field(None, description=(
        "A reply, or a list of replies, sent when the state is entered."))
    on: tuple[Rule, ...] = Field((), description=(
        "Rules tried in order against each message; the first that matches wins. A "
        "message no rule takes falls through to the handlers after this flow."))
    ask: Ask | None = Field(None, description="A question whose answer is stored.")
    next: StateRef | None = Field(None, description=(
        "With ask: the state to go to after a valid answer. Without ask: the state to go "
        "to at once, after say."))
    timeout: Timeout | None = Field(None, description=(
        "What to do when the user is silent for a while (in a state that waits)."))
    final: Flag = Field(False, description="true: the flow ends after this state's say.")
    call: Call | None = Field(None, description="Run another flow, then continue at then.")
    handoff: Flag = Field(False, description=(
        "true: a person takes over. The flow takes the conversation's messages and sends "
        "nothing until Python code moves the conversation to another state."))

    @model_validator(mode="after")
    def _consistent(self) -> State:
        present = {key for key in ("on", "ask", "next", "timeout", "final", "call", "handoff")
                   if key in self.model_fields_set and getattr(self, key)}
        for key, excluded, why in _EXCLUSIVE:
            if key in present:
                for other in excluded:
                    if other in present:
                        fail(f"{other!r} cannot be used with {key} ({why})", other, at="key",
                              prefix=False)
        if self.ask is not None and self.next is None:
            fail("ask needs next: the state to go to once the answer is stored", "ask",
                  at="key", prefix=False)
        if self.ask is None and self.next is not None:
            if self.on:
                fail("'on' cannot be used with next alone: the state moves on at once, "
                      "so its rules would never run (use goto in the rules instead)", "on",
                      at="key", prefix=False)
            if self.timeout is not None:
                fail("'timeout' cannot be used with next alone: the state moves on at "
                      "once and never waits", "timeout", at="key", prefix=False)
        if self.ask is not None:
            for index, rule in enumerate(self.on):
                if rule.is_else:
                    fail("else cannot be used in a state with ask: it would take every "
                          "answer", "on", index, "else", at="key", prefix=False)
        return self

    @property
    def waits(self) -> bool:
        """True when the state waits for a message (``on``, ``ask`` or ``handoff``)."""
        return bool(self.on) or self.ask is not None or self.handoff


EdgeKind = Literal["rule", "global", "next", "answer", "exhausted", "timeout", "return"]


@dataclass(frozen=True, slots=True)
class Edge:
    """A way from one state to another, for graphs and reachability.

    Attributes:
        source: the state it leaves, or ``None`` for a global rule (any state).
        target: the state it enters.
        kind: ``rule`` (an ``on`` rule), ``global``, ``next`` (at once), ``answer`` (an
            ask's valid answer), ``exhausted`` (an ask's retries used up), ``timeout`` or
            ``return`` (back from a called flow).
        label: a short description such as ``button S, M, L`` or ``after 10m``.
        path: where the target is written in the file.
    """

    source: str | None
    target: str
    kind: EdgeKind
    label: str
    path: tuple[str | int, ...]


class FlowSpec(_Model):
    """A validated flow file: ``flow``, ``start``, ``trigger``, ``global`` and ``states``.

    Besides the keys of the file it carries where it came from: ``path``, the
    ``warnings`` found while loading it, and :meth:`position` to map any key path back to
    its line and column (for errors found when the flow runs).
    """

    model_config = ConfigDict(title="Flow", json_schema_extra={
        "description": "A botkit YAML flow: a state machine for a conversation."})

    flow: FlowName = Field(description=(
        "The flow's name: letters, digits and _ (used by call and in the stored "
        "conversation)."))
    start: StateRef = Field(description="The first state.")
    trigger: Match | None = Field(None, description=(
        "Only a message that matches this enters the flow; without it any message does."))
    global_: tuple[GlobalRule, ...] = Field((), alias="global", description=(
        "Rules tried in every state before the state's own, first match wins (stop, help, "
        "agent)."))
    states: Annotated[dict[StateName, State], Field(min_length=1)] = Field(
        description="The states by name: letters, digits and _.",
        json_schema_extra={"propertyNames": {"pattern": NAME_PATTERN.pattern}})

    _path: str = PrivateAttr("<string>")
    _warnings: tuple[FlowProblem, ...] = PrivateAttr(())
    _index: PositionIndex | None = PrivateAttr(None)

    @property
    def name(self) -> str:
        """The flow's name (its ``flow`` key)."""
        return self.flow

    @property
    def path(self) -> str:
        """The file the flow was loaded from (``<string>`` for text)."""
        return self._path

    @property
    def warnings(self) -> tuple[FlowProblem, ...]:
        """Unreachable states and dead ends: worth a look, not errors."""
        return self._warnings

    def position(self, *path: str | int) -> tuple[int, int]:
        """The 1-based ``(line, column)`` of the value at ``path`` (or of its nearest
        written parent), e.g. ``spec.position("states", "welcome", "say")``."""
        if self._index is None:
            return (1, 1)
        found = self._index.location(path).value
        return (found.line, found.column)

    def edges(self) -> list[Edge]:
        """Every way between states, state by state in file order, then the global rules."""
        out: list[Edge] = []
        for name, state in self.states.items():
            here: tuple[str | int, ...] = ("states", name)
            for index, rule in enumerate(state.on):
                if rule.goto is not None:
                    out.append(Edge(name, rule.goto, "rule", rule.describe(),
                                    (*here, "on", index, "goto")))
            if state.ask is not None and state.next is not None:
                out.append(Edge(name, state.next, "answer", f"answer ({state.ask.slot})",
                                (*here, "next")))
                if state.ask.on_exhausted is not None:
                    out.append(Edge(name, state.ask.on_exhausted, "exhausted",
                                    "no valid answer", (*here, "ask", "on_exhausted")))
            elif state.next is not None:
                out.append(Edge(name, state.next, "next", "next", (*here, "next")))
            if state.timeout is not None and state.timeout.goto is not None:
                out.append(Edge(name, state.timeout.goto, "timeout",
                                f"after {format_duration(state.timeout.after)}",
                                (*here, "timeout", "goto")))
            if state.call is not None:
                out.append(Edge(name, state.call.then, "return",
                                f"after flow {state.call.flow}", (*here, "call", "then")))
        for index, interrupt in enumerate(self.global_):
            if interrupt.goto is not None:
                out.append(Edge(None, interrupt.goto, "global", interrupt.describe(),
                                ("global", index, "goto")))
        return out
