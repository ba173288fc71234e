"""Load flow files: YAML text in, a validated :class:`FlowSpec` out, or every problem at once.

Loading never raises anything but :class:`botkit.errors.FlowError`, whatever the file
holds. Each problem is a :class:`botkit.errors.FlowProblem` at the 1-based line and column
of the offending key or value, sorted in file order:

1. the file is read and composed as YAML with positions (:mod:`botkit.flows.yamlpos`):
   syntax errors, duplicate keys and unsupported tags are found here;
2. the data is validated by the pydantic models of :mod:`botkit.flows.spec`, with the
   known state, action, condition and flow names in the validation context, and each
   pydantic error's ``loc`` is mapped back to its YAML node;
3. a flow without errors is checked for unreachable states and dead ends, which are
   warnings on ``spec.warnings`` and never stop it from loading.

``check`` and ``main_check`` do the same for files and directories, for ``botkit check``.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from botkit.errors import FlowError, FlowProblem
from botkit.flows.spec import (
    CONTEXT_KEY,
    ERROR_TYPE,
    ElseBody,
    FlowSpec,
    GlobalRule,
    KnownNames,
    Rule,
    State,
)
from botkit.flows.wording import EXPECTED, describe_error, shown
from botkit.flows.yamlpos import PositionIndex, parse_yaml

__all__ = ["check", "find_flow_files", "load_flow", "load_flows", "main_check", "parse_flow"]

PathLike = str | os.PathLike[str]

_INTERNAL = "botkit could not check this part of the file (please report this)"


@dataclass(slots=True)
class _Source:
    """One file read and composed, before validation."""

    path: str
    data: Any = None
    index: PositionIndex = field(default_factory=PositionIndex)
    problems: list[FlowProblem] = field(default_factory=list)
    reported: list[tuple[str | int, ...]] = field(default_factory=list)

    def problem(self, line: int, column: int, message: str) -> None:
        self.problems.append(FlowProblem(self.path, line, column, message))

    @property
    def flow_name(self) -> str | None:
        name = self.data.get("flow") if isinstance(self.data, dict) else None
        return name if isinstance(name, str) else None


def _from_text(text: str, path: str) -> _Source:
    source = _Source(path)
    data, source.index, found = parse_yaml(text)
    source.data = data
    for problem in found:
        source.problem(problem.position.line, problem.position.column, problem.message)
        if problem.path is not None:
            source.reported.append(problem.path)
    return source


def _read(path: PathLike) -> _Source:
    name = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        source = _Source(name)
        source.problem(1, 1, f"cannot read the file: {exc.strerror or exc}")
        return source
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start:exc.start].decode("utf-8", "replace")) + 1
        source = _Source(name)
        source.problem(raw.count(b"\n", 0, exc.start) + 1, column,
                       f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})")
        return source
    return _from_text(text, name)


# --- pydantic errors to positioned problems ---------------------------------------------

def _strip(loc: Sequence[Any]) -> tuple[str | int, ...]:
    """The YAML path of a pydantic ``loc``: union tags (``<rule>``) left out."""
    return tuple(step for step in loc
                 if not (isinstance(step, str) and step.startswith("<") and step.endswith(">")))


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, UnionType):
            args = [arg for arg in get_args(tp) if arg is not NoneType]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _model_at(loc: Sequence[Any]) -> type[BaseModel] | None:
    """The model that validates the mapping at ``loc`` (pydantic's own, tags included)."""
    tp: Any = FlowSpec
    for step in loc:
        tp = _unwrap(tp)
        if isinstance(step, str) and step.startswith("<"):
            for arg in get_args(tp):
                tags = [meta.tag for meta in getattr(arg, "__metadata__", ())
                        if hasattr(meta, "tag")]
                if step in tags:
                    tp = arg
                    break
            else:
                return None
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            fields = {info.alias or name: info for name, info in tp.model_fields.items()}
            if not isinstance(step, str) or step not in fields:
                return None
            tp = fields[step].annotation
        elif get_origin(tp) in (tuple, list) and isinstance(step, int):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict and isinstance(step, str):
            tp = get_args(tp)[1]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


_IN_A_RULE = "matchers go in a rule, under on"
_SPECIAL_KEYS: dict[tuple[type[BaseModel], str], str] = {
    (GlobalRule, "else"): "global rules cannot use else: it would take every message",
    (Rule, "resume"): "resume is for global rules; use goto to enter a state again",
    (Rule, "next"): "a rule moves on with goto; next belongs to the state",
    (GlobalRule, "next"): "a rule moves on with goto; next belongs to the state",
    (ElseBody, "next"): "a rule moves on with goto; next belongs to the state",
    (State, "goto"): "goto goes in a rule under on, or in timeout; next moves on at once",
    (State, "text"): _IN_A_RULE,
    (State, "button"): _IN_A_RULE,
    (State, "kind"): _IN_A_RULE,
    (State, "location"): _IN_A_RULE,
    (State, "else"): _IN_A_RULE,
    (State, "prompt"): "prompt goes under ask",
    (State, "slot"): "slot goes under ask",
}


def _unknown_key(loc: Sequence[Any]) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    if model is None:
        return f"unknown key {key!r}"
    special = _SPECIAL_KEYS.get((model, key))
    if special is not None:
        return f"unknown key {key!r} ({special})"
    allowed = [info.alias or name for name, info in model.model_fields.items()]
    close = _close(key, allowed)
    if close:
        return f"unknown key {key!r}: did you mean {close[0]!r}?"
    return f"unknown key {key!r} (expected one of: {', '.join(allowed)})"


def _close(word: str, choices: Sequence[str]) -> list[str]:
    return difflib.get_close_matches(word, choices, n=1, cutoff=0.6)


def _describe(error: Any, path: tuple[str | int, ...]) -> str:
    """The message for one pydantic error, said to a flow author."""
    if error["type"] in EXPECTED and error.get("input") is None and len(path) == 2 \
            and path[0] == "states":
        return (f"state {path[1]!r} is empty; give it say, on, ask, next, call, "
                f"handoff or final")
    return describe_error(error)


def _prefixed(path: tuple[str | int, ...], message: str) -> str:
    keys = [step for step in path if isinstance(step, str)]
    return f"{keys[-1]}: {message}" if keys else message


def _problem(source: _Source, error: Any) -> FlowProblem:
    loc = tuple(error["loc"])
    path = _strip(loc)
    index = source.index
    kind = error["type"]
    if kind == ERROR_TYPE:
        context = error["ctx"]
        target = (*path, *context["where"])
        found = index.location(target)
        exact = index.resolve(target) == target
        where = found.key if context["at"] == "key" and exact else found.value
        message = context["message"]
        if context["prefix"] and path and path[-1] != "[key]":
            message = _prefixed(path, message)
    elif kind == "missing":
        parent = path[:-1]
        found = index.location(parent)
        where = found.key if parent else found.value
        message = f"missing required key {path[-1]!r}"
    elif kind == "extra_forbidden":
        where = index.location(path).key
        message = _unknown_key(loc)
    elif path and path[-1] == "[key]":
        where = index.location(path[:-1]).key
        message = _describe(error, path[:-1])
    else:
        found = index.location(path)
        # An empty value has no position of its own: show its key.
        where = found.key if error.get("input") is None else found.value
        message = _describe(error, path)
        value = error.get("input")
        if not (value is None and len(path) == 2 and path[0] == "states"):
            message = _prefixed(path, message)
    return FlowProblem(source.path, where.line, where.column, message)


# --- validation ---------------------------------------------------------------------------

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
        if not state.final and not state.handoff and not leaves:
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


def _check_sources(sources: list[_Source], *, actions: Iterable[str] | None,
                   conditions: Iterable[str] | None, flows: Iterable[str] | None,
                   check_calls: bool) -> list[FlowSpec | None]:
    """Validate read sources together: calls may name any of their flows."""
    names = [source.flow_name for source in sources]
    flow_names: tuple[str, ...] | None = None
    if check_calls:
        flow_names = _names([*(n for n in names if n is not None), *(flows or ())])
    elif flows is not None:
        flow_names = _names(flows)
    known = KnownNames(actions=_names(actions), conditions=_names(conditions), flows=flow_names)
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
    return specs


def _errors(sources: Iterable[_Source]) -> list[FlowProblem]:
    return [p for source in sources for p in source.problems if p.severity == "error"]


def parse_flow(text: str, path: str = "<string>", *, actions: Iterable[str] | None = None,
               conditions: Iterable[str] | None = None,
               flows: Iterable[str] | None = None) -> FlowSpec:
    """Load a flow from YAML text; see :func:`load_flow`.

    Args:
        text: the YAML.
        path: the file name used in problems.
        actions: registered action names; ``None`` leaves ``do`` unchecked.
        conditions: registered condition names; ``None`` leaves ``when`` and
            ``validate`` unchecked.
        flows: names of the flows ``call`` may run; ``None`` leaves ``call.flow``
            unchecked.

    Raises:
        FlowError: with every problem, in file order.
    """
    return _load_one(_from_text(text, path), actions, conditions, flows)


def load_flow(path: PathLike, *, actions: Iterable[str] | None = None,
              conditions: Iterable[str] | None = None,
              flows: Iterable[str] | None = None) -> FlowSpec:
    """Load and validate one flow file.

    Example:
        spec = load_flow("bots/pizza.yaml", actions={"place_order"}, conditions=set())
        for warning in spec.warnings:
            print(warning)

    Args:
        path: the YAML file.
        actions: registered action names (``@bot.action``); ``None`` leaves ``do``
            unchecked.
        conditions: registered condition names (``@bot.condition``); ``None`` leaves
            ``when`` and ``validate`` unchecked.
        flows: names of the other flows a ``call`` may run; ``None`` leaves ``call.flow``
            unchecked.

    Returns:
        The flow, with ``spec.warnings`` (unreachable states, dead ends).

    Raises:
        FlowError: with every error of the file, in file order, whatever the file holds.
    """
    return _load_one(_read(path), actions, conditions, flows)


def _load_one(source: _Source, actions: Iterable[str] | None,
              conditions: Iterable[str] | None, flows: Iterable[str] | None) -> FlowSpec:
    [spec] = _check_sources([source], actions=actions, conditions=conditions, flows=flows,
                            check_calls=False)
    errors = _errors([source])
    if errors or spec is None:
        raise FlowError(errors)
    return spec


def load_flows(*paths: PathLike, actions: Iterable[str] | None = None,
               conditions: Iterable[str] | None = None,
               flows: Iterable[str] | None = None) -> dict[str, FlowSpec]:
    """Load several flow files (or directories of them) that may call one another.

    A ``call`` may name any flow among the files, or in ``flows``; two files with the
    same ``flow`` name are an error.

    Args:
        *paths: files, or directories searched as :func:`find_flow_files` does.
        actions: registered action names; ``None`` leaves ``do`` unchecked.
        conditions: registered condition names; ``None`` leaves ``when`` and
            ``validate`` unchecked.
        flows: names of further flows (registered elsewhere) a ``call`` may run.

    Returns:
        The flows by name, in the order of the files.

    Raises:
        FlowError: with every error of every file, file by file, each in file order.
    """
    sources = [_read(path) for path in find_flow_files(paths)]
    specs = _check_sources(sources, actions=actions, conditions=conditions, flows=flows,
                           check_calls=True)
    errors = _errors(sources)
    if errors:
        raise FlowError(errors)
    return {spec.name: spec for spec in specs if spec is not None}


def _is_flow_file(path: Path) -> bool:
    name = path.name
    return (name.endswith((".yaml", ".yml"))
            and not name.endswith((".test.yaml", ".test.yml")))


def search_files(paths: Iterable[PathLike], wanted: Callable[[Path], bool]) -> list[Path]:
    """Files as given, and in each directory (recursively, in name order, hidden
    directories left out) the files ``wanted`` accepts. A path that does not exist is
    kept, so that loading it reports the problem."""
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if not path.is_dir():
            found.append(path)
            continue
        for candidate in sorted(path.rglob("*")):
            hidden = any(part.startswith(".") for part in candidate.relative_to(path).parts)
            if not hidden and candidate.is_file() and wanted(candidate):
                found.append(candidate)
    return found


def find_flow_files(paths: Iterable[PathLike]) -> list[Path]:
    """The flow files named by ``paths``: files as given, directories searched.

    A directory is searched recursively for ``*.yaml`` and ``*.yml`` files, in name
    order, leaving out conversation tests (``*.test.yaml``) and hidden directories
    (``.github`` holds YAML that is not a flow). A path that does not exist is kept, so
    that loading it reports the problem.
    """
    return search_files(paths, _is_flow_file)


def check(paths: PathLike | Iterable[PathLike], *, actions: Iterable[str] | None = None,
          conditions: Iterable[str] | None = None,
          flows: Iterable[str] | None = None) -> tuple[list[FlowProblem], int]:
    """Check flow files without loading them into a bot: what ``botkit check`` runs.

    Args:
        paths: a file or directory, or several (directories as :func:`find_flow_files`).
        actions: registered action names; ``None`` leaves ``do`` unchecked.
        conditions: registered condition names; ``None`` leaves ``when`` and
            ``validate`` unchecked.
        flows: names of further flows a ``call`` may run, besides those checked.

    Returns:
        ``(problems, files_with_errors)``: every error and warning, file by file, each
        file's in file order; and how many files have at least one error.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    sources = [_read(path) for path in find_flow_files(items)]
    _check_sources(sources, actions=actions, conditions=conditions, flows=flows,
                   check_calls=True)
    problems = [p for source in sources for p in source.problems]
    failed = sum(1 for source in sources if any(p.severity == "error" for p in source.problems))
    return problems, failed


def main_check(argv_paths: list[str], *, actions: Iterable[str] | None = None,
               conditions: Iterable[str] | None = None) -> int:
    """``botkit check [PATH...]``: print each problem as ``path:line:column: message``.

    Args:
        argv_paths: files or directories; none means the current directory.
        actions, conditions: the registered names to check references against (None:
            not checked).

    Returns:
        0 when no file has an error (warnings are printed but pass), 1 when any has,
        2 when there was no flow file to check.
    """
    items = argv_paths or ["."]
    files = find_flow_files(items)
    if not files:
        print(f"botkit check: no flow files (*.yaml, *.yml) in {', '.join(items)}",
              file=sys.stderr)
        return 2
    problems, failed = check(files, actions=actions, conditions=conditions)
    for problem in problems:
        print(problem)
    warnings = sum(1 for p in problems if p.severity == "warning")
    errors = len(problems) - warnings
    print(f"checked {len(files)} flow file(s): {errors} error(s), {warnings} warning(s)",
          file=sys.stderr)
    return 1 if failed else 0
