"""Serving YAML flows: a bot built from flow files, their Python companions, and a watcher.

A flow file may have a Python companion beside it (``bots/support.py`` for
``bots/support.yaml``) defining ``setup(bot)``, which registers the actions, conditions
and handlers the flow uses. ``botkit run bots/`` builds one bot from every flow in the
folder, in name order, with each companion's ``setup`` called before its flow is added,
and the template registry beside them (``templates.yaml``) in ``bot.templates``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import sys
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from botkit.bot import Bot
from botkit.clock import Clock
from botkit.errors import ConfigError, FlowError
from botkit.flows.engine import compile_flow
from botkit.flows.loader import find_flow_files, load_flow
from botkit.settings import Settings
from botkit.store.base import Store
from botkit.template_registry import find_template_files

__all__ = ["bot_for_flow", "companion_of", "registered_names", "watch_flows"]

log = logging.getLogger("botkit.flows")


def companion_of(flow_file: Path) -> Path | None:
    """The Python file beside a flow that sets it up (``NAME.py``), if there is one."""
    candidate = flow_file.with_suffix(".py")
    return candidate if candidate.is_file() else None


def _run_companion(path: Path, bot: Bot) -> None:
    module_name = f"botkit_flow_{path.stem}_{abs(hash(path.resolve()))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    setup = getattr(module, "setup", None)
    if not callable(setup):
        raise ConfigError(f"{path} must define setup(bot), which registers the flow's actions")
    setup(bot)


def registered_names(flow_files: Iterable[Path]) -> tuple[set[str], set[str]]:
    """The actions and conditions the flows' companions register, for ``botkit check``.

    Each companion's ``setup`` runs on a scratch bot (memory store, nothing started).
    """
    scratch = Bot(Settings(store="memory://", sandbox="on"))
    for file in flow_files:
        companion = companion_of(file)
        if companion is not None:
            _run_companion(companion, scratch)
    return set(scratch.actions), set(scratch.conditions)


def bot_for_flow(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    settings: Settings | None = None,
    clock: Clock | None = None,
    store: Store | None = None,
) -> Bot:
    """A bot serving the flows at ``paths`` (files or folders), with their companions.

    Example:
        bot = bot_for_flow("bots/pizza.yaml")
        app = bot.asgi()

    Raises:
        FlowError: a flow does not load, or names an action, condition or flow that does
            not exist, with every problem and its position.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    files = find_flow_files(paths)
    if not files:
        raise ConfigError(f"no flow files (*.yaml) in {', '.join(map(str, paths))}")
    bot = Bot(settings, clock=clock, store=store)
    for registry in find_template_files(paths):  # templates.yaml beside the flows
        bot.add_templates(registry)
    for file in files:
        companion = companion_of(file)
        if companion is not None:
            _run_companion(companion, bot)
        bot.add_flow(file)
    bot.check_flows()
    return bot


async def _reload_changed(bot: Bot, seen: dict[Path, float]) -> None:
    for name, path in list(bot._flow_files.items()):
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        if seen.get(path) == mtime:
            continue
        first = path not in seen
        seen[path] = mtime
        if first:
            continue
        try:
            spec = await asyncio.to_thread(
                load_flow, path, actions=bot.actions, conditions=bot.conditions, flows=bot.flows,
                templates=bot.templates)
        except FlowError as exc:
            # A broken edit must not take the bot down: keep serving the old flow.
            print(f"botkit: {path} has errors; still serving the previous version:\n{exc}",
                  file=sys.stderr, flush=True)
            continue
        if spec.name != name:
            print(f"botkit: {path} renamed its flow to {spec.name!r}; restart to rename it",
                  file=sys.stderr, flush=True)
            continue
        bot.flow(name).replace(compile_flow(spec))
        log.info("botkit: reloaded flow %r from %s", name, path)
        print(f"botkit: reloaded {path}", file=sys.stderr, flush=True)


@contextlib.asynccontextmanager
async def watch_flows(bot: Bot, *, interval: float = 0.5) -> AsyncIterator[None]:
    """Reload a bot's flow files when they change, while the block runs.

    A file that no longer loads is reported and the previous version keeps serving.
    """
    seen: dict[Path, float] = {}
    await _reload_changed(bot, seen)

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            await _reload_changed(bot, seen)

    task = asyncio.get_running_loop().create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
