"""The compiled machine: one per flow, stepped with a detached cursor, edges as triggers."""

from __future__ import annotations

import pytest
from transitions import MachineError

from botkit.flows import parse_flow
from botkit.flows.engine import compile_flow, edge_trigger

FLOW = """
flow: demo
start: a
global:
  - {text: "^stop$", goto: c}
states:
  a:
    on:
      - {button: x, goto: b}
      - {else: true, say: "again"}
  b:
    ask: {slot: n, type: number, prompt: "How many?", on_exhausted: c}
    next: c
  c:
    say: bye
    final: true
"""


def test_edges_are_triggers_and_the_step_is_detached() -> None:
    compiled = compile_flow(parse_flow(FLOW))
    assert compiled.triggers == {
        edge_trigger("states", "a", "on", 0, "goto"),
        edge_trigger("states", "b", "next"),
        edge_trigger("states", "b", "ask", "on_exhausted"),
        edge_trigger("global", 0, "goto"),
    }
    assert compiled.step("a", "states", "a", "on", 0, "goto") == "b"
    assert compiled.step("b", "global", 0, "goto") == "c"
    # Nothing is bound to the machine: conversations are never added as models.
    assert compiled.machine.models == []
    assert not hasattr(compiled.machine, "to_b")  # auto_transitions is off


def test_an_edge_from_another_state_is_refused() -> None:
    compiled = compile_flow(parse_flow(FLOW))
    with pytest.raises(MachineError):
        compiled.step("c", "states", "a", "on", 0, "goto")
    with pytest.raises(KeyError):
        compiled.step("a", "states", "a", "on", 1, "goto")  # the else rule has no goto
