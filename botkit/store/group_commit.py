"""Group commit: the SQLite store's calls, batched into one transaction per thread hop.

Committing costs a WAL write of every page a transaction touched, and each call handed to
the store's thread costs a thread switch and a wake-up of the event loop. Under load a
bot makes many small calls at once (webhooks accepted, turns committed, sends marked), so
the :class:`GroupCommit` queue runs them together:

* the first call starts a *flush* (on the next turn of the event loop, so calls made in
  the same pass join it); calls arriving while a flush runs wait for the next one. With
  one call at a time there is no waiting: each flush holds the one call.
* a flush is **one** job on the store's thread and, when any of its calls writes, **one**
  ``BEGIN IMMEDIATE`` ... ``COMMIT``. Calls run in submission order (merged calls at
  the place of the first of them, see below). Each caller's future is resolved only
  after the COMMIT, in submission order: a webhook is still answered ``200`` only once
  its own event is durable, and accepts resolve in inbox-id order.
* **a refusal is its call's alone.** A call that refuses (a version conflict, a finished
  inbox entry, a lost lease) must do so before its first write; its caller gets the
  error and the other calls go on. The queue checks it: a call that raises after it
  changed a row (``total_changes`` moved) cannot be undone alone, so the whole batch is
  rolled back instead. SQLite savepoints would undo one call alone, but measured they
  cost about twice a whole insert, on every call.
* **SQLite failing fails the batch.** Any ``sqlite3.Error`` (the write lock not taken
  within the busy timeout, a full disk, a failed COMMIT) rolls the transaction back and
  every call of the batch gets a :class:`~botkit.errors.StoreError`: nothing of it is
  half-applied, and webhooks among them are answered ``503`` (Vonage delivers them
  again).

A flush of reads only (``writes=False`` for every call) runs without a transaction, each
statement in autocommit, so it neither takes nor waits for the write lock.

**Merged calls.** Every SQLite statement the store's thread runs releases the GIL and must
take it back from a busy event loop, which under load costs the thread about one loop
burst (~0.1 ms) per statement: the statements, not the disk, bound a flush. Calls made
with :meth:`GroupCommit.call_many` and the same function are therefore run *together*,
by one call of that function with all their items, at the place of the first of them
(the accepts of a batch: a few statements for the whole batch instead of two per
webhook). The calls of one batch were all made before any of them was answered, so none
can depend on another's outcome: running them in another order within the batch is one
of the orders they could have run in anyway. Merged calls keep their own order among
themselves (inbox ids follow the order of the accepts).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TypeVar

from botkit.errors import StoreError

__all__ = ["MAX_BATCH", "GroupCommit", "Refused"]

T = TypeVar("T")

MAX_BATCH = 256
"""Most calls in one flush: bounds one transaction's size and its callers' wait."""


@dataclass(slots=True)
class _Call:
    fn: Callable[[sqlite3.Connection], Any] | None  # None: a merged call (see ``many``)
    writes: bool
    future: asyncio.Future[Any]
    many: Callable[[sqlite3.Connection, list[Any]], Sequence[Any]] | None = None
    item: Any = None


@dataclass(frozen=True, slots=True)
class Refused:
    """A merged call's result for one item that is refused: its caller gets ``error``.

    The function must have written nothing for that item (see the module's docstring).
    """

    error: Exception


class _BatchFailed(Exception):
    """Raised on the store's thread when the whole batch must be rolled back."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


# What a call ended with: (True, value) or (False, exception).
_Outcome = tuple[bool, Any]


class GroupCommit:
    """Batches calls to one SQLite connection owned by a single-thread executor.

    Args:
        executor: the store's thread (one worker), which alone uses the connection.
        connection: returns the connection (on the store's thread); None if not open.
        describe: names the store in errors, e.g. ``"SQLite store '/data/bot.db'"``.
        max_batch: most calls per flush.
    """

    def __init__(
        self,
        executor: ThreadPoolExecutor,
        connection: Callable[[], sqlite3.Connection | None],
        describe: str,
        *,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._executor = executor
        self._connection = connection
        self._describe = describe
        self._max_batch = max_batch
        self._queue: list[_Call] = []
        self._busy = False  # a flush is scheduled or running
        self._idle: asyncio.Event | None = None
        self.flushes = 0
        """Flushes run so far (one thread hop, at most one transaction each)."""

    def call(self, fn: Callable[[sqlite3.Connection], T], *, writes: bool) -> asyncio.Future[T]:
        """Queue ``fn(conn)``; the future gets its result once its batch has committed.

        ``writes`` says whether ``fn`` may write. ``fn`` must raise any refusal before
        its first write (see the module's docstring), and must not open or close a
        transaction itself.
        """
        return self._queued(_Call(fn, writes, asyncio.get_running_loop().create_future()))

    def call_many(
        self,
        fn: Callable[[sqlite3.Connection, list[Any]], Sequence[T | Refused]],
        item: Any,
        *,
        writes: bool,
    ) -> asyncio.Future[T]:
        """Queue ``item`` for ``fn(conn, items)``, run once for all such calls of a batch.

        ``fn`` gets the items of every ``call_many(fn, ...)`` in the batch, in call order,
        and returns one result per item, in the same order (a :class:`Refused` for an item
        it refuses). It runs where the first of them stood in the batch. The rules of
        :meth:`call` apply to it as a whole: an exception it raises (before writing) goes
        to every one of its callers.
        """
        future = asyncio.get_running_loop().create_future()
        return self._queued(_Call(None, writes, future, fn, item))

    def _queued(self, call: _Call) -> asyncio.Future[Any]:
        """Queue ``call``, starting a flush on the next pass of the loop if none is due."""
        self._queue.append(call)
        if not self._busy:
            self._busy = True
            if self._idle is not None:
                self._idle.clear()
            asyncio.get_running_loop().call_soon(self._flush)
        return call.future

    async def drain(self) -> None:
        """Wait until every queued call has run (for ``close()``)."""
        if not self._busy:
            return
        if self._idle is None:
            self._idle = asyncio.Event()
        await self._idle.wait()

    # -- on the event loop ----------------------------------------------------------------

    def _flush(self) -> None:
        # A caller cancelled before its batch started (a request dropped, a shutdown)
        # never runs; one cancelled later finds its write done anyway, as a call handed
        # to a thread always did.
        batch = [call for call in self._queue[: self._max_batch] if not call.future.done()]
        del self._queue[: self._max_batch]
        if not batch:
            self._next()
            return
        self.flushes += 1
        loop = asyncio.get_running_loop()
        try:
            job = loop.run_in_executor(self._executor, self._run, batch)
        except RuntimeError as exc:  # the executor was shut down under us
            self._settle(batch, [(False, StoreError(f"{self._describe}: {exc}")) for _ in batch])
            self._next()
            return
        job.add_done_callback(lambda done: self._finished(batch, done))

    def _finished(self, batch: list[_Call], job: asyncio.Future[list[_Outcome]]) -> None:
        try:
            outcomes = job.result()
        except BaseException as exc:  # not expected: _run reports failures as outcomes
            outcomes = [(False, StoreError(f"{self._describe}: {exc!r}")) for _ in batch]
        self._settle(batch, outcomes)
        self._next()

    def _next(self) -> None:
        if self._queue:
            # Calls queued during the flush that just ended: they waited already.
            self._flush()
            return
        self._busy = False
        if self._idle is not None:
            self._idle.set()

    @staticmethod
    def _settle(batch: list[_Call], outcomes: list[_Outcome]) -> None:
        # In submission order: the callers' tasks wake up in that order.
        for call, (ok, value) in zip(batch, outcomes, strict=True):
            if call.future.done():  # the caller was cancelled; its write stands anyway
                continue
            if ok:
                call.future.set_result(value)
            else:
                call.future.set_exception(value)

    # -- on the store's thread --------------------------------------------------------------

    def _run(self, batch: list[_Call]) -> list[_Outcome]:
        conn = self._connection()
        if conn is None:  # open() failed after these calls were queued
            return [
                (False, StoreError(f"{self._describe} is not open; open() failed")) for _ in batch
            ]
        if not any(call.writes for call in batch):
            return self._steps(conn, batch, in_transaction=False)
        try:
            return self._transaction(conn, batch)
        except _BatchFailed as failed:
            return [(False, self._failure(failed.cause, len(batch))) for _ in batch]

    def _steps(
        self, conn: sqlite3.Connection, batch: list[_Call], *, in_transaction: bool
    ) -> list[_Outcome]:
        """Run every call of the batch in order, each merged call once."""
        outcomes: list[_Outcome | None] = [None] * len(batch)
        for index in range(len(batch)):
            if outcomes[index] is None:  # not run yet as part of a merged call
                self._step(conn, batch, index, outcomes, in_transaction=in_transaction)
        return [outcome for outcome in outcomes if outcome is not None]

    def _step(
        self,
        conn: sqlite3.Connection,
        batch: list[_Call],
        index: int,
        outcomes: list[_Outcome | None],
        *,
        in_transaction: bool,
    ) -> None:
        """Run the call at ``index`` (with the calls merged into it), filling ``outcomes``.

        Raises:
            _BatchFailed: in a transaction, SQLite failed or the call raised after a write.
        """
        call = batch[index]
        if call.many is None:
            members = [index]
        else:
            members = [n for n in range(index, len(batch)) if batch[n].many is call.many]
        changes = conn.total_changes
        results: Sequence[Any]
        try:
            if call.fn is not None:
                results = [call.fn(conn)]
            else:
                assert call.many is not None
                results = call.many(conn, [batch[n].item for n in members])
                if len(results) != len(members):
                    raise StoreError(f"{len(results)} results for {len(members)} merged calls")
        except Exception as exc:
            if in_transaction and (isinstance(exc, sqlite3.Error) or conn.total_changes != changes):
                # SQLite failed, or the call wrote before refusing: only rolling the whole
                # batch back undoes it.
                raise _BatchFailed(exc) from exc
            failure = self._error(exc) if isinstance(exc, sqlite3.Error) else exc
            for n in members:
                outcomes[n] = (False, failure)
            return
        for n, result in zip(members, results, strict=True):
            outcomes[n] = (False, result.error) if isinstance(result, Refused) else (True, result)

    def _transaction(self, conn: sqlite3.Connection, batch: list[_Call]) -> list[_Outcome]:
        try:
            conn.execute("BEGIN IMMEDIATE")
            outcomes = self._steps(conn, batch, in_transaction=True)
            conn.execute("COMMIT")
        except BaseException as exc:
            # A failed COMMIT can leave the transaction open; the original error matters
            # more than a failing ROLLBACK.
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if isinstance(exc, _BatchFailed):
                raise
            if isinstance(exc, Exception):
                raise _BatchFailed(exc) from exc
            raise
        return outcomes

    def _failure(self, cause: BaseException, size: int) -> StoreError:
        if isinstance(cause, sqlite3.Error):
            error = self._error(cause)
        else:
            error = StoreError(f"{self._describe}: {cause}")
        if size > 1:
            error.add_note(f"the {size} calls committed together were all rolled back")
        error.__cause__ = cause
        return error

    def _error(self, exc: sqlite3.Error) -> StoreError:
        error = StoreError(f"{self._describe}: {exc}")
        error.__cause__ = exc
        return error
