"""Durations as flow authors write them: ``30s``, ``10m``, ``2h``, ``1d``, ``1h30m``.

Units go from the largest to the smallest, each at most once, with optional spaces
between the parts (``1h 30m``). Only whole numbers: ``1.5h`` is written ``1h30m``. A plain
number is refused on purpose, since ``after: 10`` could mean seconds or minutes.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["DURATION_PATTERN", "MAX_DURATION", "format_duration", "parse_duration"]

DURATION_PATTERN = r"^ *(?:[0-9]+ *d)? *(?:[0-9]+ *h)? *(?:[0-9]+ *m)? *(?:[0-9]+ *s)? *$"
"""The accepted spelling as a JSON Schema regular expression (an empty match is refused)."""

MAX_DURATION = timedelta(days=365)
"""The longest duration accepted: anything longer is taken for a typo."""

_PARTS = re.compile(r" *(?:([0-9]+) *d)? *(?:([0-9]+) *h)? *(?:([0-9]+) *m)? *(?:([0-9]+) *s)? *")
_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))
_HINT = "write it like 30s, 10m, 2h, 1d or 1h30m"


def parse_duration(text: str) -> timedelta:
    """Turn ``"1h30m"`` into ``timedelta(hours=1, minutes=30)``.

    Args:
        text: the duration as written in the flow file.

    Returns:
        The duration, longer than zero and at most :data:`MAX_DURATION`.

    Raises:
        ValueError: for anything else, with a message saying how to write one.
    """
    found = _PARTS.fullmatch(text)
    if found is None or not any(found.groups()):
        raise ValueError(f"{text!r} is not a duration; {_HINT}")
    # The digits can be arbitrarily long: cap them before timedelta overflows.
    parts = [group or "0" for group in found.groups()]
    if any(len(part) > 12 for part in parts):
        raise ValueError(f"{text!r} is longer than {format_duration(MAX_DURATION)}")
    seconds = sum(int(part) * size for part, (_, size) in zip(parts, _UNITS, strict=True))
    if seconds == 0:
        raise ValueError(f"{text!r} is zero; a duration must be longer than that")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text!r} is longer than {format_duration(MAX_DURATION)}")
    return timedelta(seconds=seconds)


def format_duration(duration: timedelta) -> str:
    """Write a duration the way :func:`parse_duration` reads it (``1h30m``).

    Args:
        duration: a positive duration; fractions of a second are dropped.

    Returns:
        The shortest spelling, largest unit first (``"0s"`` for less than a second).
    """
    left = int(duration.total_seconds())
    out = []
    for unit, size in _UNITS:
        count, left = divmod(left, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out) or "0s"
