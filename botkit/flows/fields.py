"""The value types and checks behind the flow models: names, references, templates, replies.

Each type is an ``Annotated`` pydantic type whose validators raise :func:`flow_error`,
which the loader turns into a positioned problem. :mod:`botkit.flows.spec` builds the
models from them.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, get_args

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    Strict,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from botkit.flows.durations import DURATION_PATTERN, parse_duration
from botkit.flows.template_use import is_template_use, use_problem
from botkit.replies import reply_from_data

if TYPE_CHECKING:
    pass

__all__ = [
    "ASK_ACCEPTS",
    "CONTEXT_KEY",
    "ERROR_TYPE",
    "MEDIA_KINDS",
    "NAME_PATTERN",
    "AskType",
    "KnownNames",
    "MessageKind",
    "check_set_values",
    "choice_from_title",
    "fail",
    "flow_error",
    "string_or_object_schema",
    "template_problem",
    "unknown_name",
]

CONTEXT_KEY = "botkit.flows"
"""The key under which the loader passes :class:`KnownNames` in the validation context."""

ERROR_TYPE = "botkit_flow"
"""The pydantic error type of the problems raised by this module's validators."""

MessageKind = Literal[
    "text", "image", "audio", "video", "file", "location", "contact", "button", "sticker",
    "order", "reaction", "flow_reply", "unsupported", "media",
]
"""An inbound event ``kind`` (:data:`botkit.events.InboundKind`), or ``media`` for any of
image, audio, video, file and sticker."""

AskType = Literal["text", "number", "choice", "location", "contact", "media", "email",
                  "phone", "date"]
"""How an ``ask`` checks and stores its answer."""

MEDIA_KINDS = ("image", "audio", "video", "file", "sticker")

ASK_ACCEPTS: dict[str, tuple[str, ...]] = {
    "choice": ("button", "text"),
    "location": ("location",),
    "contact": ("contact",),
    "media": ("media",),
}

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --- errors ---------------------------------------------------------------------------

def flow_error(message: str, *where: str | int, at: Literal["key", "value"] = "value",
               prefix: bool = True) -> PydanticCustomError:
    """A validation error the loader turns into a positioned :class:`FlowProblem`.

    Args:
        message: the problem, said to a flow author.
        *where: keys below the validated value that the problem points into.
        at: point at the key or at the value of ``where``.
        prefix: start the message with the offending key's name (``goto: ...``).
    """
    # The message travels in the context, not the template: pydantic would otherwise
    # expand any {name} in it that happens to match a context key.
    return PydanticCustomError(ERROR_TYPE, "{message}",
                               {"message": message, "where": where, "at": at,
                                "prefix": prefix})


def fail(message: str, *where: str | int, at: Literal["key", "value"] = "value",
          prefix: bool = True) -> NoReturn:
    raise flow_error(message, *where, at=at, prefix=prefix)


def unknown_name(value: str, known: Sequence[str], what: str, plural: str) -> str:
    """``unknown state 'adress': did you mean 'address'? (states: welcome, address)``."""
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    hint = f": did you mean {close[0]!r}?" if close else ""
    listing = f"{plural}: {', '.join(known)}" if known else f"no {plural} are registered"
    return f"unknown {what} {value!r}{hint} ({listing})"


# --- names the loader knows -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class KnownNames:
    """What the names in a flow may refer to; ``None`` leaves that kind unchecked.

    Attributes:
        states: the flow's state names in file order.
        actions: names registered with ``@bot.action``.
        conditions: names registered with ``@bot.condition``.
        flows: names of the flows a ``call`` may run.
        templates: the template registry (name to
            :class:`~botkit.template_registry.RegisteredTemplate`) that ``say:
            {template: NAME}`` and ``fallback:`` name.
    """

    states: tuple[str, ...] | None = None
    actions: tuple[str, ...] | None = None
    conditions: tuple[str, ...] | None = None
    flows: tuple[str, ...] | None = None
    templates: Mapping[str, Any] | None = None


def _known(info: ValidationInfo) -> KnownNames:
    context = info.context
    if isinstance(context, dict):
        names = context.get(CONTEXT_KEY)
        if isinstance(names, KnownNames):
            return names
    return KnownNames()


def _ref(attribute: str, what: str, plural: str) -> Callable[[str, ValidationInfo], str]:
    def check(value: str, info: ValidationInfo) -> str:
        if not value.strip():
            fail(f"the {what} name is empty")
        known = getattr(_known(info), attribute)
        if known is not None and value not in known:
            fail(unknown_name(value, known, what, plural))
        return value

    check.__name__ = f"check_{what}"
    return check


def _name(what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not NAME_PATTERN.fullmatch(value):
            fail(f"{what} name {value!r} must start with a letter or _ and use only letters, "
                  f"digits and _")
        return value

    return check


# --- value checks ---------------------------------------------------------------------

_JINJA = SandboxedEnvironment()


@functools.lru_cache(maxsize=4096)
def template_problem(text: str) -> str | None:
    """Why ``text`` is not a valid Jinja template, or ``None`` when it is.

    Only the syntax is checked (the template is parsed, never rendered), with the same
    sandboxed environment flows are rendered in.
    """
    if "{" not in text:
        return None  # the fast path: most texts contain no template at all
    try:
        _JINJA.parse(text)
    except TemplateSyntaxError as exc:
        where = f" (line {exc.lineno} of the text)" if exc.lineno and exc.lineno > 1 else ""
        return f"template error: {exc.message}{where}"
    except Exception as exc:  # e.g. RecursionError on absurd nesting
        return f"template error: {type(exc).__name__}: {exc}"
    return None


def _template(value: str) -> str:
    problem = template_problem(value)
    if problem is not None:
        fail(problem)
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        fail("is empty")
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        fail(f"bad regular expression: {exc}")
    except (OverflowError, RecursionError, ValueError) as exc:
        fail(f"bad regular expression: {exc}")
    return value


def _duration(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        fail("write a duration with a unit, like 30s, 10m, 2h, 1d or 1h30m; "
              f"got {value!r}")
    try:
        return parse_duration(value)
    except ValueError as exc:
        fail(str(exc))


def _strings(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int,
                                                                                    ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


_REPLY_PREFIX = re.compile(r"((?:[A-Za-z_]+(?:\[[0-9]+\])?: )+)")
_REPLY_UNKNOWN = re.compile(r"unknown reply key\(s\) '([^']+)'")


def _reply_where(message: str) -> tuple[tuple[str | int, ...], Literal["key", "value"]]:
    """The keys a :func:`reply_from_data` message names, as a path into the reply."""
    unknown = _REPLY_UNKNOWN.match(message)
    if unknown:
        return (unknown.group(1),), "key"
    prefix = _REPLY_PREFIX.match(message)
    if not prefix:
        return (), "value"
    path: list[str | int] = []
    for part in prefix.group(1).split(": ")[:-1]:
        name, _, index = part.partition("[")
        path.append(name)
        if index:
            path.append(int(index.rstrip("]")))
    return tuple(path), "value"


def _template_use(value: Any, info: ValidationInfo) -> Any:
    problem = use_problem(value, _known(info).templates)
    if problem is not None:
        fail(problem[1], *problem[0])
    for where, text in _strings(value):
        problem_text = template_problem(text)
        if problem_text is not None:
            fail(problem_text, *where)
    return value


def _reply(value: Any, info: ValidationInfo) -> Any:
    if is_template_use(value):
        return _template_use(value, info)
    try:
        reply_from_data(value)
    except ValueError as exc:
        where, at = _reply_where(str(exc))
        fail(str(exc), *where, at=at)
    except Exception as exc:  # the reply parser is not ours: never let it escape
        fail(f"not a reply: {type(exc).__name__}: {exc}")
    for where, text in _strings(value):
        problem = template_problem(text)
        if problem is not None:
            fail(problem, *where)
    return value


def check_set_values(value: dict[str, Any]) -> dict[str, Any]:
    for where, text in _strings(value):
        problem = template_problem(text)
        if problem is not None:
            fail(problem, *where)
    return value


def _one_or_many(value: Any) -> Any:
    return value if isinstance(value, list | tuple) else [value]


def _word_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _only_true(value: bool) -> bool:
    if not value:
        fail("only true makes sense here; leave the key out instead")
    return value


def choice_from_title(value: Any) -> Any:
    return {"title": value, "payload": value} if isinstance(value, str) else value


def string_or_object_schema(schema: dict[str, Any]) -> None:
    """JSON Schema of a model that may also be written as a plain string."""
    title, description = schema.pop("title", None), schema.pop("description", None)
    as_object = dict(schema)
    schema.clear()
    if title:
        schema["title"] = title
    if description:
        schema["description"] = description
    schema["anyOf"] = [{"type": "string", "description": "the title, also used as payload"},
                       as_object]


# --- value types ----------------------------------------------------------------------

# Pydantic resolves "$ref"s while generating: botkit.flows.schema swaps this marker for a
# reference to its Reply definition.
_REPLY_REF = {"x-botkit-reply": True}
_KIND_SCHEMA = {"enum": list(get_args(MessageKind))}

Text = Annotated[str, AfterValidator(_not_blank)]
def _at(value: str) -> str:
    from botkit.flows.absolute import check_at

    return check_at(value)


Template = Annotated[str, AfterValidator(_not_blank), AfterValidator(_template)]
Regex = Annotated[str, AfterValidator(_regex)]
FlowName = Annotated[str, AfterValidator(_name("flow"))]
StateName = Annotated[str, AfterValidator(_name("state"))]
SlotName = Annotated[str, AfterValidator(_name("slot"))]
StateRef = Annotated[str, AfterValidator(_ref("states", "state", "states"))]
ActionRef = Annotated[str, AfterValidator(_ref("actions", "action", "actions"))]
ConditionRef = Annotated[str, AfterValidator(_ref("conditions", "condition", "conditions"))]
FlowRef = Annotated[str, AfterValidator(_ref("flows", "flow", "flows"))]
Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "minLength": 2,
                    "examples": ["30s", "10m", "2h", "1d", "1h30m"]}),
]
AtTime = Annotated[str, AfterValidator(_at)]
ReplyData = Annotated[str | dict[str, Any], BeforeValidator(_reply)]
TemplateUse = Annotated[
    str | dict[str, Any],
    BeforeValidator(_template_use),
    WithJsonSchema({"anyOf": [
        {"type": "string", "minLength": 1,
         "description": "A template of the registry; its values come from the slots of the "
                        "same names."},
        {"type": "object", "properties": {
            "template": {"type": "string", "minLength": 1},
            "parameters": {"type": "object", "additionalProperties": {"type": "string"}}},
         "required": ["template"], "additionalProperties": False}]}),
]
Say = Annotated[
    tuple[ReplyData, ...],
    BeforeValidator(_one_or_many),
    Field(min_length=1),
    WithJsonSchema({"anyOf": [_REPLY_REF, {"type": "array", "items": _REPLY_REF,
                                           "minItems": 1}]}),
]
Payloads = Annotated[
    tuple[Text, ...],
    BeforeValidator(_word_or_many),
    Field(min_length=1),
    WithJsonSchema({"anyOf": [{"type": "string"},
                              {"type": "array", "items": {"type": "string"}, "minItems": 1}]}),
]
Kinds = Annotated[
    tuple[MessageKind, ...],
    BeforeValidator(_word_or_many),
    Field(min_length=1),
    WithJsonSchema({"anyOf": [_KIND_SCHEMA,
                              {"type": "array", "items": _KIND_SCHEMA, "minItems": 1}]}),
]
Actions = Annotated[
    tuple[ActionRef, ...],
    BeforeValidator(_word_or_many),
    Field(min_length=1),
    WithJsonSchema({"anyOf": [{"type": "string"},
                              {"type": "array", "items": {"type": "string"}, "minItems": 1}]}),
]
TrueFlag = Annotated[bool, Strict(), AfterValidator(_only_true),
                     WithJsonSchema({"const": True})]
Flag = Annotated[bool, Strict()]


