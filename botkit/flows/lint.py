"""Warnings about a valid flow: unreachable states, dead ends, rules that never run.

They are worth a look, never errors: a flow with warnings still loads.
"""

from __future__ import annotations

from botkit.errors import FlowProblem
from botkit.flows.source import _Source
from botkit.flows.spec import FlowSpec

__all__: list[str] = []

def _warnings(spec: FlowSpec, source: _Source) -> list[FlowProblem]:
    out: list[FlowProblem] = []

    def warn(path: tuple[str | int, ...], message: str) -> None:
        found = source.index.location(path).key
        out.append(FlowProblem(source.path, found.line, found.column, message, "warning"))

    edges = spec.edges()
    reachable = {spec.start}
    # Global rules apply in every state, so their targets are always reachable.
    todo = [spec.start, *(edge.target for edge in edges if edge.source is None)]
    reachable.update(todo)
    by_source: dict[str, list[str]] = {}
    for edge in edges:
        if edge.source is not None:
            by_source.setdefault(edge.source, []).append(edge.target)
    while todo:
        for target in by_source.get(todo.pop(), ()):
            if target not in reachable:
                reachable.add(target)
                todo.append(target)
    for name, state in spec.states.items():
        here = ("states", name)
        if name not in reachable:
            warn(here, f"state {name!r} is unreachable: nothing leads to it from the start "
                       f"state {spec.start!r}")
        leaves = [target for target in by_source.get(name, ()) if target != name]
        ends = state.final or (state.call is not None and bool(state.call.end))
        if not ends and not state.handoff and not leaves:
            warn(here, f"state {name!r} is a dead end: nothing leads out of it and it is not "
                       f"final (add goto, next, ask, call or final: true)")
        seen_else = False
        for index, rule in enumerate(state.on):
            if seen_else:
                warn((*here, "on", index), "this rule never runs: an earlier else takes "
                                           "every message")
            seen_else = seen_else or (rule.is_else and rule.when is None)
        if (state.ask is not None and "retries" in state.ask.model_fields_set
                and state.ask.on_exhausted is None):
            warn((*here, "ask", "retries"), "retries has no effect without on_exhausted (the "
                                            "question is asked until the answer fits)")
    out.sort(key=lambda p: (p.line, p.column))
    return out

