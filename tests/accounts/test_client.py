"""The async Python API (AccountsClient) against the fake External Accounts API over real
HTTP: request paths, methods, bodies and auth headers, and every documented error."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from botkit import AccountsApiError, AccountsClient, ConfigError, ExternalAccount, MessagesApiError
from botkit.auth import ApplicationJwtAuth, BasicAuth
from botkit.client import USER_AGENT
from botkit.retry import RetryPolicy
from botkit.settings import DEFAULT_ACCOUNTS_URL, Settings
from botkit.transports import TRANSPORT_KINDS, make_transport

from .conftest import APP, BASIC, OTHER_APP
from .fake_api import FORBIDDEN_CREDENTIALS, PREFIX, FakeAccountsApi, serve


class Sleeps:
    """Records the waits the client asks for instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(url: str, *, sleep: Sleeps | None = None, **options: Any) -> AccountsClient:
    return AccountsClient(auth=BasicAuth("key", "secret"), url=url, sleep=sleep, **options)


# -- requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", TRANSPORT_KINDS)
async def test_list_follows_every_page_with_basic_auth(
    fake: FakeAccountsApi, api_url: str, kind: str
) -> None:
    fake.add("whatsapp", "447700900111", name="Pizza Two")  # 4 accounts: 2 pages of 2
    async with client(api_url, transport=make_transport(kind)) as accounts:
        found = await accounts.list()
    assert [a.external_id for a in found] == [
        "447700900000",
        "112233445566",
        "16273",
        "447700900111",
    ]
    assert found[0] == ExternalAccount(
        "whatsapp", "447700900000", "Pizza Co", (APP,), api_key="key"
    )
    # The second page is asked of the fake although the link names api.nexmo.com: the
    # credentials go only to the configured URL.
    assert [(r.method, r.path, r.query) for r in fake.requests] == [
        ("GET", PREFIX, {"page_number": "1"}),
        ("GET", PREFIX, {"page_number": "2", "page_size": "2"}),
    ]
    for request in fake.requests:
        assert request.headers["Authorization"] == BASIC
        assert request.headers["Accept"] == "application/json"
        assert request.headers["User-Agent"] == USER_AGENT


async def test_list_filters_by_provider_on_every_page(fake: FakeAccountsApi, api_url: str) -> None:
    for number in ("1", "2", "3"):
        fake.add("messenger", f"9{number}")
    async with client(api_url) as accounts:
        found = await accounts.list(provider="messenger")
    assert {a.provider for a in found} == {"messenger"} and len(found) == 4
    assert [r.query.get("provider") for r in fake.requests] == ["messenger", "messenger"]


async def test_list_of_no_accounts(fake: FakeAccountsApi, api_url: str) -> None:
    fake.accounts.clear()
    async with client(api_url) as accounts:
        assert await accounts.list() == []


async def test_the_channel_name_of_viber_is_accepted_for_the_provider(
    fake: FakeAccountsApi, api_url: str
) -> None:
    async with client(api_url) as accounts:
        account = await accounts.get("viber_service", "16273")
    assert (account.provider, account.channel) == ("viber_service_msg", "viber_service")
    assert fake.requests[-1].path == f"{PREFIX}/viber_service_msg/16273"


async def test_an_unknown_provider_is_refused_before_any_request(
    fake: FakeAccountsApi, api_url: str
) -> None:
    async with client(api_url) as accounts:
        with pytest.raises(ValueError, match="unknown provider 'telegram'"):
            await accounts.list(provider="telegram")
        with pytest.raises(ValueError, match="unknown provider"):
            await accounts.get("sms", "1")
    assert fake.requests == []


@pytest.mark.parametrize(
    ("provider", "external_id"),
    [("whatsapp", "447700900000"), ("messenger", "112233445566"), ("viber_service_msg", "16273")],
)
async def test_get_each_provider(
    fake: FakeAccountsApi, api_url: str, provider: str, external_id: str
) -> None:
    async with client(api_url) as accounts:
        account = await accounts.get(provider, external_id)
    assert (account.provider, account.external_id) == (provider, external_id)
    assert (fake.requests[-1].method, fake.requests[-1].path) == (
        "GET",
        f"{PREFIX}/{provider}/{external_id}",
    )
    # The Messenger page token is kept on the object but never shown.
    assert ("page-token" in repr(account)) is False
    assert "access_token" not in account.to_json()
    assert (account.access_token == "page-token") is (provider == "messenger")


async def test_ids_are_escaped_into_one_path_segment(fake: FakeAccountsApi, api_url: str) -> None:
    async with client(api_url) as accounts:
        with pytest.raises(AccountsApiError) as caught:
            await accounts.get("whatsapp", "../messenger/112233445566")
    assert caught.value.status_code == 404
    assert fake.requests[-1].path == f"{PREFIX}/whatsapp/../messenger/112233445566"
    assert str(caught.value.request.url).endswith("/whatsapp/..%2Fmessenger%2F112233445566")


async def test_link_and_unlink(fake: FakeAccountsApi, api_url: str) -> None:
    async with client(api_url) as accounts:
        linked = await accounts.link("viber_service_msg", "16273", APP)
        assert linked.applications == (APP,) and linked.is_linked_to(APP)
        await accounts.unlink("viber_service_msg", "16273", APP)
    link, unlink = fake.requests
    assert (link.method, link.path, link.body) == (
        "POST",
        f"{PREFIX}/viber_service_msg/16273/applications",
        {"application": APP},
    )
    assert link.headers["Content-Type"] == "application/json"
    assert (unlink.method, unlink.path, unlink.body) == (
        "DELETE",
        f"{PREFIX}/viber_service_msg/16273/applications/{APP}",
        None,
    )
    assert fake.accounts["viber_service_msg", "16273"]["applications"] == []


async def test_messenger_create_update_delete(fake: FakeAccountsApi, api_url: str) -> None:
    async with client(api_url) as accounts:
        created = await accounts.create_messenger(
            "998877", "EAAG-token", name="New page", applications=[APP]
        )
        renamed = await accounts.update_messenger("998877", name="Renamed")
        cleared = await accounts.update_messenger(
            "998877", access_token="EAAG-new", applications=[]
        )
        await accounts.delete_messenger("998877")
    assert created == ExternalAccount(
        "messenger", "998877", "New page", (APP,), "key", access_token="EAAG-token"
    )
    assert renamed.name == "Renamed" and renamed.applications == (APP,)
    assert cleared.applications == () and cleared.access_token == "EAAG-new"
    assert [(r.method, r.path, r.body) for r in fake.requests] == [
        (
            "POST",
            f"{PREFIX}/messenger",
            {
                "external_id": "998877",
                "access_token": "EAAG-token",
                "name": "New page",
                "applications": [APP],
            },
        ),
        ("PATCH", f"{PREFIX}/messenger/998877", {"name": "Renamed"}),
        ("PATCH", f"{PREFIX}/messenger/998877", {"access_token": "EAAG-new", "applications": []}),
        ("DELETE", f"{PREFIX}/messenger/998877", None),
    ]
    assert ("messenger", "998877") not in fake.accounts


async def test_create_sends_only_the_required_fields_when_no_others_are_given(
    fake: FakeAccountsApi, api_url: str
) -> None:
    async with client(api_url) as accounts:
        await accounts.create_messenger("5", "tok")
    assert fake.requests[-1].body == {"external_id": "5", "access_token": "tok"}


async def test_update_with_nothing_to_change_sends_nothing(
    fake: FakeAccountsApi, api_url: str
) -> None:
    async with client(api_url) as accounts:
        with pytest.raises(ValueError, match="nothing to update"):
            await accounts.update_messenger("112233445566")
        with pytest.raises(ValueError, match="must not be empty"):
            await accounts.link("whatsapp", "447700900000", "")
    assert fake.requests == []


async def test_jwt_auth_carries_the_application_id(
    fake: FakeAccountsApi, api_url: str, pem: str, rsa_key: rsa.RSAPrivateKey
) -> None:
    async with AccountsClient(auth=ApplicationJwtAuth(APP, pem), url=api_url) as accounts:
        assert len(await accounts.list(provider="whatsapp")) == 1
    scheme, token = fake.requests[0].headers["Authorization"].split(" ")
    claims = jwt.decode(token, rsa_key.public_key(), algorithms=["RS256"])
    assert scheme == "Bearer" and claims["application_id"] == APP


async def test_from_settings_takes_the_url_and_the_credentials(
    fake: FakeAccountsApi, api_url: str, pem: str
) -> None:
    settings = Settings(application_id=APP, private_key=pem, accounts_url=api_url)
    async with AccountsClient.from_settings(settings) as accounts:
        assert accounts.url == api_url
        await accounts.get("whatsapp", "447700900000")
    assert fake.requests[0].headers["Authorization"].startswith("Bearer ")
    basic = Settings(api_key="key", api_secret="secret", accounts_url=api_url + "/")
    async with AccountsClient.from_settings(basic) as accounts:
        await accounts.get("whatsapp", "447700900000")
    assert fake.requests[1].headers["Authorization"] == BASIC
    assert fake.requests[1].path == f"{PREFIX}/whatsapp/447700900000"  # no double slash


def test_from_settings_without_credentials_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no Vonage credentials: set VONAGE_APPLICATION_ID"):
        AccountsClient.from_settings(Settings())


def test_the_default_url_is_the_spec_server() -> None:
    assert DEFAULT_ACCOUNTS_URL == "https://api.nexmo.com/beta/chatapp-accounts"
    assert Settings.from_env({}).accounts_url == DEFAULT_ACCOUNTS_URL
    env = {"VONAGE_ACCOUNTS_URL": "http://127.0.0.1:9/beta/chatapp-accounts"}
    assert Settings.from_env(env).accounts_url == env["VONAGE_ACCOUNTS_URL"]


# -- errors --------------------------------------------------------------------------------


async def refused(url: str, call: str, *args: Any, **kwargs: Any) -> AccountsApiError:
    async with client(url, retry_policy=RetryPolicy(max_attempts=1)) as accounts:
        with pytest.raises(AccountsApiError) as caught:
            await getattr(accounts, call)(*args, **kwargs)
    return caught.value


async def test_401_wrong_credentials(fake: FakeAccountsApi, api_url: str) -> None:
    async with AccountsClient(auth=BasicAuth("key", "wrong"), url=api_url) as accounts:
        with pytest.raises(AccountsApiError) as caught:
            await accounts.list()
    error = caught.value
    assert isinstance(error, MessagesApiError)  # one family of API errors
    assert (error.status_code, error.title) == (401, "Unauthorised")
    assert error.detail == "Request header 'Authorization' missing / Invalid Token"
    assert not error.retryable and len(fake.requests) == 1  # not retried
    assert str(error) == (
        "External Accounts API answered 401: Unauthorised - "
        "Request header 'Authorization' missing / Invalid Token"
    )


async def test_401_without_any_authorization_header(fake: FakeAccountsApi, api_url: str) -> None:
    async with AccountsClient(auth=None, url=api_url) as accounts:
        with pytest.raises(AccountsApiError, match="answered 401"):
            await accounts.get("whatsapp", "447700900000")
    assert "Authorization" not in fake.requests[0].headers


async def test_403_linking_an_application_that_is_not_there(
    fake: FakeAccountsApi, api_url: str
) -> None:
    error = await refused(api_url, "link", "viber_service_msg", "16273", "cccc-unknown")
    assert (error.status_code, error.title, error.detail) == (
        403,
        "Forbidden",
        "Cannot link application",
    )
    assert error.type == "https://www.nexmo.com/messages/Errors#Forbidden"


async def test_403_credentials_not_allowed(fake: FakeAccountsApi, api_url: str) -> None:
    fake.fail_next(403, FORBIDDEN_CREDENTIALS)
    error = await refused(api_url, "delete_messenger", "112233445566")
    assert error.status_code == 403 and error.title.startswith("Wrong authentication")


async def test_404_an_unknown_account_has_no_body(fake: FakeAccountsApi, api_url: str) -> None:
    error = await refused(api_url, "get", "whatsapp", "447700900999")
    assert (error.status_code, error.title, error.detail) == (404, "Not Found", None)
    for call, args in (
        ("update_messenger", ("404404",)),
        ("delete_messenger", ("404404",)),
        ("link", ("whatsapp", "1", APP)),
        ("unlink", ("whatsapp", "1", APP)),
    ):
        kwargs = {"name": "x"} if call == "update_messenger" else {}
        assert (await refused(api_url, call, *args, **kwargs)).status_code == 404


async def test_400_carries_the_invalid_params(fake: FakeAccountsApi, api_url: str) -> None:
    fake.fail_next(
        400,
        {
            "type": "https://www.nexmo.com/messages/Errors#InvalidParams",
            "title": "Your request parameters didn't validate.",
            "detail": "Found errors validating 1 of your submitted parameters.",
            "instance": None,
            "invalid_params": [{"name": "external_id", "reason": "Missing `external_id` field"}],
        },
    )
    error = await refused(api_url, "create_messenger", "1", "tok")
    assert error.invalid_parameters == [
        {"name": "external_id", "reason": "Missing `external_id` field"}
    ]
    assert error.instance is None
    assert str(error).endswith("[invalid: external_id (Missing `external_id` field)]")


async def test_422_with_invalid_parameters(fake: FakeAccountsApi, api_url: str) -> None:
    fake.fail_next(
        422,
        {
            "type": "https://developer.nexmo.com/api-errors#invalid-params",
            "title": "Invalid params",
            "detail": "The value of one or more parameters is invalid.",
            "instance": "bf0ca0bf-927b-3b52-e26b-2b9e3b2c3b7a",
            "invalid_parameters": [{"name": "name", "reason": "too long"}],
        },
    )
    error = await refused(api_url, "update_messenger", "112233445566", name="x" * 300)
    assert error.status_code == 422 and error.invalid_parameters == [
        {"name": "name", "reason": "too long"}
    ]
    assert error.instance == "bf0ca0bf-927b-3b52-e26b-2b9e3b2c3b7a"


async def test_409_a_second_application_and_unlinking_one_not_linked(
    fake: FakeAccountsApi, api_url: str
) -> None:
    error = await refused(api_url, "link", "messenger", "112233445566", APP)
    assert (error.status_code, error.title, error.detail) == (
        409,
        "Application conflict",
        "Unable to link application",
    )
    error = await refused(api_url, "unlink", "messenger", "112233445566", APP)
    assert (error.status_code, error.detail) == (409, "Unable to unlink application")
    assert fake.accounts["messenger", "112233445566"]["applications"] == [OTHER_APP]


async def test_429_is_retried_no_sooner_than_retry_after(
    fake: FakeAccountsApi, api_url: str
) -> None:
    sleeps = Sleeps()
    fake.faults.append((429, {"title": "Too Many Requests"}))
    async with client(api_url, sleep=sleeps) as accounts:
        # The fake sends no Retry-After; a POST is retried after a 429 (nothing was done).
        linked = await accounts.link("viber_service_msg", "16273", APP)
    assert linked.applications == (APP,)
    assert len(fake.requests) == 2 and len(sleeps.waits) == 1 and 0.25 <= sleeps.waits[0] <= 0.5


async def test_retry_after_is_honoured() -> None:
    answers = [
        httpx.Response(429, headers={"Retry-After": "3"}, json={"title": "Rate Limit Hit"}),
        httpx.Response(200, json={"_embedded": [], "page_number": 1}),
    ]
    sleeps = Sleeps()
    transport = httpx.MockTransport(lambda request: answers.pop(0))
    async with client(DEFAULT_ACCOUNTS_URL, sleep=sleeps, transport=transport) as accounts:
        assert await accounts.list() == []
    assert sleeps.waits == [3.0]


async def test_5xx_is_retried_for_a_read_but_not_for_a_link(
    fake: FakeAccountsApi, api_url: str
) -> None:
    sleeps = Sleeps()
    fake.fail_next(503, {"title": "Service Unavailable"})
    fake.fail_next(500)
    async with client(api_url, sleep=sleeps) as accounts:
        assert (await accounts.get("whatsapp", "447700900000")).name == "Pizza Co"
        assert len(fake.requests) == 3 and len(sleeps.waits) == 2
        fake.fail_next(503, {"title": "Service Unavailable"})
        with pytest.raises(AccountsApiError) as caught:
            await accounts.link("viber_service_msg", "16273", APP)
    # The link may have been made before the 503: it is not sent twice.
    assert caught.value.status_code == 503 and caught.value.retryable
    assert len(fake.requests) == 4 and len(sleeps.waits) == 2


async def test_retries_end_with_the_policy(fake: FakeAccountsApi, api_url: str) -> None:
    sleeps = Sleeps()
    for _ in range(5):
        fake.fail_next(502, {"title": "Bad Gateway"})
    async with client(api_url, sleep=sleeps) as accounts:
        with pytest.raises(AccountsApiError, match="answered 502: Bad Gateway"):
            await accounts.list()
    assert len(fake.requests) == 3  # the default policy: 3 attempts
    assert len(fake.faults) == 2


async def test_unreachable_is_status_0() -> None:
    sleeps = Sleeps()
    with serve(FakeAccountsApi()) as url:
        pass  # the port is free again: nothing listens there now
    async with client(url, sleep=sleeps) as accounts:
        with pytest.raises(AccountsApiError) as caught:
            await accounts.list()
    error = caught.value
    assert error.status_code == 0 and error.title == "Connection error" and error.retryable
    assert isinstance(error.__cause__, httpx.ConnectError)
    assert len(sleeps.waits) == 2


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"<html>ok</html>", "the answer is not a JSON object"),
        (b"[]", "the answer is not a JSON object"),
        (b'{"provider": "whatsapp"}', "an account needs a provider and an external_id"),
    ],
)
async def test_a_2xx_answer_that_is_not_an_account(content: bytes, why: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=content))
    async with client(DEFAULT_ACCOUNTS_URL, transport=transport) as accounts:
        with pytest.raises(AccountsApiError) as caught:
            await accounts.get("whatsapp", "1")
    assert caught.value.title == "Unexpected response" and why in str(caught.value)
    assert not caught.value.retryable


async def test_a_page_whose_next_link_repeats_itself_ends_the_listing() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url.params))
        page = {
            "_embedded": {"accounts": [{"provider": "whatsapp", "external_id": "1"}]},
            "_links": {"next": {"href": "https://elsewhere.example/x?page_number=1"}},
        }
        return httpx.Response(200, json=page)

    transport = httpx.MockTransport(answer)
    async with client(DEFAULT_ACCOUNTS_URL, transport=transport) as accounts:
        found = await accounts.list()
    # HAL's {"accounts": [...]} form is read too; page 1 is not asked twice.
    assert [a.external_id for a in found] == ["1"] and seen == ["page_number=1"]
