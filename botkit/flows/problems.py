"""Pydantic's validation errors turned into positioned problems a flow author can act on.

Each error's ``loc`` is mapped back to its YAML node (the key for an unknown or missing
key, the value otherwise) and its message said in the words of the flow format
(:mod:`botkit.flows.wording`), with a "did you mean" for a misspelt key.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from botkit.errors import FlowProblem
from botkit.flows.source import _Source
from botkit.flows.spec import ERROR_TYPE, ElseBody, FlowSpec, GlobalRule, Rule, State
from botkit.flows.wording import EXPECTED, describe_error

__all__: list[str] = []

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

