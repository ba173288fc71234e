"""Conversation tests: YAML scripts of what a user does and what the bot should answer.

Flow authors write ``bots/NAME.test.yaml`` beside ``bots/NAME.yaml``; each case runs on
the channels it names, through the bot's real webhook routes with the Messages API faked.
``botkit test PATH`` runs them (:func:`main_test`), and so does pytest, which collects
them through :mod:`botkit.convtest.plugin`. The format is taught in
``docs/testing-flows.md``.

Example:
    import asyncio
    from botkit.convtest import bot_factory_for, load_test_file, run_case

    test_file = load_test_file("bots/pizza.test.yaml")
    factory = bot_factory_for(test_file)
    for case in test_file.cases:
        for channel in case.run_on:
            result = asyncio.run(run_case(case, factory, channel=channel))
            print(result.text)
"""

from __future__ import annotations

from botkit.convtest.runner import (
    BotFactory,
    CaseResult,
    ShownReply,
    bot_factory_for,
    find_test_files,
    is_test_file,
    main_test,
    run_case,
    shown_reply,
)
from botkit.convtest.spec import (
    Case,
    ReplyExpectation,
    StateExpectation,
    TestFile,
    TestFileError,
    Turn,
    load_test_file,
    parse_test_file,
)

__all__ = [
    "BotFactory",
    "Case",
    "CaseResult",
    "ReplyExpectation",
    "ShownReply",
    "StateExpectation",
    "TestFile",
    "TestFileError",
    "Turn",
    "bot_factory_for",
    "find_test_files",
    "is_test_file",
    "load_test_file",
    "main_test",
    "parse_test_file",
    "run_case",
    "shown_reply",
]
