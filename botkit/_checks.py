"""Value checks several models share: an http(s) URL, a one-line title."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["http_url", "one_line"]


def http_url(value: str, what: str = "url") -> str:
    """``value`` when it is an absolute http(s) URL without spaces, else ``ValueError``."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", value):
        raise ValueError(f"{what} must be an http(s) URL, got {value!r}")
    return value


def one_line(value: str, what: str) -> str:
    """``value`` with its whitespace collapsed to single spaces; ``ValueError`` when empty."""
    line = " ".join(value.split())
    if not line:
        raise ValueError(f"{what} must not be empty")
    return line
