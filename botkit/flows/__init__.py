"""YAML flows: conversations written as state machines by people who do not write Python.

This package turns a flow file into a validated, position-annotated :class:`FlowSpec`
(``load_flow``, ``load_flows``, ``parse_flow``), checks files for ``botkit check``
(``check``, ``main_check``), draws them for ``botkit graph`` (``mermaid``,
``main_graph``) and publishes their JSON Schema (``flow_json_schema``). The format is
taught in ``docs/flows.md``.

Example:
    from botkit.flows import load_flow

    spec = load_flow("bots/pizza.yaml", actions={"place_order"}, conditions=set())
    print(spec.start, list(spec.states))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botkit.flows.durations import format_duration, parse_duration
from botkit.flows.graph import main_graph, mermaid
from botkit.flows.loader import (
    check,
    find_flow_files,
    load_flow,
    load_flows,
    main_check,
    parse_flow,
)
from botkit.flows.spec import (
    Ask,
    Call,
    Choice,
    Edge,
    FlowSpec,
    GlobalRule,
    Match,
    Rule,
    State,
    Timeout,
)

if TYPE_CHECKING:
    from botkit.flows.schema import flow_json_schema
    from botkit.flows.serve import bot_for_flow, watch_flows

__all__ = [
    "Ask",
    "Call",
    "Choice",
    "Edge",
    "FlowSpec",
    "GlobalRule",
    "Match",
    "Rule",
    "State",
    "Timeout",
    "bot_for_flow",
    "check",
    "find_flow_files",
    "flow_json_schema",
    "format_duration",
    "load_flow",
    "load_flows",
    "main_check",
    "main_graph",
    "mermaid",
    "parse_duration",
    "parse_flow",
    "watch_flows",
]


def __getattr__(name: str) -> Any:
    # Imported on first use, so that `python -m botkit.flows.schema` does not find its own
    # module already imported by this package (runpy warns about that).
    if name == "flow_json_schema":
        from botkit.flows.schema import flow_json_schema

        return flow_json_schema
    if name in ("bot_for_flow", "watch_flows"):
        # botkit.bot imports this package, so the serving helpers load on first use.
        from botkit.flows import serve

        return getattr(serve, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
