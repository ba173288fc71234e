"""``botkit test PATH...``: run every case of every conversation test file, each on its
channels, and print a line per case with the transcript of each failure.

The cases themselves run in :mod:`botkit.convtest.case`, on bots from
:mod:`botkit.convtest.factory`; :mod:`botkit.convtest.plugin` runs the same cases under
pytest.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from botkit.convtest.case import CaseResult, run_case
from botkit.convtest.factory import BotFactory, bot_factory_for
from botkit.convtest.shown import ShownReply, shown_reply
from botkit.convtest.spec import TestFileError, load_test_file
from botkit.errors import ConfigError, FlowError
from botkit.flows.loader import search_files

__all__ = [
    "BotFactory",
    "CaseResult",
    "ShownReply",
    "bot_factory_for",
    "display_path",
    "find_test_files",
    "is_test_file",
    "main_test",
    "run_case",
    "shown_reply",
]

_TEST_SUFFIXES = (".test.yaml", ".test.yml")


def is_test_file(path: Path) -> bool:
    """True for a conversation test file name: ``*.test.yaml`` or ``*.test.yml``."""
    return path.name.endswith(_TEST_SUFFIXES)


def find_test_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The test files named by ``paths``: files as given, directories searched.

    A directory is searched recursively for ``*.test.yaml`` (and ``*.test.yml``) in name
    order, leaving out hidden directories. A path that does not exist is kept, so that
    loading it reports the problem.
    """
    return search_files(paths, is_test_file)


def display_path(path: Path, start: Path | None = None) -> str:
    """``path`` relative to ``start`` (default: the working directory) when inside it."""
    try:
        relative = os.path.relpath(path, start)
    except ValueError:  # another drive
        return str(path)
    return str(path) if relative.startswith("..") else relative


def _indented(text: str) -> str:
    return "\n".join("    " + line for line in text.split("\n"))


async def _run_files(files: Sequence[Path], out: TextIO) -> int:
    passed = failed = broken = 0
    for path in files:
        shown = display_path(path)
        try:
            test_file = load_test_file(path)
            factory = bot_factory_for(test_file)
        except TestFileError as exc:
            print(f"ERROR {shown}: the file does not load:\n{_indented(str(exc))}", file=out)
            broken += 1
            continue
        except FlowError as exc:
            print(f"ERROR {shown}: the flow does not load:\n{_indented(str(exc))}", file=out)
            broken += 1
            continue
        except ConfigError as exc:
            print(f"ERROR {shown}: {exc}", file=out)
            broken += 1
            continue
        except Exception as exc:  # the bot's module itself fails to import
            print(f"ERROR {shown}: {type(exc).__name__}: {exc}", file=out)
            broken += 1
            continue
        for case in test_file.cases:
            for channel in case.run_on:
                label = f"{shown}::{case.name}[{channel}]"
                try:
                    result = await run_case(case, factory, channel=channel)
                except Exception as exc:  # a broken bot fails its case, not the whole run
                    print(f"ERROR {label}: {type(exc).__name__}: {exc}", file=out)
                    failed += 1
                    continue
                if result.passed:
                    passed += 1
                    print(f"PASS {label}", file=out)
                else:
                    failed += 1
                    print(f"FAIL {label}\n{_indented(result.text)}", file=out)
    summary = f"{passed} passed, {failed} failed"
    if broken:
        summary += f", {broken} {'file' if broken == 1 else 'files'} with errors"
    print(summary, file=out)
    return 0 if failed == broken == 0 else 1


def main_test(
    paths: Sequence[str], *, out: TextIO | None = None, origin: str | None = None
) -> int:
    """``botkit test PATH...``: run every case of every test file on each of its channels.

    Prints ``PASS file::case[channel]`` or ``FAIL ...`` with the transcript per case, then
    a summary.

    Args:
        paths: test files and directories (searched recursively); default: ``.``.
        out: where to print; default: standard output.
        origin: why these paths (the project's default, :func:`botkit.project.project_paths`),
            said first; None when they were given.

    Returns:
        0 when every case passed; 1 when one failed, a file did not load, or there was
        nothing to run.
    """
    out = out if out is not None else sys.stdout
    files = find_test_files(paths or ["."])
    where = (", ".join(paths) or ".") + (f" ({origin})" if origin else "")
    if not files:
        print(f"no conversation tests (*.test.yaml) found in {where}", file=out)
        return 1
    if origin:  # paths not given: say which were taken
        print(f"running {len(files)} test file(s) in {where}", file=out)
    return asyncio.run(_run_files(files, out))
