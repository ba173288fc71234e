"""The ``botkit`` command: ``run``, ``check``, ``graph``, ``test``, ``preview``, ``chat``,
``forget``, ``migrate``, ``accounts``, ``optouts`` and ``broadcast``.

TARGET is ``path/to/bot.py:attr`` or ``package.module:attr``, where ``attr`` is a
:class:`~botkit.Bot` (or an ASGI app built from one).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from botkit.accounts.cli import add_accounts_parser
from botkit.bot import Bot
from botkit.broadcast.cli import add_broadcast_parser
from botkit.compliance.optout_csv import add_optouts_parser
from botkit.errors import BotkitError, ConfigError
from botkit.routing import CHANNELS

__all__ = ["load_target", "main"]

_TARGET_ENV = "BOTKIT_RUN_TARGET"
_WATCH_ENV = "BOTKIT_RUN_WATCH"


def load_target(target: str) -> Any:
    """Import ``path.py:attr`` or ``module:attr`` and return the attribute.

    Raises:
        ConfigError: the target cannot be found, with what was tried.
    """
    location, sep, attr = target.rpartition(":")
    if not sep or not location or not attr:
        raise ConfigError(f"TARGET {target!r} must look like 'path/to/bot.py:bot' or 'module:bot'")
    if location.endswith(".py"):
        path = Path(location).resolve()
        if not path.is_file():
            raise ConfigError(f"no such file: {location}")
        # Let the bot import its neighbours, as 'python path/to/bot.py' would.
        sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise ConfigError(f"cannot import {location}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
    else:
        sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(location)
        except ModuleNotFoundError as exc:
            raise ConfigError(f"cannot import module {location!r}: {exc}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        names = ", ".join(n for n in vars(module) if not n.startswith("_"))
        raise ConfigError(f"{location} has no attribute {attr!r} (it has: {names})") from None


def is_flow_target(target: str) -> bool:
    """True for a flow file (``.yaml``/``.yml``) or a folder of them."""
    return target.endswith((".yaml", ".yml")) or Path(target).is_dir()


def asgi_for(target: str, *, watch: bool = False) -> Any:
    """The ASGI app to serve for ``target``: flows, a Bot's app, or the object itself."""
    if is_flow_target(target):
        from botkit.flows import bot_for_flow

        bot = bot_for_flow(target)
        bot.watch_flows = watch
        return bot.asgi()
    if watch:
        raise ConfigError("--watch reloads YAML flows; the target is not a flow file or folder")
    obj = load_target(target)
    if isinstance(obj, Bot):
        return obj.asgi()
    if callable(obj):
        return obj
    raise ConfigError(f"{target} is a {type(obj).__name__}, not a Bot or an ASGI app")


def served_app(target: str, *, watch: bool = False) -> Any:
    """:func:`asgi_for`, and when the bot sends for real (not the sandbox), a check at start
    of the Messenger, Viber and WhatsApp accounts linked to its application (in the
    background: the start never waits for it). The process's garbage collector is tuned
    for serving once the bot has started (:func:`_collect_for_serving`)."""
    app = asgi_for(target, watch=watch)
    bot = getattr(getattr(app, "state", None), "bot", None)
    if isinstance(bot, Bot):
        bot.startup_tasks.append(_collect_for_serving)
    if isinstance(bot, Bot) and not bot.settings.sandbox_enabled:
        from botkit.accounts.startup import accounts_check

        bot.startup_tasks.append(accounts_check(bot.settings, bot.channels_used()))
    return app


GC_YOUNG = 10_000
"""Allocations between two collections of the young generation under ``botkit run``
(Python's default is 700)."""


async def _collect_for_serving() -> None:
    """Tune the process's garbage collector for a server, once the bot has started.

    Under load a turn allocates many short-lived objects, and with Python's defaults the
    collector ran about 30% of a busy bot's CPU (``docs/benchmarks.md``): young collections
    every 700 allocations promoted objects still in use by requests in flight, and full
    collections walked every object the imports and the start had made. So the objects
    made so far are frozen out of collection (``gc.freeze()``: they live as long as the
    process anyway), and the young generation is collected every :data:`GC_YOUNG`
    allocations, by when most of a request's objects are gone. Done by ``botkit run``
    only: a process that embeds a bot keeps its own settings.
    """
    import gc

    gc.freeze()
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])


def _configure_logging() -> None:
    from botkit.logs import LineFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(LineFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def _reload_factory() -> Any:
    # uvicorn's reloader and its workers import the app in fresh processes by import
    # string; the target travels in the environment. Logging set up in the parent does
    # not travel with it, so each process sets up its own (botkit's INFO lines included).
    _configure_logging()
    return served_app(os.environ[_TARGET_ENV], watch=os.environ.get(_WATCH_ENV) == "1")


def _check(args: argparse.Namespace) -> int:
    from botkit.flows import find_flow_files, main_check
    from botkit.flows.serve import registered_names
    from botkit.project import project_paths

    where = project_paths(args.paths, kind="flows")
    # Actions and conditions come from the flows' Python companions (NAME.py), so a
    # misspelt `do:` is caught here and not only when the bot starts.
    actions, conditions = registered_names(find_flow_files(where.paths))
    registry = os.environ.get("BOTKIT_TEMPLATES", "").strip()
    return main_check(where.paths, actions=actions, conditions=conditions,
                      origin=None if args.paths else where.origin,
                      template_files=[registry] if registry else [])


def _test(args: argparse.Namespace) -> int:
    from botkit.convtest import main_test
    from botkit.project import project_paths

    where = project_paths(args.paths, kind="tests")
    return main_test(where.paths, origin=None if args.paths else where.origin)


def _graph(args: argparse.Namespace) -> int:
    from botkit.flows import main_graph

    return main_graph(args.file)


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    _configure_logging()
    if args.workers < 1:
        raise ConfigError(f"--workers must be 1 or more, not {args.workers}")
    if args.workers > 1:
        return _run_workers(args)
    if args.reload:
        os.environ[_TARGET_ENV] = args.target
        uvicorn.run(
            "botkit.cli:_reload_factory", factory=True, host=args.host, port=args.port, reload=True,
            access_log=args.access_log,
        )
        return 0
    app = served_app(args.target, watch=args.watch)
    bot = getattr(getattr(app, "state", None), "bot", None)
    if isinstance(bot, Bot) and bot.settings.sandbox_enabled:
        # The bot logs "sandbox mode" itself when it starts; this says where to look.
        print(
            f"botkit: chat with it on every channel at http://{args.host}:{args.port}/sandbox "
            f"(webhooks: http://{args.host}:{args.port}/webhooks/inbound)",
            flush=True,
        )
        _serve_sandbox(bot, uvicorn.Config(app, host=args.host, port=args.port,
                                           access_log=args.access_log))
        return 0
    uvicorn.run(app, host=args.host, port=args.port, access_log=args.access_log)
    return 0


def _run_workers(args: argparse.Namespace) -> int:
    """Serve with ``--workers N`` uvicorn processes, each importing the target by itself.

    uvicorn starts workers from an import string, so the target travels in the
    environment to :func:`_reload_factory`, as for ``--reload``.
    """
    import uvicorn

    if args.reload:
        raise ConfigError("--reload serves from one process; use it without --workers")
    # Loaded here too (nothing is opened) to refuse a store the workers cannot share
    # before any of them starts.
    _require_shared_store(asgi_for(args.target, watch=args.watch), args.workers)
    os.environ[_TARGET_ENV] = args.target
    os.environ[_WATCH_ENV] = "1" if args.watch else ""
    uvicorn.run(
        "botkit.cli:_reload_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=args.access_log,
    )
    return 0


def _require_shared_store(app: Any, workers: int) -> None:
    """Refuse several workers on a store of one process (memory, SQLite).

    Raises:
        ConfigError: naming the store and the settings (Redis, PostgreSQL) that fix it.
    """
    from botkit.settings import Settings
    from botkit.store import open_store

    bot = getattr(getattr(app, "state", None), "bot", None)
    store = bot.store if isinstance(bot, Bot) else open_store(Settings.from_env().store)
    if store.shared:
        return
    path = getattr(store, "path", None)
    if path is not None:
        what = f"the SQLite store {path!r}"
    else:
        what = "the memory store" if type(store).__name__ == "MemoryStore" else "this store"
    raise ConfigError(
        f"--workers {workers} needs a store that processes share, and {what} belongs to one "
        "process (each worker would keep conversations in order only among its own events). "
        "Use Redis: BOTKIT_STORE=redis://host:6379/0 (pip install 'botkit[redis]'), or "
        "PostgreSQL: BOTKIT_STORE=postgresql://user@host:5432/dbname "
        "(pip install 'botkit[postgres]'); or run one worker"
    )


def _forget(args: argparse.Namespace) -> int:
    import asyncio

    from botkit.settings import Settings
    from botkit.store import open_store

    store = open_store(Settings.from_env().store)

    async def forget() -> int:
        await store.open()
        try:
            return await store.forget(args.channel, args.address)
        finally:
            await store.close()

    removed = asyncio.run(forget())
    print(
        f"botkit: forgot {args.channel} user {args.address}: {removed} records deleted "
        "(conversations with every bot number, their inbox and outbound entries, timers, "
        "leases); an opt-out stays on the list"
    )
    return 0


def _migrate(args: argparse.Namespace) -> int:
    import asyncio

    from botkit.settings import Settings
    from botkit.store import open_store

    store = open_store(Settings.from_env().store)
    migrate = getattr(store, "migrate", None)
    if migrate is None:
        print(
            f"botkit: nothing to migrate by hand: {type(store).__name__} creates or upgrades "
            "what it keeps when the bot starts"
        )
        return 0
    before, after = asyncio.run(migrate())
    where = getattr(store, "schema", "")
    if before == after:
        print(f"botkit: schema {where!r} is at version {after}, this botkit's; nothing to do")
    else:
        print(f"botkit: migrated schema {where!r} from version {before} to {after}")
    return 0


def _serve_sandbox(bot: Bot, config: Any) -> None:
    """Serve with uvicorn, ending the sandbox page's live stream as soon as it must stop."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            if bot.sandbox is not None:
                bot.sandbox.closing = True  # a plain flag: safe to set from a signal
            super().handle_exit(sig, frame)

    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run does
        Server(config).run()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="botkit", description="Run multi-channel Vonage bots.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve a bot's webhooks with uvicorn")
    run.add_argument(
        "target", help="a flow file, a folder of flows, path/to/bot.py:attr or module:attr"
    )
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--reload", action="store_true", help="restart when the code changes")
    run.add_argument("--watch", action="store_true", help="reload changed flow files in place")
    run.add_argument(
        "--access-log",
        action="store_true",
        help="log every HTTP request (uvicorn's access log); botkit logs one line per turn",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes (above 1 needs a Redis or PostgreSQL BOTKIT_STORE)",
    )
    run.set_defaults(handler=_run)

    forget = commands.add_parser(
        "forget", help="delete everything the store (BOTKIT_STORE) keeps about one user"
    )
    forget.add_argument("channel", choices=CHANNELS)
    forget.add_argument("address", help="the user's number or id on that channel")
    forget.set_defaults(handler=_forget)

    migrate = commands.add_parser(
        "migrate",
        help="bring the store's schema (BOTKIT_STORE, PostgreSQL) to this botkit's version",
    )
    migrate.set_defaults(handler=_migrate)

    add_accounts_parser(commands)
    add_optouts_parser(commands)
    add_broadcast_parser(commands)

    check = commands.add_parser(
        "check", help="check YAML flows and template registries; non-zero exit on any error")
    check.add_argument(
        "paths", nargs="*", default=[],
        help="flow files or folders (default: [tool.botkit] flows in pyproject.toml, or bots/)",
    )
    check.set_defaults(handler=_check)

    graph = commands.add_parser("graph", help="print a flow's Mermaid state diagram")
    graph.add_argument("file", help="a flow file")
    graph.set_defaults(handler=_graph)

    test = commands.add_parser(
        "test", help="run conversation tests (*.test.yaml); non-zero exit on any failure"
    )
    test.add_argument(
        "paths", nargs="*", default=[],
        help="test files or folders (default: [tool.botkit] tests or flows in pyproject.toml, "
        "or bots/)",
    )
    test.set_defaults(handler=_test)

    preview = commands.add_parser(
        "preview", help="show a reply (YAML or JSON file) as every channel renders it"
    )
    preview.add_argument("file", help="a YAML or JSON file holding one reply or a list")
    preview.add_argument("--channel", choices=CHANNELS, help="only this channel")
    preview.add_argument("--api-version", default="v1", choices=["v1", "v0.1"])
    preview.set_defaults(handler=_preview)

    chat = commands.add_parser(
        "chat", help="talk to a bot in the terminal as a user of one channel"
    )
    chat.add_argument(
        "target", help="a flow file, a folder of flows, path/to/bot.py:attr or module:attr"
    )
    chat.add_argument("--channel", choices=CHANNELS, default="sms", help="default: sms")
    chat.add_argument("--user", help="the user's number or id (default: a sample one)")
    chat.set_defaults(handler=_chat)
    return parser


def _chat(args: argparse.Namespace) -> int:
    from botkit.chat import main_chat

    return main_chat(args.target, args.channel, args.user)


def _preview(args: argparse.Namespace) -> int:
    from botkit.preview import main_preview

    return main_preview(args.file, args.channel, args.api_version)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``botkit`` console script."""
    args = _parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except BotkitError as exc:
        print(f"botkit: error: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
