"""Compiling a flow onto ``transitions``: one machine per flow, stepped with a detached cursor.

Each flow is compiled once into a ``transitions.Machine`` (``auto_transitions=False``)
whose triggers are the flow's edges, named by where they are written in the file
(``states/welcome/on/0/goto``). A conversation is never bound to the machine: per event
a throwaway cursor holding only the stored state name is stepped through
``machine.events[trigger].trigger(cursor)``. Binding conversations with ``add_model``
would cost 25-30x a trigger per event and leak models; the detached step costs the same
as a bound trigger. The machine only decides the next state: replies, actions and store
writes happen afterwards, in :mod:`botkit.flows.runtime`.
"""

from __future__ import annotations

import logging
from typing import Any

from transitions import Machine

from botkit.flows.spec import FlowSpec

__all__ = ["CompiledFlow", "compile_flow", "edge_trigger"]

# transitions logs every trigger at INFO on its own logger; a bot's log has no use for it.
logging.getLogger("transitions").setLevel(logging.WARNING)


def edge_trigger(*path: str | int) -> str:
    """The trigger name of the edge written at ``path`` (see :meth:`FlowSpec.edges`)."""
    return "/".join(str(part) for part in path)


class _Cursor:
    """The only thing a step touches: the state name read from the store."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


class CompiledFlow:
    """A flow spec and its ``transitions`` machine, built once and shared by every conversation.

    Attributes:
        spec: the validated flow.
        machine: the compiled machine (no models attached).
    """

    def __init__(self, spec: FlowSpec) -> None:
        self.spec = spec
        transitions: list[dict[str, Any]] = [
            {
                "trigger": edge_trigger(*edge.path),
                "source": "*" if edge.source is None else edge.source,
                "dest": edge.target,
            }
            for edge in spec.edges()
        ]
        self.machine = Machine(
            model=None,
            states=list(spec.states),
            transitions=transitions,
            initial=spec.start,
            auto_transitions=False,
        )
        self.triggers = frozenset(t["trigger"] for t in transitions)

    @property
    def name(self) -> str:
        return self.spec.name

    def step(self, state: str, *path: str | int) -> str:
        """The state reached from ``state`` by the edge written at ``path``.

        Raises:
            KeyError: the flow has no such edge.
            transitions.MachineError: the edge does not leave ``state``.
        """
        cursor = _Cursor(state)
        self.machine.events[edge_trigger(*path)].trigger(cursor)
        return cursor.state


def compile_flow(spec: FlowSpec) -> CompiledFlow:
    """Compile ``spec`` (once per flow, at load time)."""
    return CompiledFlow(spec)
