"""Finding and reading flow files: each file read and composed as YAML with positions,
before validation (:mod:`botkit.flows.loader`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botkit.errors import FlowProblem
from botkit.flows.yamlpos import PositionIndex, parse_yaml

__all__ = ["PathLike", "find_flow_files", "search_files"]

PathLike = str | os.PathLike[str]

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

def _is_flow_file(path: Path) -> bool:
    name = path.name
    return (name.endswith((".yaml", ".yml"))
            and not name.endswith((".test.yaml", ".test.yml"))
            and name not in ("templates.yaml", "templates.yml"))  # a template registry


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
    order, leaving out conversation tests (``*.test.yaml``), template registries
    (``templates.yaml``) and hidden directories
    (``.github`` holds YAML that is not a flow). A path that does not exist is kept, so
    that loading it reports the problem.
    """
    return search_files(paths, _is_flow_file)

