"""The bot a conversation test runs on: built fresh for every case and channel, from a
flow file, a function returning a bot, or one bot reset between cases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from botkit.bot import Bot
from botkit.cli import is_flow_target, load_target
from botkit.clock import FakeClock
from botkit.convtest.spec import TestFile
from botkit.errors import ConfigError
from botkit.flows import bot_for_flow
from botkit.settings import Settings
from botkit.store.memory import MemoryStore

__all__ = ["BotFactory", "bot_factory_for"]


BotFactory = Callable[[], Bot]
"""Builds the bot a case runs on; called once per case and channel."""


def _from_callable(make: Callable[[], Any], target: str) -> BotFactory:
    def build() -> Bot:
        bot = make()
        if not isinstance(bot, Bot):
            raise ConfigError(f"{target} returned {type(bot).__name__}, not a Bot")
        if not isinstance(bot.store, MemoryStore):
            # A factory reading the environment would open the real database.
            bot.store = MemoryStore()
        return bot

    return build


def _reusing(bot: Bot) -> BotFactory:
    start = bot.clock.now() if isinstance(bot.clock, FakeClock) else FakeClock().now()

    def build() -> Bot:
        # The same handlers, but nothing remembered from the previous case.
        bot.store = MemoryStore()
        bot.clock = FakeClock(start)
        return bot

    return build


def _flow_factory(path: Path) -> BotFactory:
    if not path.exists():
        raise ConfigError(f"no such flow: {path} (the bot under test; name it with bot: in "
                          f"the test file)")

    def build() -> Bot:
        # Default settings, not the environment's: the same test gives the same result
        # on every machine (BOTKIT_LOCALE would change the words of a menu).
        return bot_for_flow(path, settings=Settings(store="memory://"), clock=FakeClock())

    # The first bot is built now, so that a flow with errors is reported once, with its
    # positions, instead of failing every case; the first case gets it.
    unused = [build()]

    def fresh() -> Bot:
        return unused.pop() if unused else build()

    return fresh


def bot_factory_for(test_file: TestFile) -> BotFactory:
    """The factory of the bot a test file names (``bot:``, default ``NAME.yaml``).

    - ``path.py:attr`` or ``module:attr`` naming a function: it is called for every case
      and must return a new :class:`Bot`. A bot it builds on any store but memory gets a
      fresh in-memory store instead; a bot without a ``FakeClock`` gets one.
    - ``path.py:attr`` naming a :class:`Bot`: that one bot runs every case, each on a
      fresh in-memory store with its clock set back. Anything its handlers keep outside
      the conversation (module globals) carries over from case to case.
    - a flow file or a directory of flows: built by :func:`botkit.flows.bot_for_flow`
      (with the flows' Python companions) on default settings, a memory store and a
      ``FakeClock``.

    Paths are relative to the test file.

    Raises:
        ConfigError: the target cannot be imported or found, or is not a Bot or a
            function.
        FlowError: a flow does not load (with every problem and its position).
    """
    target = test_file.target
    base = test_file.path.parent
    if not is_flow_target(str(base / target)):
        location, _, attr = target.rpartition(":")
        if location.endswith(".py"):
            location = str(base / location)
        try:
            obj = load_target(f"{location}:{attr}")
        except ConfigError as exc:
            raise ConfigError(f"cannot load the bot {target!r}: {exc}") from None
        if isinstance(obj, Bot):
            return _reusing(obj)
        if callable(obj):
            return _from_callable(obj, target)
        raise ConfigError(f"{target} is neither a Bot nor a function returning one (it is "
                          f"{type(obj).__name__})")
    return _flow_factory(base / target)


