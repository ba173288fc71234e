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
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import ConfigDict, Field, PrivateAttr

from botkit.flows.fields import (
    CONTEXT_KEY,
    ERROR_TYPE,
    NAME_PATTERN,
    AskType,
    FlowName,
    KnownNames,
    MessageKind,
    StateName,
    StateRef,
    flow_error,
    template_problem,
    unknown_name,
)
from botkit.flows.model import FlowModel
from botkit.flows.rules import ElseBody, GlobalRule, Match, Rule
from botkit.flows.states import Ask, Call, Choice, State, Timeout

if TYPE_CHECKING:
    from botkit.errors import FlowProblem
    from botkit.flows.yamlpos import PositionIndex

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


EdgeKind = Literal[
    "rule", "global", "next", "answer", "exhausted", "timeout", "return", "resume"
]


@dataclass(frozen=True, slots=True)
class Edge:
    """A way from one state to another, for graphs and reachability.

    Attributes:
        source: the state it leaves, or ``None`` for a global rule (any state).
        target: the state it enters.
        kind: ``rule`` (an ``on`` rule), ``global``, ``next`` (at once), ``answer`` (an
            ask's valid answer), ``exhausted`` (an ask's retries used up), ``timeout``,
            ``return`` (back from a called flow) or ``resume`` (handed back by a person).
        label: a short description such as ``button S, M, L`` or ``after 10m``.
        path: where the target is written in the file.
    """

    source: str | None
    target: str
    kind: EdgeKind
    label: str
    path: tuple[str | int, ...]


class FlowSpec(FlowModel):
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
                if rule.call is not None and rule.call.then is not None:
                    out.append(Edge(name, rule.call.then, "return",
                                    f"after flow {rule.call.flow}",
                                    (*here, "on", index, "call", "then")))
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
                                state.timeout.describe(),
                                (*here, "timeout", "goto")))
            if state.call is not None and state.call.then is not None:
                out.append(Edge(name, state.call.then, "return",
                                f"after flow {state.call.flow}", (*here, "call", "then")))
            handoff = state.handoff_spec
            if handoff is not None and handoff.resume is not None:
                out.append(Edge(name, handoff.resume, "resume", "handed back",
                                (*here, "handoff", "resume")))
        for index, interrupt in enumerate(self.global_):
            if interrupt.goto is not None:
                out.append(Edge(None, interrupt.goto, "global", interrupt.describe(),
                                ("global", index, "goto")))
            if interrupt.call is not None and interrupt.call.then is not None:
                out.append(Edge(None, interrupt.call.then, "return",
                                f"after flow {interrupt.call.flow}",
                                ("global", index, "call", "then")))
        return out
