"""``botkit check``: check flow files and directories without loading them into a bot."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from botkit.errors import FlowProblem
from botkit.flows.source import PathLike, _read, find_flow_files
from botkit.flows.validation import _check_sources
from botkit.template_registry.load import read_templates
from botkit.template_registry.registry import find_template_files

__all__ = ["check", "main_check"]

def check(paths: PathLike | Iterable[PathLike], *, actions: Iterable[str] | None = None,
          conditions: Iterable[str] | None = None,
          flows: Iterable[str] | None = None,
          templates: Mapping[str, Any] | None = None) -> tuple[list[FlowProblem], int]:
    """Check flow files without loading them into a bot: what ``botkit check`` runs.

    Args:
        paths: a file or directory, or several (directories as :func:`find_flow_files`).
        actions: registered action names; ``None`` leaves ``do`` unchecked.
        conditions: registered condition names; ``None`` leaves ``when`` and
            ``validate`` unchecked.
        flows: names of further flows a ``call`` may run, besides those checked.
        templates: the template registry uses are checked against; ``None`` leaves
            ``say: {template: NAME}`` and ``fallback:`` unchecked.

    Returns:
        ``(problems, files_with_errors)``: every error and warning, file by file, each
        file's in file order; and how many files have at least one error.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    sources = [_read(path) for path in find_flow_files(items)]
    _check_sources(sources, actions=actions, conditions=conditions, flows=flows,
                   check_calls=True, templates=templates)
    problems = [p for source in sources for p in source.problems]
    failed = sum(1 for source in sources if any(p.severity == "error" for p in source.problems))
    return problems, failed


def main_check(argv_paths: list[str], *, actions: Iterable[str] | None = None,
               conditions: Iterable[str] | None = None, origin: str | None = None,
               template_files: Iterable[PathLike] = ()) -> int:
    """``botkit check [PATH...]``: print each problem as ``path:line:column: message``.

    The template registries among the paths (``templates.yaml`` in a folder or beside a
    flow file given, and ``template_files``) are checked too, and every flow's use of
    their templates against them.

    Args:
        argv_paths: files or directories; none means the current directory.
        actions, conditions: the registered names to check references against (None:
            not checked).
        origin: why these paths (the project's default, :func:`botkit.project.project_paths`),
            said in the summary; None when they were given.

    Returns:
        0 when no file has an error (warnings are printed but pass), 1 when any has,
        2 when there was no flow file to check.
    """
    items = argv_paths or ["."]
    where = ", ".join(items) + (f" ({origin})" if origin else "")
    files = find_flow_files(items)
    if not files:
        print(f"botkit check: no flow files (*.yaml, *.yml) in {where}", file=sys.stderr)
        return 2
    registries = find_template_files([*items, *template_files])
    templates, registry_problems = read_templates(registries)
    problems, failed = check(files, actions=actions, conditions=conditions,
                             templates={t.name: t for t in templates})
    problems = registry_problems + problems
    failed += len({p.path for p in registry_problems if p.severity == "error"})
    for problem in problems:
        print(problem)
    warnings = sum(1 for p in problems if p.severity == "warning")
    errors = len(problems) - warnings
    also = f" and {len(registries)} template registry file(s)" if registries else ""
    print(f"checked {len(files)} flow file(s){also} in {where}: {errors} error(s), "
          f"{warnings} warning(s)", file=sys.stderr)
    return 1 if failed else 0
