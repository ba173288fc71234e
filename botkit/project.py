"""Where a project's flows are, for ``botkit check`` and ``botkit test`` given no path.

The answer, first found: the paths of ``[tool.botkit]`` in the nearest ``pyproject.toml``
(``flows``, and ``tests`` for ``botkit test``, which defaults to ``flows``); the ``bots/``
folder of the current directory; the current directory.

Example (pyproject.toml):
    [tool.botkit]
    flows = ["bots", "extra/flows"]
    tests = ["bots"]
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from botkit.errors import ConfigError

__all__ = ["ProjectPaths", "project_paths"]

DEFAULT_FOLDER = "bots"


@dataclass(frozen=True, slots=True)
class ProjectPaths:
    """The paths a command looks at, and why those (to say so in its output)."""

    paths: list[str]
    origin: str

    def describe(self) -> str:
        """``bots (the bots/ folder)``: what was looked at and why."""
        return f"{', '.join(self.paths)} ({self.origin})"


def project_paths(
    argv_paths: list[str], *, kind: Literal["flows", "tests"] = "flows", cwd: Path | None = None
) -> ProjectPaths:
    """The paths given on the command line, or the project's default for ``kind``.

    Raises:
        ConfigError: ``pyproject.toml`` does not parse, or its ``[tool.botkit]`` paths are
            not a list of strings.
    """
    if argv_paths:
        return ProjectPaths(list(argv_paths), "as given")
    here = (cwd or Path.cwd()).resolve()
    configured = _configured(here, kind)
    if configured is not None:
        return configured
    if (here / DEFAULT_FOLDER).is_dir():
        return ProjectPaths([DEFAULT_FOLDER], f"the {DEFAULT_FOLDER}/ folder")
    return ProjectPaths(["."], f"the current directory: no {DEFAULT_FOLDER}/ folder and no "
                        "[tool.botkit] paths in pyproject.toml")


def _configured(here: Path, kind: str) -> ProjectPaths | None:
    pyproject = next((folder / "pyproject.toml" for folder in (here, *here.parents)
                      if (folder / "pyproject.toml").is_file()), None)
    if pyproject is None:
        return None
    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{pyproject}: {exc}") from None
    settings = table.get("botkit") if isinstance(table, dict) else None
    if not isinstance(settings, dict):
        return None
    key = kind if kind in settings else "flows"
    if key not in settings:
        return None
    value = settings[key]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{pyproject}: [tool.botkit] {key} must be a list of paths "
                          f'(relative to the file), such as {key} = ["bots"]')
    # Relative to pyproject.toml, shown relative to where the command runs.
    paths = [os.path.relpath(pyproject.parent / v, here) for v in value]
    shown = os.path.relpath(pyproject, here)
    return ProjectPaths(paths, f"[tool.botkit] {key} in {shown}")
