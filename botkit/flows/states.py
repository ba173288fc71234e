"""One step of a flow and its parts: :class:`State`, :class:`Ask` (with its
:class:`Choice` answers), :class:`Timeout` and :class:`Call`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, Strict, model_validator

from botkit.flows.calls import Call
from botkit.flows.durations import format_duration
from botkit.flows.fields import (
    ASK_ACCEPTS,
    AskType,
    AtTime,
    ConditionRef,
    Duration,
    Flag,
    Kinds,
    Say,
    SlotName,
    StateRef,
    Template,
    TemplateUse,
    Text,
    choice_from_title,
    fail,
    string_or_object_schema,
)
from botkit.flows.model import FlowModel
from botkit.flows.rules import Rule
from botkit.replies import reply_from_data

__all__ = ["Ask", "Call", "Choice", "HandoffSpec", "State", "Timeout"]


class Choice(FlowModel):
    """One answer of a ``choice`` question, shown as a button. A plain string is both
    title and payload."""

    model_config = ConfigDict(json_schema_extra=string_or_object_schema)

    title: Text = Field(description="What the user sees.")
    payload: Text = Field(description="What is stored (and matched), never shown.")

    @model_validator(mode="before")
    @classmethod
    def _from_title(cls, value: Any) -> Any:
        return choice_from_title(value)


class Ask(FlowModel):
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


class Timeout(FlowModel):
    """What happens when the user says nothing for a while in a waiting state."""

    after: Duration | None = Field(None, description=(
        "How long to wait: 30s, 10m, 2h, 1d, 1h30m. Any message the flow takes restarts it."))
    at: AtTime | None = Field(None, description=(
        "When to fire instead of after: a date and time (ISO 8601, UTC unless it has an "
        "offset) or a template giving one, shifted by whole units inside the braces: "
        "\"{{ appointment_at - 1 day }}\". Fixed when the state is entered."))
    say: Say | None = Field(None, description="A reply, or a list of replies, to send.")
    goto: StateRef | None = Field(None, description=(
        "The state to go to; without it the conversation stays where it is."))

    @model_validator(mode="after")
    def _does_something(self) -> Timeout:
        if (self.after is None) == (self.at is None):
            fail("a timeout has after (a duration) or at (a time), one of the two",
                 prefix=False)
        if self.say is None and self.goto is None:
            fail("a timeout needs say, goto or both", prefix=False)
        return self

    def describe(self) -> str:
        """``after 1d`` or ``at {{ appointment_at - 1 day }}`` (graphs, edges)."""
        if self.after is not None:
            return f"after {format_duration(self.after)}"
        return f"at {self.at}"


class HandoffSpec(FlowModel):
    """A person takes the conversation over (``handoff:``); ``handoff: true`` is the same
    with nothing set.

    While handed off the bot says nothing: no rule of any flow and no handler runs for the
    conversation. It comes back when the person (or Python code, ``bot.hand_back``)
    hands it back, or when nobody answered for ``BOTKIT_HANDOFF_TIMEOUT`` (the state's
    ``timeout.after`` when it has one: its ``say`` and ``goto`` are then what happens
    when no agent is available).
    """

    say: Say | None = Field(None, description=(
        "Sent as the handoff starts, after the state's own say (\"Connecting you to a "
        "person...\")."))
    resume: StateRef | None = Field(None, description=(
        "The state the bot resumes at when the conversation is handed back without one "
        "(and after the state's timeout, when that has no goto). Without it the flow ends "
        "there, and the user's next message starts a flow again."))
    reason: Text | None = Field(None, description=(
        "Why, for the agents and the metrics (default: flow name:state name). Keep the "
        "reasons of a bot few: the metrics count by reason."))
    note: Template | None = Field(None, description=(
        "A note for the agents, a template: \"Order {{ order_id }}, asked about "
        "{{ topic }}\"."))


_WAITS = ("on", "ask", "handoff")
_EXCLUSIVE = (  # (key, keys it cannot be written with, why)
    ("final", ("on", "ask", "next", "timeout", "call", "handoff"), "the flow ends here"),
    ("call", ("on", "ask", "next", "timeout", "handoff"),
     "another flow runs, then this one goes on as the call says"),
    ("handoff", ("on", "ask", "next"), "the conversation waits for a person"),
)


class State(FlowModel):
    """One step of a flow. Entering it sends ``say``, then, depending on its keys:

    - ``on``: waits for a message and tries its rules in order;
    - ``ask``: sends the question and waits for a valid answer, then goes to ``next``;
    - ``next`` (without ``ask``): goes on at once;
    - ``call``: runs another flow on top of this one, then goes on at ``call.then`` (or
      ends, ``call.end``);
    - ``handoff``: hands the conversation to a person until it is handed back;
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
    call: Call | None = Field(None, description=(
        "Run another flow on top of this one (with data of its own), then go on at then, "
        "or end here (end: true)."))
    handoff: HandoffSpec | Literal[True] | None = Field(None, description=(
        "A person takes over: true, or say, resume, reason and note. The bot sends "
        "nothing until the conversation is handed back (by the agent, bot.hand_back, or "
        "the timeout)."))
    fallback: TemplateUse | None = Field(None, description=(
        "A template of the registry (templates.yaml) sent instead of this state's replies "
        "when the customer-care window is closed (WhatsApp: 24 hours after the user's last "
        "message): a name (its values from the slots of the same names) or {template, "
        "parameters}."))

    @model_validator(mode="before")
    @classmethod
    def _handoff_shorthand(cls, data: Any) -> Any:
        # `handoff: true` is a handoff with nothing set; `handoff: false` is no handoff.
        if isinstance(data, dict) and isinstance(data.get("handoff"), bool):
            data = dict(data)
            if data["handoff"]:
                data["handoff"] = {}
            else:
                del data["handoff"]
        return data

    @property
    def handoff_spec(self) -> HandoffSpec | None:
        """The state's handoff, ``handoff: true`` included; None when it has none."""
        return self.handoff if isinstance(self.handoff, HandoffSpec) else None

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
        if self.call is not None and self.call.resume:
            fail("a state's call cannot resume (entering the state again would call "
                 "again); use then or end", "call", "resume", at="key", prefix=False)
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
        return bool(self.on) or self.ask is not None or self.handoff is not None
