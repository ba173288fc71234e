"""How a validation error is said to someone who writes YAML, not Python.

Shared by the flow loader and the conversation-test loader, so both speak alike:
"expected a number, got 'many'", "expected one of 'sms', 'mms': did you mean 'sms'?".
"""

from __future__ import annotations

import difflib
import re
from typing import Any

__all__ = ["EXPECTED", "describe_error", "shown"]

EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "tuple_type": "a list",
    "list_type": "a list",
    "iterable_type": "a list",
    "timedelta_type": "a duration like 10m",
}
"""What each pydantic type error expected, in words."""


def shown(value: Any) -> str:
    """A value as an author would recognise it: ``'many'``, ``the number 3``, ``a list``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def describe_error(error: Any) -> str:
    """The message for one pydantic error (a dict from ``ValidationError.errors()``)."""
    kind, value, context = error["type"], error.get("input"), error.get("ctx") or {}
    if kind in EXPECTED:
        if value is None:
            return "has no value; write one or leave the key out"
        message = f"expected {EXPECTED[kind]}, got {shown(value)}"
        if kind == "string_type" and isinstance(value, bool | int | float):
            literal = ("true" if value else "false") if isinstance(value, bool) else repr(value)
            message += f'; to use it as text, put it in quotes: "{literal}"'
        if kind in ("tuple_type", "list_type") and isinstance(value, dict):
            message += "; start each item on its own line with '- '"
        return message
    if kind == "literal_error":
        expected = str(context.get("expected", ""))
        message = f"expected one of {expected}, got {shown(value)}"
        if isinstance(value, str):
            close = difflib.get_close_matches(value, re.findall(r"'([^']*)'", expected), n=1,
                                              cutoff=0.6)
            if close:
                message += f": did you mean {close[0]!r}?"
        return message
    if kind == "too_short":
        return "is empty; it needs at least one item"
    if kind == "greater_than_equal":
        return f"must be at least {context.get('ge')}, got {shown(value)}"
    if kind == "less_than_equal":
        return f"must be at most {context.get('le')}, got {shown(value)}"
    return f"{error['msg']}, got {shown(value)}"
