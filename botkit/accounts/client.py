"""The External Accounts API client: the Messenger, Viber and WhatsApp accounts a bot sends
from, and the application each one is linked to.

Inbound messages to an account reach a bot only when the account is linked to the bot's
Vonage application, so this is the first thing to check when a channel stays silent.
The API (spec ``external-accounts.yml`` 0.1.5, a developer preview) lives under
``https://api.nexmo.com/beta/chatapp-accounts`` (:data:`~botkit.settings.DEFAULT_ACCOUNTS_URL`,
``VONAGE_ACCOUNTS_URL``) and takes the same credentials as the Messages API.

The client shares the Messages client's parts: the same :class:`~botkit.auth.Auth`, the
same HTTP transports (``BOTKIT_HTTP_TRANSPORT``), a :class:`~botkit.retry.RetryPolicy`
for 429, 5xx and unanswered requests, and errors of the same shape
(:class:`~botkit.errors.AccountsApiError`, a :class:`~botkit.errors.MessagesApiError`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self
from urllib.parse import quote

import httpx

from botkit.accounts.account import ExternalAccount, provider_name
from botkit.clock import Clock, SystemClock
from botkit.errors import AccountsApiError, ConfigError, clip
from botkit.retry import RetryPolicy, Sleeper
from botkit.settings import DEFAULT_ACCOUNTS_URL, Settings

if TYPE_CHECKING:
    from botkit.auth import Auth

__all__ = ["DEFAULT_RETRY", "AccountsClient"]

log = logging.getLogger("botkit")

# Retries suited to someone waiting at a terminal: a few quick attempts, not the
# sender's minutes of backoff.
DEFAULT_RETRY: Final = RetryPolicy(base=0.5, factor=2.0, cap=4.0, max_attempts=3, budget=15.0)


class AccountsClient:
    """The External Accounts API, asynchronously.

    Use it as an async context manager (or call :meth:`aclose`); use one instance from one
    event loop.

    Args:
        auth: credentials for the ``Authorization`` header, or None to send none (for a
            local test server).
        url: the API's base URL (``VONAGE_ACCOUNTS_URL``).
        transport: the httpx transport; by default a new one of the default kind.
        timeout: seconds allowed for each of connect, write, read and pool acquisition.
        retry_policy: backoff for 429, 5xx and unanswered requests; a create or link (a
            POST) is retried only after a 429, since it may have taken effect otherwise.
        sleep: how the client waits between attempts (``asyncio.sleep``).
        clock: measures ``Retry-After`` dates and the retry budget.

    Example:
        async with AccountsClient.from_settings(Settings.from_env()) as accounts:
            for account in await accounts.list(provider="whatsapp"):
                print(account.external_id, account.applications)
    """

    def __init__(
        self,
        *,
        auth: Auth | None,
        url: str = DEFAULT_ACCOUNTS_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        retry_policy: RetryPolicy | None = None,
        sleep: Sleeper | None = None,
        clock: Clock | None = None,
    ) -> None:
        # Imported here, not at the top: they load aiohttp, which `import botkit` (that
        # exports this class) should not pay for.
        from botkit.client import USER_AGENT
        from botkit.transports import make_transport

        self._auth = auth
        self._base = url.rstrip("/")
        self._policy = retry_policy if retry_policy is not None else DEFAULT_RETRY
        self._sleep: Sleeper = sleep if sleep is not None else asyncio.sleep
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._http = httpx.AsyncClient(
            transport=transport if transport is not None else make_transport(),
            timeout=timeout,
            follow_redirects=False,  # never carry the credentials to another address
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> AccountsClient:
        """A client with the credentials, URL and transport kind of ``settings``.

        Raises:
            ConfigError: no credentials are set, or the private key cannot be used.
        """
        from botkit.auth import auth_from_settings
        from botkit.transports import make_transport

        auth = auth_from_settings(settings, SystemClock())
        if auth is None:
            raise ConfigError(
                "no Vonage credentials: set VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY "
                "(or VONAGE_API_KEY and VONAGE_API_SECRET)"
            )
        if transport is None:
            transport = make_transport(settings.http_transport)
        return cls(auth=auth, url=settings.accounts_url, transport=transport, **options)

    @property
    def url(self) -> str:
        """The API's base URL."""
        return self._base

    # -- every provider ----------------------------------------------------------------------

    async def list(self, provider: str | None = None) -> list[ExternalAccount]:
        """Every account the credentials own, following the API's pages.

        Args:
            provider: only this provider's accounts (``messenger``, ``viber_service_msg``,
                ``whatsapp``).

        Raises:
            AccountsApiError: the API refused (401, ...) or was not reached (status 0).
            ValueError: an unknown provider.
        """
        first = {"page_number": "1"}
        if provider is not None:
            first["provider"] = provider_name(provider)
        params: dict[str, str] | None = first
        accounts: list[ExternalAccount] = []
        asked: set[tuple[tuple[str, str], ...]] = set()
        # Until there is no next page, or it names one already read (never loop forever).
        while params is not None and (query := tuple(sorted(params.items()))) not in asked:
            asked.add(query)
            response = await self._call("GET", "", params=params)
            page = _json_object(response)
            accounts.extend(_read(response, item) for item in _items(page))
            params = _next_page(page, params)
        return accounts

    async def get(self, provider: str, external_id: str) -> ExternalAccount:
        """One account.

        Raises:
            AccountsApiError: 404 when the credentials own no such account.
        """
        path = _path(provider_name(provider), external_id)
        return _account(await self._call("GET", path))

    async def link(self, provider: str, external_id: str, application_id: str) -> ExternalAccount:
        """Link a Vonage application to the account, so its inbound messages reach the
        application's webhooks; returns the account as it is now.

        Raises:
            AccountsApiError: 403 when the application does not exist or is not of type
                messages; 409 when another application is linked already (one at most).
        """
        _require("application_id", application_id)
        path = _path(provider_name(provider), external_id, "applications")
        return _account(await self._call("POST", path, body={"application": application_id}))

    async def unlink(self, provider: str, external_id: str, application_id: str) -> None:
        """Unlink a Vonage application from the account.

        Raises:
            AccountsApiError: 409 when that application is not linked to the account.
        """
        _require("application_id", application_id)
        path = _path(provider_name(provider), external_id, "applications", application_id)
        await self._call("DELETE", path)

    # -- Messenger ------------------------------------------------------------------------

    async def create_messenger(
        self,
        external_id: str,
        access_token: str,
        *,
        name: str | None = None,
        applications: Sequence[str] = (),
    ) -> ExternalAccount:
        """Add a Facebook page as a Messenger account.

        Args:
            external_id: the Facebook page id.
            access_token: the page's access token.
            name: a name for the account.
            applications: the application to link (the API allows one).

        Raises:
            AccountsApiError: 400 with ``invalid_parameters`` for a refused field.
        """
        _require("external_id", external_id)
        _require("access_token", access_token)
        body: dict[str, Any] = {"external_id": external_id, "access_token": access_token}
        if name is not None:
            body["name"] = name
        if applications:
            body["applications"] = list(applications)
        return _account(await self._call("POST", "/messenger", body=body))

    async def update_messenger(
        self,
        external_id: str,
        *,
        name: str | None = None,
        access_token: str | None = None,
        applications: Sequence[str] | None = None,
    ) -> ExternalAccount:
        """Change a Messenger account's name, page token or linked application; what is
        None stays as it is (``applications=[]`` unlinks every application).

        Raises:
            ValueError: nothing to change.
            AccountsApiError: 404 for an unknown account, 400 for a refused field.
        """
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if access_token is not None:
            body["access_token"] = access_token
        if applications is not None:
            body["applications"] = list(applications)
        if not body:
            raise ValueError("nothing to update: give a name, an access_token or applications")
        return _account(await self._call("PATCH", _path("messenger", external_id), body=body))

    async def delete_messenger(self, external_id: str) -> None:
        """Delete a Messenger account.

        Raises:
            AccountsApiError: 404 for an unknown account.
        """
        await self._call("DELETE", _path("messenger", external_id))

    # -- plumbing ---------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one request, retrying what may be retried; the 2xx response."""
        started = self._clock.now()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._once(method, path, params, body)
            except AccountsApiError as exc:
                # A POST that got a 5xx or no answer may have created or linked already.
                may_retry = exc.status_code == 429 or (exc.retryable and method != "POST")
                elapsed = self._clock.now() - started
                delay = self._policy.next_delay(attempt, elapsed, exc.retry_after)
                if not may_retry or delay is None:
                    raise
                log.debug("botkit: %s %s: %s; retrying in %.2f s", method, path, exc, delay)
                await self._sleep(delay)

    async def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
    ) -> httpx.Response:
        headers = {}
        if self._auth is not None:
            # Asked each time: a JWT is renewed as it nears expiry.
            headers["Authorization"] = self._auth.header()
        request = self._http.build_request(
            method, self._base + path, params=params, json=body, headers=headers
        )
        try:
            response = await self._http.send(request)
        except httpx.TransportError as exc:
            raise AccountsApiError.unreachable(exc, request) from exc
        if response.is_success:
            return response
        raise AccountsApiError.from_response(response, clock=self._clock)

    async def aclose(self) -> None:
        """Close the connection pool and the transport. Safe to call twice."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AccountsClient(url={self._base!r})"


def _require(name: str, value: str) -> None:
    if not value:
        raise ValueError(f"{name} must not be empty")


def _path(*segments: str) -> str:
    """A path under the base URL; ids are escaped, so no id can reach another endpoint."""
    for segment in segments:
        _require("external_id", segment)
    return "".join("/" + quote(segment, safe="") for segment in segments)


def _unexpected(response: httpx.Response, why: str) -> AccountsApiError:
    # The call succeeded (2xx) but the answer is not what the spec describes: not retryable.
    return AccountsApiError(
        status_code=response.status_code,
        title="Unexpected response",
        detail=f"{why}: {clip(response.text)!r}",
        request=response.request,
        response=response,
    )


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise _unexpected(response, "the answer is not a JSON object")
    return data


def _read(response: httpx.Response, item: object) -> ExternalAccount:
    try:
        return ExternalAccount.from_api(item)
    except ValueError as exc:
        raise _unexpected(response, str(exc)) from None


def _account(response: httpx.Response) -> ExternalAccount:
    return _read(response, _json_object(response))


def _items(page: dict[str, Any]) -> list[object]:
    """The accounts of one page: ``_embedded`` is a list in the spec; HAL's usual
    ``{"accounts": [...]}`` form is read too."""
    items = page.get("_embedded")
    if isinstance(items, dict):
        items = next((value for value in items.values() if isinstance(value, list)), [])
    return items if isinstance(items, list) else []


def _next_page(page: dict[str, Any], params: dict[str, str]) -> dict[str, str] | None:
    """The query of the next page, from the ``_links.next`` link, or None on the last page.

    Only the link's query is used, asked of the configured URL: the credentials go
    nowhere but there, whatever host the link names.
    """
    links = page.get("_links")
    follow = links.get("next") if isinstance(links, dict) else None
    href = follow.get("href") if isinstance(follow, dict) else None
    if not isinstance(href, str) or not href:
        return None
    try:
        query = httpx.URL(href).params
    except httpx.InvalidURL:
        return None
    if "page_number" not in query:
        return None
    return {**params, **dict(query.items())}
