"""The base of the SQLite store's mixins (campaigns, handoff, opt-outs): the two ways of
reaching the database that :class:`~botkit.store.sqlite.SQLiteStore` gives each of them."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class SQLitePart:
    """A part of SQLiteStore: runs ``fn(conn, ...)`` on the store's thread through
    ``_read`` (no transaction of its own) or ``_write`` (in a group-committed one)."""

    if TYPE_CHECKING:  # provided by SQLiteStore

        def _read(
            self,
            fn: Callable[Concatenate[sqlite3.Connection, P], T],
            *args: P.args,
            **kwargs: P.kwargs,
        ) -> asyncio.Future[T]: ...

        def _write(
            self,
            fn: Callable[Concatenate[sqlite3.Connection, P], T],
            *args: P.args,
            **kwargs: P.kwargs,
        ) -> asyncio.Future[T]: ...
