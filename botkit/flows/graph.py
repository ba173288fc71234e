"""Draw a flow as a Mermaid ``stateDiagram-v2``: what ``botkit graph`` prints.

Paste the output into any Mermaid renderer (GitHub renders fenced ``mermaid`` blocks).
Each transition is labelled with what takes it: the rule's matcher (``button S, M, L``,
``text /(?i)pizza/``, ``else``), ``answer`` and ``no valid answer`` for a question,
``after 10m`` for a timeout, ``after flow support`` for a call. Global rules leave from
one extra node, ``any state``, rather than from every state.
"""

from __future__ import annotations

import sys

from botkit.errors import FlowError
from botkit.flows.loader import load_flow
from botkit.flows.spec import FlowSpec

__all__ = ["main_graph", "mermaid"]

# Words Mermaid's state diagram grammar reads as keywords: such a state gets an alias.
_RESERVED = frozenset({"as", "class", "classdef", "click", "default", "direction", "end",
                       "hide", "note", "scale", "state", "style"})
_ESCAPES = {"#": "#35;", ";": "#59;", "%": "#37;", "<": "#lt;", ">": "#gt;", '"': "#quot;",
            "\n": " ", "\r": " ", "\t": " "}
_MAX_LABEL = 48


def _text(label: str) -> str:
    """A label Mermaid shows as written: its markup characters as entity codes."""
    if len(label) > _MAX_LABEL:
        label = label[: _MAX_LABEL - 3] + "..."
    return "".join(_ESCAPES.get(char, char) for char in label)


def mermaid(spec: FlowSpec) -> str:
    """The flow as a Mermaid state diagram.

    Example:
        print(mermaid(load_flow("bots/pizza.yaml")))

    Args:
        spec: a loaded flow.

    Returns:
        The diagram source, ending with a newline.
    """
    ids: dict[str, str] = {}
    used: set[str] = set()

    def node_id(name: str) -> str:
        if name not in ids:
            candidate = f"{name}_state" if name.lower() in _RESERVED else name
            while candidate in used:
                candidate += "_"
            ids[name] = candidate
            used.add(candidate)
        return ids[name]

    for name in spec.states:
        node_id(name)
    lines = ["stateDiagram-v2"]
    for name, state_id in ids.items():
        if state_id != name:
            lines.append(f'    state "{name}" as {state_id}')
    lines.append(f"    [*] --> {ids[spec.start]}")
    for name, state in spec.states.items():
        if state.ask is not None:
            lines.append(f"    {ids[name]} : ask {_text(state.ask.slot)} ({state.ask.type})")
        if state.call is not None:
            lines.append(f"    {ids[name]} : call {_text(state.call.flow)}")
        if state.handoff:
            lines.append(f"    {ids[name]} : handoff to a person")
    edges = spec.edges()
    for edge in edges:
        if edge.source is not None:
            lines.append(f"    {ids[edge.source]} --> {ids[edge.target]} : {_text(edge.label)}")
    if any(edge.source is None for edge in edges):
        anywhere = "any_state"
        while anywhere in used:
            anywhere += "_"
        lines.append(f'    state "any state" as {anywhere}')
        for edge in edges:
            if edge.source is None:
                lines.append(f"    {anywhere} --> {ids[edge.target]} : {_text(edge.label)}")
    for name, state in spec.states.items():
        if state.final:
            lines.append(f"    {ids[name]} --> [*]")
    return "\n".join(lines) + "\n"


def main_graph(path: str) -> int:
    """``botkit graph PATH``: print the flow's Mermaid diagram.

    Args:
        path: the flow file.

    Returns:
        0, or 1 when the flow does not load (its problems go to stderr).
    """
    try:
        spec = load_flow(path)
    except FlowError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    sys.stdout.write(mermaid(spec))
    return 0
