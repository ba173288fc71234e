"""FakeMessagesApi: the Messages API faked over ``httpx.MockTransport``, with fault knobs."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from botkit.clock import Clock, SystemClock
from botkit.retry import Sleeper


@dataclass(frozen=True, slots=True)
class _Fault:
    status_code: int = 0  # 0: no HTTP answer (connection refused)
    body: dict[str, Any] | None = None
    retry_after: str | None = None
    delay: float = 0.0  # seconds before answering; with status_code 202, then accepted
    to: str | None = None  # only for sends to this address
    lost_answer: bool = False  # accepted, but the answer never arrives (a read timeout)

    def applies(self, body: dict[str, Any]) -> bool:
        return self.to is None or body.get("to") == self.to


class FakeMessagesApi:
    """The Messages API edge, faked with ``httpx.MockTransport``, with fault knobs.

    Records every request; answers a send 202 with a fresh message_uuid (an update,
    ``PATCH``, 202 with no body, kept in :attr:`updates`) unless a fault was
    queued: :meth:`fail_next` (a status, a ``Retry-After``), :meth:`refuse_next` (no
    connection), :meth:`delay_next` (a slow answer), :meth:`lose_answer_next` (accepted,
    then a timeout: the ambiguous case). Faults apply to the next requests
    in the order they were queued, one request each; one queued with ``to=`` waits for
    a send to that address. :meth:`hold` keeps every request waiting until
    :meth:`release`.

    Args:
        clock: stamps :attr:`request_times` and :attr:`accepted_times`.
        sleep: how a delayed answer waits (a :class:`FakeSleeper` in tests).

    Attributes:
        requests: every request received, accepted or not.
        request_times: the clock's time at each of ``requests``.
        bodies: the bodies of accepted messages, in order.
        accepted_times: the clock's time at each of ``bodies``.
        duplicates: accepted messages whose ``client_ref`` was accepted before.
    """

    def __init__(self, *, clock: Clock | None = None, sleep: Sleeper | None = None) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.sleep: Sleeper = sleep if sleep is not None else asyncio.sleep
        self.requests: list[httpx.Request] = []
        self.request_times: list[float] = []
        self.bodies: list[dict[str, Any]] = []
        self.accepted_times: list[float] = []
        self.duplicates = 0
        self.updates: list[tuple[str, dict[str, Any]]] = []
        """Each ``PATCH /v1/messages/{id}`` accepted: ``(message_uuid, body)``."""
        self._refs: set[str] = set()
        self._faults: list[_Fault] = []
        self._gate: asyncio.Event | None = None
        self.held = 0
        """Requests waiting for :meth:`release`."""

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def fail_next(
        self,
        status_code: int,
        body: dict[str, Any] | None = None,
        *,
        times: int = 1,
        retry_after: float | str | None = None,
        to: str | None = None,
    ) -> None:
        """Answer the next ``times`` sends with ``status_code`` and a problem-details ``body``.

        ``retry_after`` adds a ``Retry-After`` header (seconds, or an HTTP date as text);
        ``to`` limits the fault to sends to that address.
        """
        header = None if retry_after is None else str(retry_after)
        fault = _Fault(status_code, body or {"title": "Error"}, header, to=to)
        self._faults.extend([fault] * times)

    def refuse_next(self, times: int = 1, *, to: str | None = None) -> None:
        """Fail the next ``times`` sends without an answer, as a refused connection does."""
        self._faults.extend([_Fault(to=to)] * times)

    def delay_next(
        self, seconds: float, times: int = 1, *, status_code: int = 202, to: str | None = None
    ) -> None:
        """Answer the next ``times`` sends after ``seconds`` (accepted, or ``status_code``)."""
        fault = _Fault(status_code, {"title": "Error"}, delay=seconds, to=to)
        self._faults.extend([fault] * times)

    def lose_answer_next(self, times: int = 1, *, to: str | None = None) -> None:
        """Accept the next ``times`` sends but fail them with a read timeout, as when the
        answer is lost on the way back: the sender cannot tell, and a retry duplicates."""
        self._faults.extend([_Fault(202, to=to, lost_answer=True)] * times)

    def hold(self) -> None:
        """Keep every request waiting, unanswered, until :meth:`release`."""
        if self._gate is None:
            self._gate = asyncio.Event()

    def release(self) -> None:
        """Let held requests (and later ones) through."""
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.set()

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.request_times.append(self.clock.now())
        body = json.loads(request.content)
        if self._gate is not None:
            self.held += 1
            try:
                await self._gate.wait()
            finally:
                self.held -= 1
        fault = next((f for f in self._faults if f.applies(body)), None)
        if fault is not None:
            self._faults.remove(fault)
        if fault is not None and fault.delay > 0:
            await self.sleep(fault.delay)
        if fault is not None and fault.status_code == 0:
            raise httpx.ConnectError("connection refused (FakeMessagesApi)", request=request)
        if fault is not None and fault.status_code != 202:
            headers = {} if fault.retry_after is None else {"Retry-After": fault.retry_after}
            return httpx.Response(fault.status_code, json=fault.body, headers=headers)
        if request.method == "PATCH":  # an update answers 202 with no body
            self.updates.append((request.url.path.rsplit("/", 1)[-1], body))
            return httpx.Response(202)
        ref = body.get("client_ref")
        if isinstance(ref, str):
            if ref in self._refs:
                self.duplicates += 1
            self._refs.add(ref)
        self.bodies.append(body)
        self.accepted_times.append(self.clock.now())
        if fault is not None and fault.lost_answer:
            raise httpx.ReadTimeout("no answer (FakeMessagesApi)", request=request)
        answer = {"message_uuid": str(uuid.uuid4())}
        if body.get("failover"):  # the API names the failover workflow too
            answer["workflow_id"] = uuid.uuid4().hex
        return httpx.Response(202, json=answer)
