"""YAML syntax errors in words a flow author knows, at the line where the mistake is.

PyYAML speaks of its tokens (``expected <block end>, but found '<block mapping start>'``,
``while parsing a block collection``); these are translated into lists, keys, values
and indentation. A rule (or any list item) written without its ``- `` is blamed on its
own line, not on the next one, where the parser notices it.
"""

from __future__ import annotations

import re

import yaml

from botkit.flows.yamlpos import Position, YamlProblem

__all__ = ["syntax_problem"]

# What the parser's tokens are, for someone who writes YAML rather than parses it.
_TOKENS = {
    "<block end>": "the end of the indented block",
    "<block mapping start>": "a key (name: value)",
    "<block sequence start>": "a list ('- ' items)",
    "?": "a key (name: value)",
    "-": "a list item ('- ')",
    ":": "':'",
    "<scalar>": "a value",
    "<stream end>": "the end of the file",
    "<stream start>": "the start of the file",
    "<document start>": "'---'",
    "<document end>": "'...'",
    "<alias>": "an alias (*name)",
    "<anchor>": "an anchor (&name)",
    "<tag>": "a tag (!name)",
    "<directive>": "a directive (%...)",
}

_CONTEXTS = {
    "while parsing a block collection": "the list",
    "while parsing a block mapping": "the mapping (key: value lines)",
    "while parsing a flow sequence": "the [...] list",
    "while parsing a flow mapping": "the {...} mapping",
    "while parsing a block node": "the value",
    "while parsing a flow node": "the value",
    "while scanning a quoted scalar": "the quoted text",
    "while scanning a plain scalar": "the value",
    "while scanning a simple key": "the key",
    "while scanning a block scalar": "the block of text",
    "while scanning an alias": "the alias",
    "while scanning an anchor": "the anchor",
    "while scanning a tag": "the tag",
    "while parsing a node": "the value",
}

_HINTS = (
    ("'\\t'", "indent with spaces, not tabs"),
    ("mapping values are not allowed here",
     "check the indentation, or put a value that contains ': ' in quotes"),
    ("expected <block end>", "check the indentation of this line"),
    ("found unexpected end of stream", "a quote is not closed"),
    ("could not find expected ':'", "a key needs ':' after it, or a quote is not closed"),
    ("found undefined alias", "an alias (*name) needs an anchor (&name) before it"),
)

_TOKEN = re.compile(r"'(<[a-z ]+>|[?:\-])'|(<[a-z ]+>)")
_ENTRY = re.compile(r"^(\s*)([^\s#'\"\-?][^:#]*?):[ \t]+[^\s#]")


def _words(text: str) -> str:
    """``text`` with each parser token named in words."""
    return _TOKEN.sub(lambda m: _TOKENS.get(m.group(1) or m.group(2), m.group(0)), text)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _missing_dash(error: yaml.MarkedYAMLError, text: str) -> YamlProblem | None:
    """The line before ``error``'s when it is a list item written without ``- ``.

    ``button: S`` followed by ``  goto: done`` indented deeper: the second line is where
    the parser gives up ("mapping values are not allowed here"), but the first is where
    the mistake is.
    """
    mark = error.problem_mark
    if mark is None or error.problem != "mapping values are not allowed here":
        return None
    lines = text.split("\n")
    here = lines[mark.line] if mark.line < len(lines) else ""
    before = [i for i in range(mark.line - 1, -1, -1)
              if lines[i].strip() and not lines[i].lstrip().startswith("#")]
    if not before or not _ENTRY.match(lines[before[0]]) or not _ENTRY.match(here):
        return None
    previous = lines[before[0]]
    if _indent(here) <= _indent(previous):
        return None
    return YamlProblem(
        Position(before[0] + 1, _indent(previous) + 1),
        f"YAML syntax error: line {mark.line + 1} is indented deeper than this one, as if "
        "this line started a list item; if it starts a rule (or any item of a list), put "
        f"'- ' before it, else indent line {mark.line + 1} like this one",
    )


def syntax_problem(error: yaml.YAMLError, text: str) -> YamlProblem:
    """``error`` as a problem at its position, in a flow author's words."""
    if isinstance(error, yaml.MarkedYAMLError):
        dash = _missing_dash(error, text)
        if dash is not None:
            return dash
        problem = error.problem or "invalid YAML"
        where = error.context_mark
        at = "" if where is None else f" at {where.line + 1}:{where.column + 1}"
        context = _CONTEXTS.get(error.context or "", "")
        if problem.startswith("expected <block end>, but found "):
            token = problem.removeprefix("expected <block end>, but found ")
            inside = f"{context} that starts{at}" if context else "the block above"
            message = (f"YAML syntax error: {_words(token)} at this indentation does not fit "
                       f"{inside}")
            if token == "'?'" and error.context == "while parsing a block collection":
                return YamlProblem(_position(error.problem_mark), message + (
                    "; if this line starts a new item (a rule), put '- ' before it, else "
                    "check its indentation"))
        elif problem.startswith("found unexpected end of stream"):
            inside = f"{context} that starts{at}" if context else "a value"
            message = f"YAML syntax error: the file ends inside {inside}"
        elif "'\\t'" in problem:
            message = "YAML syntax error: a tab character"
        elif problem == "mapping values are not allowed here":
            message = "YAML syntax error: ': ' cannot start a key here"
        elif "cannot start any token" in problem:
            message = f"YAML syntax error: {problem.removeprefix('found ')}"
        else:
            message = f"YAML syntax error: {_words(problem)}"
            if context:
                message += f" (in {context}{at})"
            elif error.context and "next token" not in error.context:
                message += f" ({_words(error.context)}{at})"
        for needle, hint in _HINTS:
            if needle in problem:
                message += f"; {hint}"
                break
        return YamlProblem(_position(error.problem_mark or error.context_mark), message)
    if isinstance(error, yaml.reader.ReaderError):
        before = text[: error.position]
        line = before.count("\n") + 1
        column = error.position - (before.rfind("\n") + 1) + 1
        character = error.character
        shown = repr(chr(character) if isinstance(character, int) else character)
        return YamlProblem(Position(line, column),
                           f"YAML syntax error: the character {shown} is not allowed")
    return YamlProblem(Position(1, 1), f"YAML syntax error: {_words(str(error))}")


def _position(mark: yaml.Mark | None) -> Position:
    return Position(1, 1) if mark is None else Position(mark.line + 1, mark.column + 1)
