"""A local fake of the External Accounts API (spec 0.1.5), serving real HTTP.

It keeps accounts in memory, answers every endpoint of the spec with the spec's shapes
(``tests/fixtures/vonage/external-accounts.yml``; ``test_fake_api.py`` checks its answers against
the spec's schemas) and records every request: method, path, query, headers, JSON body.

* Auth: Basic with the one key and secret it was given, or an RS256 application JWT that
  verifies with the given public key and carries the given ``application_id``; anything
  else is ``401`` with the spec's body.
* Pages: ``page_size`` (default: the fake's, small, so tests see several pages) and
  ``page_number``; the ``_links`` name ``https://api.nexmo.com/...`` as the spec's examples
  do, whatever address the fake serves on.
* Refusals: ``400`` (a missing or unchangeable field, with ``invalid_params``), ``403``
  (linking an application the account does not have), ``404`` (no such account), ``409``
  (a second application; unlinking one that is not linked). ``fail_next(status, body)``
  answers the next request with anything (``403`` of the credentials, ``422``, ``429``...);
  ``delay`` holds every answer back.

Run it in a thread with :func:`serve` (a context manager giving the base URL), so that
both async tests and the synchronous command line can talk to it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web

PREFIX = "/beta/chatapp-accounts"
LINK_BASE = "https://api.nexmo.com/beta/chatapp-accounts"
PROVIDERS = ("messenger", "viber_service_msg", "whatsapp")

BODY = web.RequestKey("body", object)  # the JSON body, read once by the middleware

UNAUTHORISED = {
    "title": "Unauthorised",
    "detail": "Request header 'Authorization' missing / Invalid Token",
}
FORBIDDEN_CREDENTIALS = {
    "title": "Wrong authentication - You are not authorised to access this resource"
}


@dataclass
class Seen:
    """One request as it arrived."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0
    answer: bytes = b""


@dataclass
class FakeAccountsApi:
    """The fake's state: accounts, known applications, credentials, faults, requests."""

    basic: tuple[str, str] | None = ("key", "secret")
    jwt_public_key: Any = None
    jwt_application_id: str | None = None
    applications: set[str] = field(default_factory=set)
    page_size: int = 2
    delay: float = 0.0
    accounts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    faults: list[tuple[int, Any]] = field(default_factory=list)

    def add(
        self,
        provider: str,
        external_id: str,
        *,
        name: str | None = None,
        applications: list[str] | None = None,
        access_token: str | None = None,
    ) -> dict[str, Any]:
        """Add an account, as if made in the dashboard."""
        account: dict[str, Any] = {
            "external_id": external_id,
            "api_key": "key",
            "provider": provider,
            "applications": list(applications or []),
        }
        if name is not None:
            account["name"] = name
        if provider == "messenger":
            account["access_token"] = access_token or "page-token"
        self.accounts[provider, external_id] = account
        return account

    def fail_next(self, status: int, body: Any = None) -> None:
        """Answer the next request with ``status`` and ``body`` (JSON), whatever it is."""
        self.faults.append((status, body))

    # -- the HTTP side ----------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get(PREFIX, self._list)
        app.router.add_post(PREFIX + "/messenger", self._create)
        app.router.add_get(PREFIX + "/{provider}/{external_id}", self._get)
        app.router.add_patch(PREFIX + "/messenger/{external_id}", self._update)
        app.router.add_delete(PREFIX + "/messenger/{external_id}", self._delete)
        app.router.add_post(PREFIX + "/{provider}/{external_id}/applications", self._link)
        app.router.add_delete(
            PREFIX + "/{provider}/{external_id}/applications/{application_id}", self._unlink
        )
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = await request.json()
            except ValueError:
                body = raw.decode("utf-8", "replace")
        request[BODY] = body
        seen = Seen(request.method, request.path, dict(request.query), dict(request.headers), body)
        self.requests.append(seen)
        if self.delay:
            await asyncio.sleep(self.delay)
        response = await self._answer(request, handler)
        seen.status, seen.answer = response.status, response.body or b""
        return response

    async def _answer(self, request: web.Request, handler: Any) -> web.Response:
        if self.faults:
            status, fault = self.faults.pop(0)
            if fault is None:
                return web.Response(status=status)
            return web.json_response(fault, status=status)
        if not self._authorised(request.headers.get("Authorization", "")):
            return web.json_response(UNAUTHORISED, status=401)
        response: web.Response = await handler(request)
        return response

    def _authorised(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme == "Basic" and self.basic is not None:
            return value == base64.b64encode(":".join(self.basic).encode()).decode()
        if scheme == "Bearer" and self.jwt_public_key is not None:
            try:
                claims = jwt.decode(value, self.jwt_public_key, algorithms=["RS256"])
            except jwt.InvalidTokenError:
                return False
            return bool(claims.get("application_id") == self.jwt_application_id)
        return False

    async def _list(self, request: web.Request) -> web.Response:
        provider = request.query.get("provider")
        if provider is not None and provider not in PROVIDERS:
            return _invalid("provider", f"'{provider}' is not a provider")
        number = int(request.query.get("page_number", "1"))
        size = int(request.query.get("page_size", str(self.page_size)))
        chosen = [a for a in self.accounts.values() if provider in (None, a["provider"])]
        last = max(1, -(-len(chosen) // size))

        def href(page: int) -> dict[str, str]:
            query = f"page_number={page}&page_size={size}"
            if provider is not None:
                query += f"&provider={provider}"
            return {"href": f"{LINK_BASE}?{query}"}

        links = {"self": href(number), "first": href(1), "last": href(last)}
        if number < last:
            links["next"] = href(number + 1)
        if number > 1:
            links["prev"] = href(number - 1)
        page = chosen[(number - 1) * size : number * size]
        return web.json_response(
            {"page_number": number, "page_size": size, "_embedded": page, "_links": links}
        )

    def _find(self, request: web.Request) -> dict[str, Any] | None:
        key = (request.match_info["provider"], request.match_info["external_id"])
        return self.accounts.get(key)

    async def _get(self, request: web.Request) -> web.Response:
        account = self._find(request)
        if account is None:
            return web.Response(status=404)
        return web.json_response(account)

    async def _create(self, request: web.Request) -> web.Response:
        body = _object(request)
        for name in ("external_id", "access_token"):
            if not isinstance(body.get(name), str) or not body[name]:
                return _invalid(name, f"Missing `{name}` field")
        applications = body.get("applications", [])
        if not isinstance(applications, list) or len(applications) > 1:
            return _invalid("applications", "one application at most")
        if ("messenger", body["external_id"]) in self.accounts:
            return _invalid("external_id", "an account with this external_id exists")
        account = self.add(
            "messenger",
            body["external_id"],
            name=body.get("name"),
            applications=applications,
            access_token=body["access_token"],
        )
        return web.json_response(account, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        account = self.accounts.get(("messenger", request.match_info["external_id"]))
        if account is None:
            return web.Response(status=404)
        body = _object(request)
        if "external_id" in body:
            return _invalid("external_id", "'external_id' parameter cannot be changed")
        for name in ("name", "access_token", "applications"):
            if name in body:
                account[name] = body[name]
        return web.json_response(account)

    async def _delete(self, request: web.Request) -> web.Response:
        if self.accounts.pop(("messenger", request.match_info["external_id"]), None) is None:
            return web.Response(status=404)
        return web.Response(status=204)

    async def _link(self, request: web.Request) -> web.Response:
        account = self._find(request)
        if account is None:
            return web.Response(status=404)
        application = _object(request).get("application")
        if application not in self.applications:
            return _refusal(403, "Forbidden", "Cannot link application")
        if account["applications"]:
            return _refusal(409, "Application conflict", "Unable to link application")
        account["applications"] = [application]
        return web.json_response(account)

    async def _unlink(self, request: web.Request) -> web.Response:
        account = self._find(request)
        if account is None:
            return web.Response(status=404)
        application = request.match_info["application_id"]
        if application not in account["applications"]:
            return _refusal(409, "Application conflict", "Unable to unlink application")
        account["applications"].remove(application)
        return web.Response(status=204)


def _object(request: web.Request) -> dict[str, Any]:
    seen = request.get(BODY)
    return seen if isinstance(seen, dict) else {}


def _invalid(name: str, reason: str) -> web.Response:
    return web.json_response(
        {
            "type": "https://www.nexmo.com/messages/Errors#InvalidParams",
            "title": "Your request parameters didn't validate.",
            "detail": "Found errors validating 1 of your submitted parameters.",
            "instance": None,
            "invalid_params": [{"name": name, "reason": reason}],
        },
        status=400,
    )


def _refusal(status: int, title: str, detail: str) -> web.Response:
    kind = "Forbidden" if status == 403 else "Conflict"
    return web.json_response(
        {"type": f"https://www.nexmo.com/messages/Errors#{kind}", "title": title, "detail": detail},
        status=status,
    )


@contextlib.contextmanager
def serve(api: FakeAccountsApi, port: int = 0) -> Iterator[str]:
    """Serve ``api`` on 127.0.0.1 (a free port by default) in a thread; gives the base URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-accounts-api", daemon=True)
    thread.start()
    runner = web.AppRunner(api.app(), access_log=None, shutdown_timeout=0.1)

    def run(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=10)

    try:
        run(runner.setup())
        run(web.TCPSite(runner, "127.0.0.1", port).start())
        yield f"http://127.0.0.1:{runner.addresses[0][1]}{PREFIX}"
    finally:
        run(runner.cleanup())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
