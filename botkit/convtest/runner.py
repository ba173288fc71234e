"""Run conversation test cases on a bot, compare every turn, and write a readable transcript.

A case runs on a fresh bot from a factory, driven by :class:`botkit.testing.BotTestClient`
through its real webhook routes, with the Messages API faked and the bot's clock a
:class:`~botkit.clock.FakeClock`. After each turn the replies and the conversation are
compared with what the turn expects; the first mismatch ends the case. The transcript
shows the conversation as a person would read it::

    > user: hi
    < bot: Hi there! What size? [Small | Medium | Large]
    > tap: Medium
    < bot: Where should we deliver?
    ! turn 2 (line 12): expected text 'Where to?' but the bot said 'Where should we deliver?'

``main_test`` is ``botkit test PATH...``; :mod:`botkit.convtest.plugin` runs the same
cases under pytest.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from botkit.bot import Bot
from botkit.cli import is_flow_target, load_target
from botkit.clock import FakeClock
from botkit.convtest.spec import (
    Case,
    ReplyExpectation,
    StateExpectation,
    TestFile,
    TestFileError,
    Turn,
    load_test_file,
)
from botkit.errors import ConfigError, FlowError
from botkit.flows import bot_for_flow
from botkit.flows.durations import format_duration
from botkit.flows.loader import search_files
from botkit.locales import LOCALES
from botkit.preview import user_view
from botkit.rendering.hints import menu_hint, menu_labels
from botkit.settings import Settings
from botkit.store import ConversationKey
from botkit.store.memory import MemoryStore
from botkit.testing import (
    DEFAULT_BOT,
    DEFAULT_USER,
    BotTestClient,
    SentReply,
    inbound_webhook,
)

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

BotFactory = Callable[[], Bot]
"""Builds the bot a case runs on; called once per case and channel."""

_TEST_SUFFIXES = (".test.yaml", ".test.yml")


# --- what the user sees of one reply ----------------------------------------------------

@dataclass(frozen=True, slots=True)
class ShownReply:
    """One request body as the user sees it, split the way test files compare it.

    Attributes:
        kind: ``text``, ``buttons``, ``list``, ``location``, ``contact``, ``image``,
            ``audio``, ``video``, ``file`` or ``template``, as delivered on the channel.
        text: what the user reads, without the choices of a menu (see
            :func:`botkit.preview.user_view`).
        buttons: the titles of the choices shown, natively or as a text menu.
    """

    kind: str
    text: str
    buttons: tuple[str, ...] = ()

    def __str__(self) -> str:
        choices = f"[{' | '.join(self.buttons)}]" if self.buttons else ""
        return " ".join(part for part in (self.text, choices) if part)


_MENU_LINE = re.compile(r"([0-9]+|[A-Z]+)\. (.*)")


def _split_menu(text: str) -> tuple[str, tuple[str, ...]]:
    """Take the text menu (choice lines and hint) off the end of a downgraded message.

    The renderer writes ``question``, then one ``label. title`` line per choice, then a
    hint (``Reply 1-3``). The block is recognised by recomputing both from the titles, so a
    numbered list the bot wrote itself is left alone unless it ends in a menu's hint.
    """
    lines = text.split("\n")
    start = len(lines) - 1
    while start > 0 and _MENU_LINE.fullmatch(lines[start - 1]):
        start -= 1
    hint = lines[-1]
    # Lines above the menu may look like choices too ("2. Bake it"): try the longest run
    # whose labels and hint are exactly what the renderer would write.
    for first in range(start, len(lines) - 1):
        found = [_MENU_LINE.fullmatch(line) for line in lines[first:-1]]
        labels = [m.group(1) for m in found if m]
        titles = tuple(m.group(2) for m in found if m)
        if menu_labels(titles)[1] != labels:
            continue
        if any(menu_hint(code, labels) == hint for code in LOCALES):
            return "\n".join(lines[:first]), titles
    return text, ()


def _content(body: dict[str, Any]) -> tuple[str, Any]:
    """(message type, content) of a v1 or v0.1 request body."""
    if "message" in body:
        content = body["message"]["content"]
        return str(content["type"]), content[content["type"]]
    kind = str(body["message_type"])
    return kind, body[kind]


def shown_reply(body: dict[str, Any]) -> ShownReply:
    """What the user sees of one request body the bot sent (v1 or v0.1)."""
    kind, content = _content(body)
    view = user_view(body)
    if kind == "text":
        # The channel may add lines after the text (Viber's action button): split the
        # menu off the text itself, then keep those lines.
        text, buttons = _split_menu(str(content))
        extra = view[len(str(content)):] if view.startswith(str(content)) else ""
        return ShownReply("text", text + extra, buttons)
    if kind == "custom":
        interactive = content.get("interactive")
        if isinstance(interactive, dict) and interactive.get("type") in ("button", "list"):
            action, text = interactive["action"], interactive["body"]["text"]
            if interactive["type"] == "button":
                titles = [b["reply"]["title"] for b in action["buttons"]]
                return ShownReply("buttons", text, tuple(titles))
            rows = [row["title"] for s in action["sections"] for row in s["rows"]]
            return ShownReply("list", text, tuple(rows))
        if content.get("type") == "contacts":
            return ShownReply("contact", view)
    return ShownReply("contact" if kind == "vcard" else kind, view)


# --- results and transcripts --------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CaseResult:
    """The outcome of one case on one channel.

    Attributes:
        name: the case's name.
        channel: the channel it ran on.
        passed: True when every turn matched.
        transcript: the conversation, one line per entry: ``> user: hi``,
            ``< bot: ...``, and for a failure a last ``! turn N (line L): ...`` line.
        failure: the mismatch (the last transcript line without its ``! turn`` prefix),
            or None.
    """

    name: str
    channel: str
    passed: bool
    transcript: tuple[str, ...]
    failure: str | None = None

    @property
    def text(self) -> str:
        """The transcript as one string."""
        return "\n".join(self.transcript)


def _lines(prefix: str, text: str) -> list[str]:
    """``prefix`` + text, its further lines indented under the first."""
    first, *rest = text.split("\n")
    return [prefix + first, *(" " * len(prefix) + line for line in rest)]


def _said(action: str, turn: Turn) -> str:
    """How the transcript shows the user's action."""
    if turn.user is not None:
        return f"user: {turn.user}"
    if turn.tap is not None:
        return f"tap: {turn.tap}"
    if turn.location is not None:
        loc = turn.location
        where = ", ".join(part for part in (loc.name, loc.address) if part)
        return f"location: {loc.latitude}, {loc.longitude}" + (f" ({where})" if where else "")
    if turn.wait is not None:
        return f"wait: {format_duration(turn.wait)}"
    media = getattr(turn, action)
    caption = f" ({media.caption})" if media.caption else ""
    return f"{action}: {media.url}{caption}"


def _replies_word(count: int) -> str:
    return f"{count} {'reply' if count == 1 else 'replies'}"


def _check_reply(expected: ReplyExpectation, got: ShownReply) -> str | None:
    if expected.kind is not None and got.kind != expected.kind:
        return f"expected kind {expected.kind!r} but the bot sent {got.kind!r}"
    if expected.text is not None and got.text != expected.text:
        return f"expected text {expected.text!r} but the bot said {got.text!r}"
    if expected.match is not None and re.search(expected.match, got.text) is None:
        return f"expected text matching {expected.match!r} but the bot said {got.text!r}"
    if expected.buttons is not None and tuple(expected.buttons) != got.buttons:
        shown = f"[{' | '.join(got.buttons)}]" if got.buttons else "none"
        return f"expected buttons [{' | '.join(expected.buttons)}] but the bot showed {shown}"
    return None


def _check_replies(turn: Turn, shown: Sequence[ShownReply]) -> str | None:
    expected = turn.expected_replies
    if expected is None:
        return None
    for number, (want, got) in enumerate(zip(expected, shown, strict=False), start=1):
        problem = _check_reply(want, got)
        if problem is not None:
            return f"reply {number}: {problem}" if len(expected) > 1 else problem
    if not expected and shown:
        return f"expected no reply but the bot sent {len(shown)}"
    if len(shown) < len(expected) or (len(shown) > len(expected) and not turn.more):
        least = "at least " if turn.more else ""
        return (f"expected {least}{_replies_word(len(expected))} but the bot sent "
                f"{len(shown)}")
    return None


def _same(want: Any, got: Any) -> bool:
    # YAML `true` must not pass for 1, nor 1 for `true`.
    return isinstance(want, bool) == isinstance(got, bool) and bool(want == got)


def _check_data(want: dict[str, Any], got: dict[str, Any], where: str) -> str | None:
    for key, value in want.items():
        here = f"{where}.{key}"
        if key not in got:
            return f"expected {here} = {value!r} but {where} has no {key!r}"
        if isinstance(value, dict) and isinstance(got[key], dict):
            problem = _check_data(value, got[key], here)
            if problem is not None:
                return problem
        elif not _same(value, got[key]):
            return f"expected {here} = {value!r} but it is {got[key]!r}"
    return None


async def _check_conversation(
    expect: StateExpectation, client: BotTestClient, key: ConversationKey
) -> str | None:
    conversation = await client.bot.store.load(key)
    for name in ("flow", "state"):
        if name in expect.model_fields_set:
            want, got = getattr(expect, name), getattr(conversation, name)
            if want != got:
                wanted = f"{name} {want!r}" if want is not None else f"no {name}"
                actual = f"it is {got!r}" if got is not None else "there is none"
                return f"expected {wanted} but {actual}"
    if expect.data is not None:
        return _check_data(expect.data, conversation.data, "data")
    return None


async def _act(client: BotTestClient, turn: Turn, action: str, channel: str,
               user: str) -> list[SentReply]:
    """Do the turn's action as the user (or the clock); the request bodies sent in reply."""
    if turn.user is not None:
        return await client.send(turn.user, channel=channel, user=user)
    if turn.tap is not None:
        return await client.tap(turn.tap, channel=channel, user=user)
    if turn.location is not None:
        loc = turn.location
        return await client.share_location(loc.latitude, loc.longitude, name=loc.name,
                                           address=loc.address, channel=channel, user=user)
    if turn.wait is not None:
        return await client.advance(turn.wait.total_seconds())
    media = getattr(turn, action)
    content = media.model_dump(exclude_none=True)
    body = inbound_webhook(channel, action, {action: content}, user=user,
                           timestamp=client.bot.clock.now())
    return await client.deliver(body)


async def run_case(case: Case, bot_factory: BotFactory, *, channel: str) -> CaseResult:
    """Run ``case`` on ``channel`` with a bot from ``bot_factory``; stop at the first mismatch.

    The bot must have no transport (the test client fakes the Messages API). A bot whose
    clock is not a :class:`FakeClock` gets one, so that ``wait`` can move time.

    Args:
        case: the case, from :func:`botkit.convtest.load_test_file`.
        bot_factory: builds the bot; see :func:`bot_factory_for`.
        channel: the channel to run on (usually one of ``case.run_on``).

    Returns:
        The result with its transcript.

    Raises:
        Exception: whatever the factory or the bot's machinery raises; a mismatch, a tap on
            a choice that is not shown or a webhook the bot refuses is a failed result.
    """
    bot = bot_factory()
    if not isinstance(bot.clock, FakeClock):
        bot.clock = FakeClock()
    user = case.user or DEFAULT_USER[channel]
    key = ConversationKey(channel, user, DEFAULT_BOT[channel])
    lines: list[str] = []

    def failed(number: int, turn: Turn, problem: str) -> CaseResult:
        where = f" (line {turn.line})" if turn.line else ""
        lines.append(f"! turn {number}{where}: {problem}")
        return CaseResult(case.name, channel, False, tuple(lines), problem)

    async with BotTestClient(bot) as client:
        for number, turn in enumerate(case.turns, start=1):
            action = turn.action
            if action is not None:
                lines.extend(_lines("> ", _said(action, turn)))
                try:
                    bodies = await _act(client, turn, action, channel, user)
                except AssertionError as exc:  # the test client's word for "cannot do that"
                    message = str(exc)
                    if turn.tap is None:  # a tap's message says what was shown; others don't
                        message = f"cannot send this {action} on {channel}: {message}"
                    return failed(number, turn, message)
                shown = [shown_reply(body) for body in bodies]
                for reply in shown:
                    lines.extend(_lines("< bot: ", str(reply)))
                if not shown:
                    lines.append("< (no reply)")
                problem = _check_replies(turn, shown)
                if problem is not None:
                    return failed(number, turn, problem)
            if turn.expect is not None:
                problem = await _check_conversation(turn.expect, client, key)
                if problem is not None:
                    return failed(number, turn, problem)
    return CaseResult(case.name, channel, True, tuple(lines))


# --- the bot under test -------------------------------------------------------------------

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


# --- botkit test ----------------------------------------------------------------------------

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


def main_test(paths: Sequence[str], *, out: TextIO | None = None) -> int:
    """``botkit test PATH...``: run every case of every test file on each of its channels.

    Prints ``PASS file::case[channel]`` or ``FAIL ...`` with the transcript per case, then
    a summary.

    Args:
        paths: test files and directories (searched recursively); default: ``.``.
        out: where to print; default: standard output.

    Returns:
        0 when every case passed; 1 when one failed, a file did not load, or there was
        nothing to run.
    """
    out = out if out is not None else sys.stdout
    files = find_test_files(paths or ["."])
    if not files:
        where = ", ".join(paths) or "."
        print(f"no conversation tests (*.test.yaml) found in {where}", file=out)
        return 1
    return asyncio.run(_run_files(files, out))
