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

:mod:`botkit.convtest.runner` runs test files for ``botkit test``;
:mod:`botkit.convtest.plugin` runs the same cases under pytest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botkit.channels import REGISTRY
from botkit.clock import FakeClock
from botkit.convtest.factory import BotFactory
from botkit.convtest.shown import ShownReply, shown_reply
from botkit.convtest.spec import Case, ReplyExpectation, StateExpectation, Turn
from botkit.flows.durations import format_duration
from botkit.handoff.desk import DeskError
from botkit.store import ConversationKey
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, BotTestClient, SentReply, inbound_webhook

__all__ = ["CaseResult", "run_case"]


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
    if turn.react is not None:
        return f"react: {turn.react}" if turn.react else "react: (taken back)"
    if turn.wait is not None:
        return f"wait: {format_duration(turn.wait)}"
    if turn.agent is not None:
        return f"agent: {turn.agent}"
    if turn.hand_back is not None:
        return "hand_back" + ("" if turn.hand_back is True else f": {turn.hand_back}")
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
    if expect.handed_off is not None:
        handed_off = "handoff" in conversation.meta
        if handed_off != expect.handed_off:
            return ("expected a person to have the conversation but the bot has it"
                    if expect.handed_off else
                    "expected the bot to have the conversation but a person has it")
    if expect.data is not None:
        return _check_data(expect.data, conversation.data, "data")
    return None


async def _act(client: BotTestClient, turn: Turn, action: str, channel: str,
               user: str, reacted: list[str]) -> list[SentReply]:
    """Do the turn's action as the user (or the clock); the request bodies sent in reply."""
    if turn.user is not None:
        return await client.send(turn.user, channel=channel, user=user)
    if turn.tap is not None:
        return await client.tap(turn.tap, channel=channel, user=user)
    if turn.location is not None:
        loc = turn.location
        return await client.share_location(loc.latitude, loc.longitude, name=loc.name,
                                           address=loc.address, channel=channel, user=user)
    if turn.react is not None:
        return await _react(client, turn.react, channel, user, reacted)
    if turn.wait is not None:
        return await client.advance(turn.wait.total_seconds())
    if turn.agent is not None:
        return await client.agent(turn.agent, channel=channel, user=user)
    if turn.hand_back is not None:
        state = None if turn.hand_back is True else turn.hand_back
        return await client.hand_back(state, channel=channel, user=user)
    if REGISTRY[channel].inbound.implicit_type == "text":
        # botkit accepts any webhook, so the bot would get an ``unsupported`` message; an
        # SMS user cannot send media at all, so the case is wrong, not the bot.
        raise AssertionError(f"{REGISTRY[channel].label} carries text only")
    media = getattr(turn, action)
    content = media.model_dump(exclude_none=True)
    body = inbound_webhook(channel, action, {action: content}, user=user,
                           timestamp=client.bot.clock.now())
    return await client.deliver(body)


async def _react(client: BotTestClient, emoji: str, channel: str, user: str,
                 reacted: list[str]) -> list[SentReply]:
    """The user reacts to the bot's latest message to them (not a reaction of its own);
    ``""`` takes back their reaction, from the message they last reacted to."""
    latest = next((r.message_uuid for r in reversed(client.replies) if r.channel == channel
                   and r.user == user and r.get("message_type") != "reaction"), None)
    to = reacted[-1] if not emoji and reacted else latest
    if to is None:
        raise AssertionError("the bot has sent nothing to react to")
    try:
        sent = await client.react(emoji, to=to, channel=channel, user=user)
    except ValueError as exc:  # a channel whose users cannot react
        raise AssertionError(str(exc)) from None
    reacted.append(to)
    return sent


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
    reacted: list[str] = []  # the messages the user reacted to, in order

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
                    bodies = await _act(client, turn, action, channel, user, reacted)
                except AssertionError as exc:  # the test client's word for "cannot do that"
                    message = str(exc)
                    if turn.tap is None:  # a tap's message says what was shown; others don't
                        message = f"cannot send this {action} on {channel}: {message}"
                    return failed(number, turn, message)
                except DeskError as exc:  # an agent's action botkit refuses
                    return failed(number, turn, f"{action}: {exc.detail}")
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

