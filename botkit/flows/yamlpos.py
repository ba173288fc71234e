"""YAML read with positions: plain data plus an index from key paths to 1-based positions.

``yaml.safe_load`` returns bare dicts and lists, forgets where each value was written and
silently keeps the last of two equal keys. Flow errors must point at a line and column,
and a duplicated state must be an error, so this module composes the node tree itself and
converts it, recording where every key and value sits.

Scalars follow the YAML 1.2 core schema rather than PyYAML's YAML 1.1 one: only
``true``/``false`` are booleans (``yes``, ``no``, ``on`` and ``off`` stay text, so
``on:`` is a key and ``payload: no`` is the text ``no``), ``10:30`` is text, not a
sexagesimal number, and dates stay text. Anchors and aliases work; merge keys (``<<``)
and language-specific tags do not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

__all__ = ["Location", "Path", "Position", "PositionIndex", "YamlProblem", "parse_yaml"]

Path = tuple[str | int, ...]
"""Where a value sits: mapping keys and list indexes from the document root."""

_MAX_DEPTH = 64
_MAX_NODES = 200_000  # after alias expansion: stops "billion laughs" files


class Position(NamedTuple):
    """A 1-based line and column."""

    line: int
    column: int


class Location(NamedTuple):
    """Where one value of the document was written.

    Attributes:
        key: the position of its key (of the ``-`` item for a list item, of the value
            itself for the document root).
        value: the position of the value itself.
        kind: ``"mapping"``, ``"sequence"`` or ``"scalar"``.
    """

    key: Position
    value: Position
    kind: str


@dataclass(frozen=True, slots=True)
class YamlProblem:
    """A problem found while reading YAML: a syntax error, a duplicate key, a bad tag.

    ``path`` is set when the value at that path was replaced (by its text, or by
    ``None``): further problems about that value are consequences, not news.
    """

    position: Position
    message: str
    path: Path | None = None


@dataclass(slots=True)
class PositionIndex:
    """Positions of every value of a document, by :data:`Path`."""

    locations: dict[Path, Location] = field(default_factory=dict)

    def __contains__(self, path: object) -> bool:
        return path in self.locations

    def __iter__(self) -> Iterator[Path]:
        return iter(self.locations)

    def resolve(self, loc: tuple[Any, ...]) -> Path:
        """The longest prefix of ``loc`` that was written in the file.

        An integer step into a value that is not a list is skipped, not ended on: a
        value written once where a list is allowed (``say: Hi``) is validated as item
        0 of a one-item list, and its problems belong to the value itself.
        """
        path: Path = ()
        for step in loc:
            candidate = (*path, step)
            if candidate in self.locations:
                path = candidate
                continue
            here = self.locations.get(path)
            if isinstance(step, int) and (here is None or here.kind != "sequence"):
                continue
            break
        return path

    def location(self, path: Path) -> Location:
        """The location of ``path`` or of its longest written prefix."""
        found = self.locations.get(self.resolve(path))
        return found if found is not None else _ORIGIN


_ORIGIN = Location(Position(1, 1), Position(1, 1), "scalar")


def _position(mark: yaml.Mark | None) -> Position:
    return Position(1, 1) if mark is None else Position(mark.line + 1, mark.column + 1)


# YAML 1.2 core schema resolvers, in place of PyYAML's YAML 1.1 ones.
_CORE_RESOLVERS: list[tuple[str, re.Pattern[str], str]] = [
    ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    ("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), "~nN"),
    ("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
     "-+0123456789"),
    ("tag:yaml.org,2002:float", re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), "-+0123456789."),
]


def _core_resolvers() -> dict[Any, list[tuple[str, re.Pattern[str]]]]:
    table: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}
    for tag, regexp, first in _CORE_RESOLVERS:
        # The empty scalar is looked up under "" (it has no first character).
        for char in [*first, ""] if tag.endswith(":null") else first:
            table.setdefault(char, []).append((tag, regexp))
    return table


_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"
_MAYBE_NOT_STR = frozenset("tTfF~nN-+0123456789.")


def _resolve(self: Any, kind: Any, value: Any, implicit: tuple[bool, bool]) -> str:
    """PyYAML's ``BaseResolver.resolve`` without path resolvers, with a fast path for the
    common case: a plain scalar that starts with a letter other than t, f or n is text."""
    if kind is yaml.ScalarNode:
        if implicit[0] and (not value or value[0] in _MAYBE_NOT_STR):
            for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                if regexp.match(value):
                    return str(tag)
        return _STR
    return _SEQ if kind is yaml.SequenceNode else _MAP


class _Loader(yaml.SafeLoader):
    """The pure-Python composer with core-schema resolvers: its error messages and marks
    do not depend on whether libyaml is installed."""

    yaml_implicit_resolvers = _core_resolvers()
    resolve = _resolve


_FastLoader: type[Any] | None
try:
    class _CLoader(yaml.CSafeLoader):  # libyaml composes about ten times faster
        yaml_implicit_resolvers = _core_resolvers()
        resolve = _resolve

    _FastLoader = _CLoader
except AttributeError:  # PyYAML built without libyaml
    _FastLoader = None


# libyaml composes nested collections by C recursion and crashes the process (not an
# exception) somewhere past 10,000 levels. Every level needs one of these characters, so
# their count bounds the depth: above the limit, the pure-Python composer is used, whose
# recursion ends in a RecursionError instead.
_NESTING_CHARS = "[{-?:"
_C_NESTING_LIMIT = 5_000


def _compose(text: str) -> yaml.Node | None:
    if _FastLoader is not None and sum(map(text.count, _NESTING_CHARS)) < _C_NESTING_LIMIT:
        try:
            return _compose_with(_FastLoader, text)
        except yaml.YAMLError:
            pass  # read it again below, for the pure-Python composer's messages and marks
    return _compose_with(_Loader, text)


def _compose_with(loader_class: type[Any], text: str) -> yaml.Node | None:
    loader = loader_class(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()


class _TooBig(Exception):
    pass


@dataclass(slots=True)
class _Converter:
    index: PositionIndex
    problems: list[YamlProblem]
    nodes: int = 0
    stack: set[int] = field(default_factory=set)

    def value(self, node: yaml.Node, path: Path, key: Position, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > _MAX_NODES:
            raise _TooBig(f"the file expands to more than {_MAX_NODES} values "
                          f"(aliases inside aliases?)")
        mark = node.start_mark
        where = Position(mark.line + 1, mark.column + 1)
        locations = self.index.locations
        if isinstance(node, yaml.ScalarNode):
            locations[path] = Location(key, where, "scalar")
            if node.tag == _STR:  # most values: skip the call
                return node.value
            return self.scalar(node, where, path)
        if depth > _MAX_DEPTH or id(node) in self.stack:
            message = ("an alias refers to a value that contains it"
                       if id(node) in self.stack else f"nested more than {_MAX_DEPTH} deep")
            self.problems.append(YamlProblem(where, message, path))
            locations[path] = Location(key, where, "scalar")
            return None
        self.stack.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                locations[path] = Location(key, where, "sequence")
                self.check_tag(node, _SEQ, where, path)
                out = []
                for i, item in enumerate(node.value):
                    at = item.start_mark
                    out.append(self.value(item, (*path, i), Position(at.line + 1, at.column + 1),
                                          depth + 1))
                return out
            assert isinstance(node, yaml.MappingNode)
            locations[path] = Location(key, where, "mapping")
            self.check_tag(node, _MAP, where, path)
            return self.mapping(node, path, depth)
        finally:
            self.stack.discard(id(node))

    def mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first: dict[str, Position] = {}
        for key_node, value_node in node.value:
            mark = key_node.start_mark
            key_at = Position(mark.line + 1, mark.column + 1)
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(YamlProblem(key_at, "a key must be a word, not a list "
                                                         "or a mapping"))
                continue
            # The key as written: `200:` and `true:` are the keys "200" and "true".
            key = key_node.value
            if key in first:
                what = "state" if path == ("states",) else "key"
                verb = "defined" if what == "state" else "written"
                self.problems.append(YamlProblem(
                    key_at, f"duplicate {what} {key!r} (first {verb} at line {first[key].line})"))
                continue
            first[key] = key_at
            out[key] = self.value(value_node, (*path, key), key_at, depth + 1)
        return out

    def check_tag(self, node: yaml.Node, expected: str, where: Position, path: Path) -> None:
        if node.tag != expected:
            self.problems.append(YamlProblem(where, f"the YAML tag {node.tag!r} is not "
                                                    f"supported in flow files", path))

    def scalar(self, node: yaml.ScalarNode, where: Position, path: Path) -> Any:
        tag, text = node.tag, node.value
        try:
            if tag == _STR:
                return text
            if tag == "tag:yaml.org,2002:null":
                return None
            if tag == "tag:yaml.org,2002:bool":
                return text.lower() == "true"
            if tag == "tag:yaml.org,2002:int":
                return _to_int(text)
            if tag == "tag:yaml.org,2002:float":
                return _to_float(text)
        except ValueError as exc:  # an explicit `!!int abc`, or a number too long to read
            self.problems.append(YamlProblem(where, str(exc), path))
            return text
        self.problems.append(YamlProblem(where, f"the YAML tag {tag!r} is not supported in "
                                                f"flow files", path))
        return text


def _to_int(text: str) -> int:
    body = text.replace("_", "")
    try:
        if body.lower().startswith(("0x", "+0x", "-0x")):
            return int(body, 16)
        if body.lower().startswith(("0o", "+0o", "-0o")):
            return int(body.replace("o", "").replace("O", ""), 8)
        return int(body)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a whole number (or is too long)") from None


def _to_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return float("-inf") if lowered.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    try:
        return float(text.replace("_", ""))
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a number") from None


def parse_yaml(text: str) -> tuple[Any, PositionIndex, list[YamlProblem]]:
    """Read one YAML document with the position of every key and value.

    Args:
        text: the document.

    Returns:
        ``(data, index, problems)``: the data as dicts (keys always ``str``), lists and
        scalars; where each value was written; and the problems found, in the order met.
        After a syntax error, ``data`` is ``None`` and ``problems`` holds that one error.
        Of two equal keys in a mapping the first is kept and the second is a problem.
    """
    index = PositionIndex()
    try:
        node = _compose(text)
    except yaml.YAMLError as exc:
        from botkit.flows.yamlerrors import syntax_problem  # it imports this module

        return None, index, [syntax_problem(exc, text)]
    except RecursionError:
        return None, index, [YamlProblem(Position(1, 1), "the file nests too deeply to read")]
    if node is None:
        index.locations[()] = _ORIGIN
        return None, index, []
    converter = _Converter(index, [])
    start = _position(node.start_mark)
    try:
        data = converter.value(node, (), start, 0)
    except _TooBig as exc:
        return None, index, [YamlProblem(start, str(exc))]
    return data, index, converter.problems
