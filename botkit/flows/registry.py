"""The bot's YAML-flow methods (a mixin of :class:`botkit.Bot`): registering the Python
actions and conditions flows name, adding flows to routing, and checking them at start."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from botkit.errors import ConfigError

if TYPE_CHECKING:
    from botkit.bot import Bot
    from botkit.context import Context
    from botkit.flows.runtime import FlowRoute

__all__ = ["FlowRegistry"]

F = TypeVar("F", bound=Callable[..., Any])


class FlowRegistry:
    """``action``, ``condition``, ``add_flow``, ``flow`` and ``check_flows``, for
    :class:`botkit.Bot`."""

    actions: dict[str, Callable[[Context], Any]]
    conditions: dict[str, Callable[[Context], Any]]
    flows: dict[str, FlowRoute]
    _flow_files: dict[str, Path]

    def _init_flow_registry(self) -> None:
        self.actions = {}
        self.conditions = {}
        self.flows = {}
        self._flow_files = {}

    def action(self, name: str) -> Callable[[F], F]:
        """Register a Python action that YAML flows run with ``do: name``.

        Example:
            @bot.action("place_order")
            async def place_order(ctx: Context) -> None:
                await orders.create(ctx.conversation.data)
        """

        def register(callback: F) -> F:
            if name in self.actions:
                raise ConfigError(f"an action named {name!r} is already registered")
            self.actions[name] = callback
            return callback

        return register

    def condition(self, name: str) -> Callable[[F], F]:
        """Register a condition that YAML flows test with ``when: name`` (or ``validate``).

        Example:
            @bot.condition("is_open")
            def is_open(ctx: Context) -> bool:
                return 11 <= datetime.now().hour < 23
        """

        def register(callback: F) -> F:
            if name in self.conditions:
                raise ConfigError(f"a condition named {name!r} is already registered")
            self.conditions[name] = callback
            return callback

        return register

    def add_flow(self, path: str | os.PathLike[str]) -> FlowRoute:
        """Load a YAML flow and add it to routing at this point of the order.

        The file is checked at once (syntax, shape, states); the actions, conditions and
        called flows it names are checked when the bot starts, so they may be registered
        after this call.

        Raises:
            FlowError: the file does not load, with every problem and its position.
        """
        from botkit.flows import load_flow
        from botkit.flows.engine import compile_flow
        from botkit.flows.runtime import FlowRoute

        spec = load_flow(path)
        if spec.name in self.flows:
            raise ConfigError(
                f"two flows are named {spec.name!r}: {self._flow_files[spec.name]} and {path}"
            )
        bot = cast("Bot", self)
        route = FlowRoute(compile_flow(spec), bot)
        self.flows[spec.name] = route
        self._flow_files[spec.name] = Path(path)
        bot.add(route)
        return route

    def flow(self, name: str) -> FlowRoute:
        """The flow named ``name`` (its ``flow:`` key)."""
        try:
            return self.flows[name]
        except KeyError:
            known = ", ".join(self.flows) or "none"
            raise ConfigError(f"no flow named {name!r} (flows: {known})") from None

    def check_flows(self) -> None:
        """Check that every action, condition, flow and template the flows name exists
        (and that each use of a registered template gives it the values it takes).

        Raises:
            FlowError: with each unknown name at its position in its file.
        """
        from botkit.errors import FlowError
        from botkit.flows import load_flow

        problems = []
        for path in self._flow_files.values():
            try:
                load_flow(path, actions=self.actions, conditions=self.conditions, flows=self.flows,
                          templates=cast("Bot", self).templates)
            except FlowError as exc:
                problems.extend(exc.problems)
        if problems:
            raise FlowError(problems)
