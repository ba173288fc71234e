"""The fake External Accounts API keeps to the spec (tests/fixtures/vonage/external-accounts.yml):
every request the client makes is an operation of the spec, and every answer the fake gives
has a status the spec documents for it and a body its schema accepts."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from botkit import AccountsApiError, AccountsClient
from botkit.auth import BasicAuth
from botkit.retry import RetryPolicy

from .conftest import APP
from .fake_api import PREFIX, FakeAccountsApi, Seen

SPEC_FILE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "vonage" / "external-accounts.yml"
)
SPEC: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text())
PROVIDER_SCHEMAS = {
    "messenger": "MessengerAccountResponse",
    "viber_service_msg": "VSMAccountResponse",
    "whatsapp": "WAAccountResponse",
}


def resolved(schema: Any) -> Any:
    """``schema`` with every ``$ref`` inlined, and ``example: null`` read as nullable (the
    spec's 400 body shows ``"instance": null`` for a string)."""
    if isinstance(schema, list):
        return [resolved(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        return resolved(SPEC["components"]["schemas"][name])
    out = {key: resolved(value) for key, value in schema.items()}
    if "example" in out and out["example"] is None and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def operation(seen: Seen) -> tuple[str, dict[str, Any]]:
    """The spec path and operation that a request the fake received is."""
    path = seen.path.removeprefix(PREFIX) or "/"  # the listing is the base URL itself
    for template, operations in SPEC["paths"].items():
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
        if re.fullmatch(pattern, path) and seen.method.lower() in operations:
            return template, operations[seen.method.lower()]
    raise AssertionError(f"{seen.method} {seen.path} is not an operation of the spec")


def check_answer(seen: Seen) -> None:
    template, op = operation(seen)
    documented = op["responses"]
    assert str(seen.status) in documented, f"{seen.method} {template} answered {seen.status}"
    content = documented[str(seen.status)].get("content")
    if content is None:
        assert seen.answer == b"", f"{seen.method} {template} {seen.status} has no body"
        return
    schema = resolved(content["application/json"]["schema"])
    body = json.loads(seen.answer)
    if template == "/" and seen.status == 200:
        # GetAllAccountResponse is an allOf of the three providers, which no WhatsApp or
        # Viber account can meet (it would need Messenger's access_token): each account is
        # checked against its own provider's schema instead.
        schema = copy.deepcopy(schema)
        schema["properties"]["_embedded"] = {"type": "array"}
        for account in body["_embedded"]:
            own = resolved(
                {"$ref": f"#/components/schemas/{PROVIDER_SCHEMAS[account['provider']]}"}
            )
            jsonschema.validate(account, own)
    jsonschema.validate(body, schema)


async def session(url: str, fake: FakeAccountsApi) -> None:
    """Every call of the client, with the answers the spec documents for each."""
    policy = RetryPolicy(max_attempts=1)
    async with AccountsClient(auth=BasicAuth("key", "secret"), url=url, retry_policy=policy) as c:
        await c.list()
        await c.list(provider="whatsapp")
        for provider, external_id in fake.accounts.copy():
            await c.get(provider, external_id)
        await c.link("viber_service_msg", "16273", APP)
        await c.unlink("viber_service_msg", "16273", APP)
        await c.create_messenger("998877", "tok", name="n", applications=[APP])
        await c.update_messenger("998877", name="m", applications=[])
        await c.delete_messenger("998877")
        refusals = [
            c.link("messenger", "112233445566", APP),  # 409: one application at most
            c.link("viber_service_msg", "16273", "no-such-app"),  # 403
            c.unlink("viber_service_msg", "16273", APP),  # 409: not linked
            c.create_messenger("112233445566", "tok"),  # 400: exists
            c.get("whatsapp", "1"),  # 404
            c.update_messenger("1", name="x"),  # 404
            c.delete_messenger("1"),  # 404
        ]
        for refusal in refusals:
            with pytest.raises(AccountsApiError):
                await refusal
    async with AccountsClient(auth=BasicAuth("key", "bad"), url=url, retry_policy=policy) as c:
        with pytest.raises(AccountsApiError):
            await c.list()  # 401


async def test_every_answer_of_the_fake_is_in_the_spec(fake: FakeAccountsApi, api_url: str) -> None:
    await session(api_url, fake)
    statuses = {seen.status for seen in fake.requests}
    assert statuses == {200, 201, 204, 400, 401, 403, 404, 409}
    for seen in fake.requests:
        check_answer(seen)


def test_the_spec_is_the_one_the_client_was_built_from() -> None:
    assert SPEC["info"]["version"] == "0.1.5"
    assert SPEC["servers"] == [{"url": "https://api.nexmo.com/beta/chatapp-accounts"}]
    schemes = SPEC["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer" and schemes["basicAuth"]["scheme"] == "basic"
    messenger = SPEC["paths"]["/messenger"]["post"]["requestBody"]["content"]["application/json"]
    assert set(messenger["schema"]["properties"]) == {
        "external_id",
        "access_token",
        "name",
        "applications",
    }
    patch = SPEC["paths"]["/messenger/{external_id}"]["patch"]["requestBody"]["content"]
    assert set(patch["application/json"]["schema"]["properties"]) == {
        "name",
        "applications",
        "access_token",
    }
