"""pytest plugin: every ``*.test.yaml`` is collected, one test item per case and channel.

Registered as a ``pytest11`` entry point, so installing botkit is enough: ``pytest``
collects conversation tests wherever it collects tests, and a failure shows the
conversation's transcript. Item ids read ``bots/pizza.test.yaml::order by tapping[sms]``.

A file that does not load, or whose bot cannot be imported, is a collection error whose
message is ``path:line:column: message`` per problem. Each case runs in its own event
loop (``asyncio.run``), so it does not depend on pytest-asyncio or its mode. Outside
botkit's own test suite the plugin can be switched off with ``-p no:botkit``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from botkit.convtest.runner import (
    BotFactory,
    CaseResult,
    bot_factory_for,
    display_path,
    is_test_file,
    run_case,
)
from botkit.convtest.spec import Case, TestFileError, load_test_file
from botkit.errors import ConfigError, FlowError

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr, TracebackStyle

__all__ = ["ConversationCase", "ConversationFailed", "ConversationFile", "pytest_collect_file"]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ConversationFile | None:
    """Collect ``*.test.yaml`` and ``*.test.yml`` files as conversation tests."""
    if is_test_file(file_path):
        file: ConversationFile = ConversationFile.from_parent(parent, path=file_path)
        return file
    return None


class ConversationFailed(Exception):
    """A case did not go as its file says; carries the result with its transcript."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.failure)
        self.result = result


class ConversationFile(pytest.File):
    """A conversation test file: its cases, each on each of its channels."""

    def collect(self) -> Iterator[ConversationCase]:
        try:
            test_file = load_test_file(self.path)
            # Importing the bot here makes an import error a collection error, reported
            # once, rather than the same failure for every case.
            factory = bot_factory_for(test_file)
        except (TestFileError, FlowError) as exc:
            # Positions relative to where pytest was started, as pytest shows paths.
            here = self.config.invocation_params.dir
            shown = [replace(p, path=display_path(Path(p.path), here)) for p in exc.problems]
            raise self.CollectError("\n".join(map(str, shown))) from None
        except ConfigError as exc:
            raise self.CollectError(str(exc)) from None
        for case in test_file.cases:
            for channel in case.run_on:
                yield ConversationCase.from_parent(
                    self, name=f"{case.name}[{channel}]", case=case, channel=channel,
                    factory=factory,
                )


class ConversationCase(pytest.Item):
    """One case on one channel."""

    def __init__(self, *, case: Case, channel: str, factory: BotFactory, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.channel = channel
        self.factory = factory

    def runtest(self) -> None:
        result = asyncio.run(run_case(self.case, self.factory, channel=self.channel))
        if not result.passed:
            raise ConversationFailed(result)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: TracebackStyle | None = None,
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, ConversationFailed):
            result = excinfo.value.result
            return (f"conversation {result.name!r} on {result.channel} went differently:\n"
                    f"{result.text}")
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, max(self.case.line - 1, 0), f"{self.case.name} [{self.channel}]"
