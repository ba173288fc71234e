"""Validating read flow files: the pydantic models with the known names in context, each
error at its position, then the warnings of a valid flow; several files together, so that
``call`` may name any of them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from botkit.errors import FlowProblem
from botkit.flows.calls import Call
from botkit.flows.lint import _warnings
from botkit.flows.problems import _problem, _strip
from botkit.flows.source import _Source
from botkit.flows.spec import CONTEXT_KEY, FlowSpec, KnownNames, unknown_name
from botkit.flows.wording import shown

__all__: list[str] = []

_INTERNAL = "botkit could not check this part of the file (please report this)"


def _names(values: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(sorted(set(values)))


def _validate(source: _Source, known: KnownNames) -> FlowSpec | None:
    """Validate a read source; its problems (errors, then warnings) go on ``source``."""
    data = source.data
    if data is None:
        if not source.problems:
            source.problem(1, 1, "the file is empty; a flow needs flow, start and states")
        return None
    if not isinstance(data, dict):
        where = source.index.location(()).value
        source.problem(where.line, where.column,
                       f"a flow file is a mapping with flow, start and states; got "
                       f"{shown(data)}")
        return None
    states = data.get("states")
    known = KnownNames(
        states=tuple(states) if isinstance(states, dict) else None,
        actions=known.actions, conditions=known.conditions, flows=known.flows,
        templates=known.templates,
    )
    spec: FlowSpec | None = None
    try:
        spec = FlowSpec.model_validate(data, context={CONTEXT_KEY: known})
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            path = _strip(error["loc"])
            # A value the YAML reader already complained about: say it once.
            if not any(path[: len(done)] == done for done in source.reported):
                source.problems.append(_problem(source, error))
    source.problems.sort(key=lambda p: (p.line, p.column))
    if source.problems or spec is None:
        return None
    spec._path = source.path
    spec._index = source.index
    spec._warnings = tuple(_warnings(spec, source))
    source.problems.extend(spec.warnings)
    return spec


def _check_sources(sources: list[_Source], *, actions: Iterable[str] | None,
                   conditions: Iterable[str] | None, flows: Iterable[str] | None,
                   check_calls: bool,
                   templates: Mapping[str, Any] | None = None) -> list[FlowSpec | None]:
    """Validate read sources together: calls may name any of their flows."""
    names = [source.flow_name for source in sources]
    flow_names: tuple[str, ...] | None = None
    if check_calls:
        flow_names = _names([*(n for n in names if n is not None), *(flows or ())])
    elif flows is not None:
        flow_names = _names(flows)
    known = KnownNames(actions=_names(actions), conditions=_names(conditions), flows=flow_names,
                       templates=templates)
    specs: list[FlowSpec | None] = []
    first: dict[str, str] = {}
    for source, name in zip(sources, names, strict=True):
        if name is not None and name in first:
            where = source.index.location(("flow",)).value
            source.problem(where.line, where.column,
                           f"flow {name!r} is already defined in {first[name]}")
        elif name is not None:
            first[name] = source.path
        try:
            spec = _validate(source, known)
        except Exception as exc:  # a bug must still come out as a FlowError, not a crash
            source.problem(1, 1, f"{_INTERNAL}: {type(exc).__name__}: {exc}")
            spec = None
        specs.append(spec)
    if check_calls:
        _check_called_states(sources, specs)
    return specs


def _calls(spec: FlowSpec) -> Iterator[tuple[tuple[str | int, ...], Call]]:
    """Every ``call`` of a flow with its path: states', their rules', the global rules'."""
    for name, state in spec.states.items():
        if state.call is not None:
            yield ("states", name, "call"), state.call
        for index, rule in enumerate(state.on):
            if rule.call is not None:
                yield ("states", name, "on", index, "call"), rule.call
    for index, interrupt in enumerate(spec.global_):
        if interrupt.call is not None:
            yield ("global", index, "call"), interrupt.call


def _check_called_states(sources: list[_Source], specs: list[FlowSpec | None]) -> None:
    """A call's ``state`` must be a state of the flow it calls, when that flow is among
    the files checked together (one file alone knows only the names of other flows)."""
    states = {spec.name: tuple(spec.states) for spec in specs if spec is not None}
    for source, spec in zip(sources, specs, strict=True):
        if spec is None:
            continue
        for path, call in _calls(spec):
            known = states.get(call.flow)
            if call.state is None or known is None or call.state in known:
                continue
            where = source.index.location((*path, "state")).value
            unknown = unknown_name(call.state, known, "state", "states")
            source.problem(where.line, where.column,
                           f"call: state: {unknown} in flow {call.flow!r}")
        source.problems.sort(key=lambda p: (p.line, p.column))


def _errors(sources: Iterable[_Source]) -> list[FlowProblem]:
    return [p for source in sources for p in source.problems if p.severity == "error"]


