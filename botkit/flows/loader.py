"""Load flow files: YAML text in, a validated :class:`FlowSpec` out, or every problem at once.

Loading never raises anything but :class:`botkit.errors.FlowError`, whatever the file
holds. Each problem is a :class:`botkit.errors.FlowProblem` at the 1-based line and column
of the offending key or value, sorted in file order:

1. the file is read and composed as YAML with positions (:mod:`botkit.flows.source`,
   :mod:`botkit.flows.yamlpos`): syntax errors, duplicate keys and unsupported tags are
   found here;
2. the data is validated by the pydantic models of :mod:`botkit.flows.spec`, with the
   known state, action, condition and flow names in the validation context
   (:mod:`botkit.flows.validation`), and each pydantic error's ``loc`` is mapped back to
   its YAML node (:mod:`botkit.flows.problems`);
3. a flow without errors is checked for unreachable states and dead ends
   (:mod:`botkit.flows.lint`), which are warnings on ``spec.warnings`` and never stop it
   from loading.

``check`` and ``main_check`` (:mod:`botkit.flows.check`) do the same for files and
directories, for ``botkit check``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from botkit.errors import FlowError
from botkit.flows.check import check, main_check
from botkit.flows.source import PathLike, _from_text, _read, _Source, find_flow_files, search_files
from botkit.flows.spec import FlowSpec
from botkit.flows.validation import _check_sources, _errors

__all__ = [
    "check",
    "find_flow_files",
    "load_flow",
    "load_flows",
    "main_check",
    "parse_flow",
    "search_files",
]


def parse_flow(text: str, path: str = "<string>", *, actions: Iterable[str] | None = None,
               conditions: Iterable[str] | None = None,
               flows: Iterable[str] | None = None,
               templates: Mapping[str, Any] | None = None) -> FlowSpec:
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
    return _load_one(_from_text(text, path), actions, conditions, flows, templates)


def load_flow(path: PathLike, *, actions: Iterable[str] | None = None,
              conditions: Iterable[str] | None = None,
              flows: Iterable[str] | None = None,
              templates: Mapping[str, Any] | None = None) -> FlowSpec:
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
        templates: the template registry (``bot.templates``) that ``say: {template:
            NAME}`` and ``fallback:`` name; ``None`` leaves them unchecked.

    Returns:
        The flow, with ``spec.warnings`` (unreachable states, dead ends).

    Raises:
        FlowError: with every error of the file, in file order, whatever the file holds.
    """
    return _load_one(_read(path), actions, conditions, flows, templates)


def _load_one(source: _Source, actions: Iterable[str] | None,
              conditions: Iterable[str] | None, flows: Iterable[str] | None,
              templates: Mapping[str, Any] | None) -> FlowSpec:
    [spec] = _check_sources([source], actions=actions, conditions=conditions, flows=flows,
                            check_calls=False, templates=templates)
    errors = _errors([source])
    if errors or spec is None:
        raise FlowError(errors)
    return spec


def load_flows(*paths: PathLike, actions: Iterable[str] | None = None,
               conditions: Iterable[str] | None = None,
               flows: Iterable[str] | None = None,
               templates: Mapping[str, Any] | None = None) -> dict[str, FlowSpec]:
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
                           check_calls=True, templates=templates)
    errors = _errors(sources)
    if errors:
        raise FlowError(errors)
    return {spec.name: spec for spec in specs if spec is not None}


