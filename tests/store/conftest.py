"""Fixtures for the store contract suite: every test runs once per store implementation.

To put another store under the contract, add its name to ``STORE_KINDS`` and a branch
to ``StoreFactory.new`` (and ``reopen`` if a new handle is needed to see stored data).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from botkit.store import Store
from botkit.store.memory import MemoryStore
from botkit.store.sqlite import SQLiteStore

__all__ = ["STORE_KINDS", "StoreFactory"]

STORE_KINDS = ["memory", "sqlite"]


class StoreFactory:
    """Builds unopened stores of one kind, each on fresh, empty storage.

    Args:
        kind: one of ``STORE_KINDS``.
        directory: a private directory for file-backed stores.
    """

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind = kind
        self.directory = directory
        self._serial = itertools.count(1)

    def new(self) -> Store:
        """A new, unopened store on storage no other store of this factory uses."""
        if self.kind == "memory":
            return MemoryStore()
        if self.kind == "sqlite":
            return SQLiteStore(self.directory / f"store-{next(self._serial)}.db")
        raise AssertionError(f"no StoreFactory branch for {self.kind!r}")

    def reopen(self, store: Store) -> Store:
        """An unopened handle on the same storage as ``store`` (which must be closed).

        For a restart test: what one handle committed, the next one must see.
        """
        if isinstance(store, MemoryStore):
            return store  # memory lives in the object: reopening it is all there is
        if isinstance(store, SQLiteStore):
            return SQLiteStore(store.path)
        raise AssertionError(f"no StoreFactory.reopen branch for {type(store).__name__}")

    @asynccontextmanager
    async def opened(self, store: Store | None = None) -> AsyncIterator[Store]:
        """Open ``store`` (default: a new one) for the ``async with`` block, then close it."""
        store = self.new() if store is None else store
        await store.open()
        try:
            yield store
        finally:
            await store.close()


@pytest.fixture(params=STORE_KINDS, ids=STORE_KINDS)
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """A factory for the parametrised store kind."""
    return StoreFactory(request.param, tmp_path)


@pytest.fixture
async def store(store_factory: StoreFactory) -> AsyncIterator[Store]:
    """An open, empty store of the parametrised kind, closed after the test."""
    async with store_factory.opened() as opened:
        yield opened
