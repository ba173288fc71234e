"""The conversation test format (``bots/NAME.test.yaml``) as pydantic models, and its loader.

A test file names the bot under test and lists cases; each case runs on one or more
channels and is a list of turns. A turn does one thing as the user (types text, taps a
button, shares a location, sends media, reacts, or lets time pass), then checks what the bot
sent (``bot``, ``silent``) and what it remembers (``expect``). ``docs/testing-flows.md``
teaches the format with a full example.

Loading never raises anything but :class:`TestFileError`, whose problems are
``path:line:column: message`` lines, every one found, in file order. The YAML is read
with :mod:`botkit.flows.yamlpos`, the reader flow files use, so both kinds of file read
values the same way (``yes`` is text, ``2`` is a number) and point at the same places.
"""

from __future__ import annotations

import difflib
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from botkit.errors import ConfigError, FlowProblem
from botkit.flows.durations import parse_duration
from botkit.flows.wording import describe_error, shown
from botkit.flows.yamlpos import PositionIndex, parse_yaml

__all__ = [
    "ACTIONS",
    "Case",
    "Channel",
    "LocationShare",
    "MediaShare",
    "ReplyExpectation",
    "ReplyKind",
    "StateExpectation",
    "TestFile",
    "TestFileError",
    "Turn",
    "load_test_file",
    "parse_test_file",
]

Channel = Literal["sms", "mms", "rcs", "whatsapp", "messenger", "viber_service"]
"""A channel a case runs on (the v1 wire names, as :data:`botkit.routing.CHANNELS`)."""

ReplyKind = Literal[
    "text", "buttons", "list", "card", "carousel", "location", "contact", "image", "audio",
    "video", "file", "template",
]
"""What a reply is as delivered on the case's channel: a menu downgraded to text is ``text``."""

ACTIONS = ("user", "tap", "location", "image", "audio", "video", "file", "react", "wait",
           "agent", "hand_back")
"""The keys of a turn that make the user (or time, or a person behind the bot) do
something; a turn has at most one."""

_ERROR = "botkit_convtest"


def _error(message: str, key: str | None = None) -> PydanticCustomError:
    """A validation error; ``key`` names the key of the mapping that is to blame."""
    return PydanticCustomError(_ERROR, "{message}", {"message": message, "key": key})


def _number_as_text(value: Any) -> Any:
    # `user: 2` and `user: 447700900001` are read as numbers; people mean the digits.
    # Booleans and fractions are left to fail: `true` or `2.50` may not be what was meant.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Text = Annotated[str, BeforeValidator(_number_as_text)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReplyExpectation(_Model):
    """One reply the bot should send. Every key given is checked; ``{}`` accepts any reply.

    A bare text (``- "Thanks!"``) is ``{text: "Thanks!"}``.
    """

    text: Text | None = None
    """The exact text the user reads, without the choices of a menu."""
    match: Text | None = None
    """A regular expression searched in that text."""
    buttons: tuple[Text, ...] | None = None
    """The titles of the choices shown: native buttons, list rows or the lines of a text menu."""
    kind: ReplyKind | None = None
    """What the channel delivered: text, buttons, list, location, contact, image, ..."""

    @model_validator(mode="before")
    @classmethod
    def _bare_text(cls, data: Any) -> Any:
        return {"text": _number_as_text(data)} if isinstance(data, str | int) else data

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise _error(f"not a valid regular expression: {exc}") from None
        return value


class StateExpectation(_Model):
    """What the conversation should remember after the turn.

    ``state: null`` (or ``flow: null``) checks that there is none. ``data`` is a subset
    match: the keys listed must hold these values (mappings are compared the same way,
    key by key); other keys may exist.
    """

    flow: Text | None = None
    state: Text | None = None
    data: dict[str, Any] | None = None
    handed_off: bool | None = None
    """true: a person has the conversation; false: the bot has it."""

    @field_validator("data", mode="before")
    @classmethod
    def _data_given(cls, value: Any) -> Any:
        if value is None:  # unlike `state: null` (no state), this would check nothing
            raise _error("has no value; write the values expected, like {size: M}")
        return value

    @model_validator(mode="after")
    def _checks_something(self) -> StateExpectation:
        if not self.model_fields_set:
            raise _error("needs state, flow, data or handed_off")
        return self


class LocationShare(_Model):
    """A location the user shares (WhatsApp and Messenger)."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: Text | None = None
    address: Text | None = None


def _url_as_media(value: Any) -> Any:
    return {"url": value} if isinstance(value, str) else value


class MediaShare(_Model):
    """A picture, sound, video or file the user sends: a URL, or ``{url, caption, name}``."""

    url: str
    caption: Text | None = None
    name: Text | None = None


Media = Annotated[MediaShare, BeforeValidator(_url_as_media)]


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise _error("write a duration like 30s, 10m, 2h or 1h30m (with its unit)")
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise _error(str(exc)) from None


def _replies(value: Any) -> Any:
    if value is None:
        raise _error("has no value; list the replies expected, or write [] for none")
    return value if isinstance(value, list | tuple) else [value]


class Turn(_Model):
    """One step of a case: at most one action, then the checks of its outcome."""

    user: Text | None = None
    """The user types this text."""
    tap: Text | None = None
    """The user picks the choice with this title or payload (types its label on text channels)."""
    location: LocationShare | None = None
    image: Media | None = None
    audio: Media | None = None
    video: Media | None = None
    file: Media | None = None
    react: Text | None = None
    """The user reacts with this emoji to the bot's latest message; ``""`` takes back
    their last reaction."""
    wait: Annotated[timedelta, BeforeValidator(_duration)] | None = None
    """Time passes (the bot's FakeClock moves on) and the timers then due fire."""
    agent: Text | None = None
    """A person writes this to the handed-off user through botkit (``bot`` then checks
    what the user receives)."""
    hand_back: Text | Literal[True] | None = None
    """A person hands the conversation back to the bot: ``true``, or the state to resume
    at (``bot`` then checks what the bot says as it resumes)."""
    bot: Annotated[tuple[ReplyExpectation, ...], BeforeValidator(_replies)] | None = None
    """The replies expected, in order; without ``more`` there must be exactly these."""
    silent: bool = False
    """The bot sends nothing (the same as ``bot: []``)."""
    more: bool = False
    """The bot may send more replies after the ones listed in ``bot``."""
    expect: StateExpectation | None = None

    _line: int = PrivateAttr(default=0)

    @property
    def action(self) -> str | None:
        """The key of the turn's action (``user``, ``tap``, ...), or None for a check only."""
        for key in ACTIONS:
            if getattr(self, key) is not None:
                return key
        return None

    @property
    def line(self) -> int:
        """The line of the turn in its file (0 when it was not read from a file)."""
        return self._line

    @model_validator(mode="after")
    def _consistent(self) -> Turn:
        actions = [key for key in ACTIONS if getattr(self, key) is not None]
        if len(actions) > 1:
            raise _error(f"a turn does one thing, but this one has {' and '.join(actions)}: "
                         f"split it into turns", actions[1])
        checks_replies = [key for key in ("bot", "silent") if key in self.model_fields_set]
        if not actions:
            if checks_replies:
                raise _error(f"{checks_replies[0]} checks the replies to this turn's action; "
                             f"add one ({', '.join(ACTIONS)})", checks_replies[0])
            if self.expect is None:
                raise _error(f"a turn needs an action ({', '.join(ACTIONS)}) or expect")
        if self.silent and self.bot:
            raise _error("silent: true means no reply, but bot lists replies", "silent")
        if self.more and not self.bot:
            raise _error("more: true allows replies after those listed in bot; list some",
                         "more")
        return self

    @property
    def expected_replies(self) -> tuple[ReplyExpectation, ...] | None:
        """The replies to check (empty: none may come), or None when they are not checked."""
        if self.silent:
            return ()
        return self.bot


def _channels(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Case(_Model):
    """A conversation: its name, the channels it runs on, the user, and the turns."""

    name: Text = Field(min_length=1)
    channel: Channel | None = None
    channels: Annotated[tuple[Channel, ...], BeforeValidator(_channels)] | None = None
    user: Text | None = None
    """The user's number or id; default: a sample address for the channel."""
    turns: tuple[Turn, ...] = Field(min_length=1)

    _line: int = PrivateAttr(default=0)

    @model_validator(mode="after")
    def _one_channel_key(self) -> Case:
        if self.channel is not None and self.channels is not None:
            raise _error("write channel or channels, not both", "channels")
        if self.channel is None and self.channels is None:
            raise _error("name the channel: channel: whatsapp, or channels: [sms, whatsapp]")
        return self

    @field_validator("channels")
    @classmethod
    def _distinct(cls, channels: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if channels is not None:
            if not channels:
                raise _error("is empty; name at least one channel")
            repeated = [c for i, c in enumerate(channels) if c in channels[:i]]
            if repeated:
                raise _error(f"{repeated[0]!r} is written twice")
        return channels

    @property
    def run_on(self) -> tuple[str, ...]:
        """The channels the case runs on, in the order written."""
        return self.channels if self.channels is not None else (self.channel or "sms",)

    @property
    def line(self) -> int:
        """The line of the case in its file (0 when it was not read from a file)."""
        return self._line


class TestFile(_Model):
    """A conversation test file: the bot under test and its cases."""

    __test__: ClassVar[bool] = False  # a pytest rule: not a test class, despite its name

    bot: Text | None = None
    """The bot under test: a flow file (``pizza.yaml``), ``path.py:attr`` or
    ``module:attr``; paths are relative to the test file. Default: ``NAME.yaml`` beside
    ``NAME.test.yaml``."""
    cases: tuple[Case, ...] = Field(min_length=1)

    _path: Path = PrivateAttr(default=Path("<string>"))

    @property
    def path(self) -> Path:
        """Where the file was read from (``<string>`` for text parsed without a file)."""
        return self._path

    @property
    def target(self) -> str:
        """The bot under test as written, or the default ``NAME.yaml`` beside the file."""
        if self.bot is not None:
            return self.bot
        name = self._path.name
        for suffix in (".test.yaml", ".test.yml"):
            if name.endswith(suffix):
                return name.removesuffix(suffix) + ".yaml"
        return Path(name).stem + ".yaml"


class TestFileError(ConfigError):
    """A conversation test file does not load. ``problems`` lists every one, in file order.

    ``str(error)`` is one ``path:line:column: message`` line per problem.
    """

    __test__: ClassVar[bool] = False

    def __init__(self, problems: list[FlowProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --- pydantic errors to positioned problems ---------------------------------------------

def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, looking inside ``X | None``, tuples and ``Annotated``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _keys_at(loc: tuple[str | int, ...]) -> list[str]:
    """The keys allowed in the mapping at ``loc`` (an empty list when unknown)."""
    model: type[BaseModel] = TestFile
    for step in loc:
        if isinstance(step, int):
            continue
        field = model.model_fields.get(step)
        inner = None if field is None else _model_in(field.annotation)
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _describe(error: Any, path: tuple[str | int, ...]) -> str:
    return describe_error(error)


def _problem(path: str, index: PositionIndex, error: Any) -> FlowProblem:
    loc = tuple(error["loc"])
    kind = error["type"]
    keys = [step for step in loc if isinstance(step, str)]
    if kind == _ERROR:
        key = error["ctx"].get("key")
        target = (*loc, key) if key else loc
        found = index.location(target)
        where = found.key if key and index.resolve(target) == target else found.value
        message = error["ctx"]["message"]
        if not key and keys and loc[-1] == keys[-1]:  # about a value: say which
            message = f"{keys[-1]}: {message}"
    elif kind == "missing":
        found = index.location(loc[:-1])
        where = found.value
        message = f"missing key {loc[-1]!r}"
    elif kind == "extra_forbidden":
        where = index.location(loc).key
        allowed = _keys_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        message = f"unknown key {loc[-1]!r}"
        if close:
            message += f": did you mean {close[0]!r}?"
        if allowed:
            message += f" (allowed here: {', '.join(allowed)})"
    else:
        found = index.location(loc)
        # An empty value has no position of its own: point at its key.
        where = found.key if error.get("input") is None else found.value
        message = _describe(error, loc)
        if keys:
            message = f"{keys[-1]}: {message}"
    return FlowProblem(path, where.line, where.column, message)


def parse_test_file(text: str, path: str | os.PathLike[str] = "<string>") -> TestFile:
    """Read a conversation test file from ``text``; ``path`` is used in problems and
    to find the default bot.

    Raises:
        TestFileError: every problem found, as ``path:line:column: message``.
    """
    name = os.fspath(path)
    data, index, found = parse_yaml(text)
    problems = [FlowProblem(name, p.position.line, p.position.column, p.message)
                for p in found]
    if problems:
        raise TestFileError(problems)
    if not isinstance(data, dict):
        what = "empty" if data is None else f"{shown(data)}, not a mapping"
        raise TestFileError([FlowProblem(name, 1, 1, f"the file is {what}; it needs cases:")])
    try:
        test_file = TestFile.model_validate(data)
    except ValidationError as exc:
        # A list whose items failed is also reported "too short" (it holds no valid
        # item); that is a consequence, not news.
        problems = [_problem(name, index, error) for error in exc.errors()
                    if not (error["type"] == "too_short" and error.get("input"))]
        unique = sorted(set(problems), key=lambda p: (p.line, p.column, p.message))
        raise TestFileError(unique) from None
    _place(test_file, name, index)
    return test_file


def _place(test_file: TestFile, name: str, index: PositionIndex) -> None:
    """Record where the cases and turns were written, and refuse repeated case names."""
    test_file._path = Path(name)
    first: dict[str, int] = {}
    problems = []
    for i, case in enumerate(test_file.cases):
        case._line = index.location(("cases", i)).key.line
        for j, turn in enumerate(case.turns):
            turn._line = index.location(("cases", i, "turns", j)).key.line
        if case.name in first:
            at = index.location(("cases", i, "name")).value
            problems.append(FlowProblem(name, at.line, at.column, (
                f"a case named {case.name!r} is already written at line "
                f"{first[case.name]}; give each case its own name")))
        else:
            first[case.name] = case.line
    if problems:
        raise TestFileError(problems)


def load_test_file(path: str | os.PathLike[str]) -> TestFile:
    """Read the conversation test file at ``path``.

    Raises:
        TestFileError: the file cannot be read, or every problem found in it.
    """
    name = os.fspath(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise TestFileError([FlowProblem(name, 1, 1, f"cannot read the file: "
                                                     f"{exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise TestFileError([FlowProblem(name, 1, 1, f"the file is not UTF-8 text: {exc}")]
                            ) from None
    return parse_test_file(text, name)
