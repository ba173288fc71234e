"""``botkit chat TARGET --channel sms``: talk to a bot in the terminal, as one channel's user.

The conversation takes the real path: each line becomes a v1 inbound webhook posted to
the bot's own route (signed when a signature secret is set), and the bot's replies come
back through a fake Messages API. Each reply is printed the way the channel shows it
(:func:`botkit.preview.user_view`), so a menu is numbered on SMS and typing ``2`` answers
it, exactly as on a phone. A reply that is not valid on the wire is flagged.

Native choices (WhatsApp reply buttons and list rows, RCS suggestion chips) are listed
under the reply, numbered, and picked with ``/tap N``; a typed answer goes to the bot as
text, as on the phone. A card or a carousel is printed as text, its chips after it.
A message no handler or flow took gets a dim note, not silence.

Commands: ``/tap N`` or ``/tap TITLE`` (a WhatsApp reply button or list row, an RCS chip),
``/location LAT LON [NAME]``, ``/image URL [CAPTION]``, ``/contact NAME PHONE``,
``/help`` and ``/quit``.

Example (scripted, as the tests drive it):
    >>> import io
    >>> out = io.StringIO()
    >>> asyncio.run(run_chat(bot, "sms", ["hi", "/quit"], out, echo=True))  # doctest: +SKIP
    0
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from botkit._rich_seen import chips_of
from botkit.bot import Bot
from botkit.capabilities import CHANNEL_LABELS
from botkit.errors import BotkitError, ConfigError
from botkit.testing import DEFAULT_USER, BotTestClient, SentReply
from botkit.wire import check_body

__all__ = ["HELP", "main_chat", "run_chat"]

HELP = """\
Type a message and press Enter. Commands:
  /tap N | /tap TITLE          tap a WhatsApp reply button or list row, or an RCS chip
  /location LAT LON [NAME]     share a location (WhatsApp, RCS)
  /image URL [CAPTION]         send an image (MMS, RCS, WhatsApp, Messenger, Viber)
  /contact NAME PHONE          share a contact (WhatsApp)
  /help                        this help
  /quit                        leave (Ctrl+D works too)"""

_BOT = "bot> "
_YOU = "you> "


_UNHANDLED = "(not handled: no handler or flow took this message)"


def _dim(output: TextIO, text: str) -> str:
    """``text`` dimmed on a terminal (ANSI faint), plain elsewhere (a file, a pipe)."""
    isatty = getattr(output, "isatty", None)
    return f"\x1b[2m{text}\x1b[0m" if callable(isatty) and isatty() else text


_Option = tuple[str, str, dict[str, Any] | None]
"""One choice ``/tap N`` picks: its payload, its title, and the chip itself (RCS)."""


def _options(reply: dict[str, Any]) -> list[_Option]:
    """The choices of ``reply``: its native reply buttons, list rows or suggestion chips."""
    chips = chips_of(reply)
    if chips:  # tapped as the very chip: two cards may both have an "Order" chip
        return [(str(c.get("postback_data")), str(c.get("text")), c) for c in chips]
    interactive = (reply.get("custom") or {}).get("interactive")
    if not isinstance(interactive, dict):
        return []
    action = interactive.get("action", {})
    found: list[_Option] = [(b["reply"]["id"], b["reply"]["title"], None)
                            for b in action.get("buttons", [])]
    found += [(r["id"], r["title"], None) for s in action.get("sections", [])
              for r in s["rows"]]
    return found


def _show(reply: SentReply, output: TextIO) -> None:
    lines = reply.seen.split("\n")
    output.write(_BOT + lines[0] + "\n")
    for line in lines[1:]:
        output.write(" " * len(_BOT) + line + "\n")
    options = _options(reply)
    if options:
        numbered = "  ".join(f"{i}. {title}" for i, (_, title, _) in enumerate(options, 1))
        output.write(" " * len(_BOT) + f"(tap with /tap N: {numbered})\n")
    for violation in check_body(reply).violations:
        output.write(" " * len(_BOT) + f"! not valid on the wire: {violation}\n")


class _Session:
    """One terminal conversation: the test client, the channel, the user."""

    def __init__(self, client: BotTestClient, channel: str, user: str) -> None:
        self.client, self.channel, self.user = client, channel, user

    def latest_options(self) -> list[_Option]:
        for reply in reversed(self.client.replies):
            if reply.channel == self.channel and reply.user == self.user and _options(reply):
                return _options(reply)
        return []

    async def act(self, line: str) -> None:
        """Send ``line`` as the user, or run it as a command."""
        client, channel, user = self.client, self.channel, self.user
        if not line.startswith("/"):
            await client.send(line, channel=channel, user=user)
            return
        command, _, rest = line[1:].partition(" ")
        args = rest.split()
        if command == "tap" and rest:
            options = self.latest_options()
            if rest.strip().isdigit() and options:
                index = int(rest) - 1
                if not 0 <= index < len(options):
                    count = len(options)
                    raise ValueError("there is 1 choice; pick 1" if count == 1 else
                                     f"there are {count} choices; pick 1-{count}")
                payload, _, chip = options[index]
                if chip is not None:
                    await client.tap_suggestion(chip, channel=channel, user=user)
                    return
                rest = payload
            await client.tap(rest.strip(), channel=channel, user=user)
        elif command == "location" and len(args) >= 2:
            name = " ".join(args[2:]) or None
            await client.share_location(float(args[0]), float(args[1]), name=name,
                                        channel=channel, user=user)
        elif command == "image" and args:
            caption = " ".join(args[1:]) or None
            await client.send_image(args[0], caption=caption, channel=channel, user=user)
        elif command == "contact" and len(args) >= 2:
            await client.share_contact(" ".join(args[:-1]), phones=[args[-1]],
                                       channel=channel, user=user)
        else:
            raise ValueError(f"unknown command or missing arguments: {line}\n{HELP}")


async def run_chat(
    bot: Bot,
    channel: str,
    lines: Iterable[str],
    output: TextIO,
    *,
    user: str | None = None,
    echo: bool = False,
) -> int:
    """Hold a conversation with ``bot`` on ``channel``, reading the user's lines from ``lines``.

    Args:
        bot: the bot, not running yet (the chat runs it, with a fake Messages API).
        channel: ``sms``, ``mms``, ``rcs``, ``whatsapp``, ``messenger`` or ``viber_service``.
        lines: what the user types, one message or command per line; ends the chat when
            exhausted. Lines are read off the event loop, so ``input()`` may block.
        output: where the conversation is written.
        user: the user's address; the channel's sample user by default.
        echo: write each line after the prompt (for scripted input, which a terminal
            does not echo).

    Returns:
        0 (the exit status of ``botkit chat``).
    """
    if channel not in CHANNEL_LABELS:
        raise ConfigError(f"unknown channel {channel!r}; channels are {', '.join(CHANNEL_LABELS)}")
    user = user or DEFAULT_USER[channel]
    names = ", ".join(sorted(bot.flows)) if bot.flows else bot.name
    output.write(f"botkit chat: {names} on {CHANNEL_LABELS[channel]} as {user}. "
                 "/help for commands, /quit to leave.\n")
    source: Iterator[str] = iter(lines)
    async with BotTestClient(bot) as client:
        session = _Session(client, channel, user)
        shown, unanswered = 0, False
        while True:
            for reply in client.replies[shown:]:
                _show(reply, output)
            shown = len(client.replies)
            if unanswered:
                output.write(_dim(output, _UNHANDLED) + "\n")
            output.write(_YOU)
            output.flush()
            line = await asyncio.to_thread(next, source, None)
            if line is None:
                output.write("\n")
                break
            line = line.strip()
            if echo:
                output.write(line + "\n")
            if line in ("/quit", "/exit"):
                break
            if not line:
                continue
            if line == "/help":
                output.write(HELP + "\n")
                continue
            unhandled = bot.metrics["unhandled"]
            try:
                await session.act(line)
            except (ValueError, AssertionError) as exc:
                output.write(f"! {exc}\n")
            # Said after the turn's replies, if any: else the user would meet silence.
            unanswered = bot.metrics["unhandled"] > unhandled
        output.flush()
    return 0


def _stdin() -> Iterator[str]:
    while True:
        try:
            yield input()
        except EOFError:
            return


def _bot_for(target: str) -> Bot:
    from botkit.cli import is_flow_target, load_target

    if is_flow_target(target):
        from botkit.flows import bot_for_flow
        from botkit.settings import Settings

        settings = Settings.from_env()
        if not os.environ.get("BOTKIT_STORE"):
            # A terminal chat starts afresh unless a store is named explicitly.
            settings = dataclasses.replace(settings, store="memory://")
        return bot_for_flow(target, settings=settings)
    found = load_target(target)
    bot = found if isinstance(found, Bot) else getattr(getattr(found, "state", None), "bot", None)
    if not isinstance(bot, Bot):
        raise ConfigError(f"{target} is a {type(found).__name__}, not a Bot")
    return bot


def main_chat(target: str, channel: str, user: str | None) -> int:
    """``botkit chat TARGET --channel X [--user ADDRESS]``: chat on stdin and stdout."""
    try:
        bot = _bot_for(target)
        return asyncio.run(run_chat(bot, channel, _stdin(), sys.stdout, user=user,
                                    echo=not sys.stdin.isatty()))
    except KeyboardInterrupt:
        print()
        return 0
    except BotkitError as exc:
        print(f"botkit chat: {exc}", file=sys.stderr)
        return 2
