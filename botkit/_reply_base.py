"""The base of every reply object and the checks several of them share."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

__all__ = ["ReplyBase", "http_url", "one_line"]


def http_url(value: str, what: str = "url") -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", value):
        raise ValueError(f"{what} must be an http(s) URL, got {value!r}")
    return value


def one_line(value: str, what: str) -> str:
    line = " ".join(value.split())
    if not line:
        raise ValueError(f"{what} must not be empty")
    return line


class ReplyBase(BaseModel):
    """Every reply object: immutable, and unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        # Subclasses take positional arguments and pass them on by name.
        super().__init__(**data)
