"""No valid delivery is lost: every webhook Vonage's own schemas allow is answered 200.

Bodies are generated (hypothesis-jsonschema) from every inbound and status schema of the
Messages API OpenAPI descriptions in ``tests/fixtures/vonage`` (v1 1.4.0 and v0.1 0.5.0:
each channel and message type is its own schema) and posted to the bot's real webhook
routes. Each must be answered 200 and reach ``on_message`` / ``on_status`` once (a body
whose ``message_uuid`` another one already used is a redelivery, handled once).

Two things the schemas say in words are kept: a ``timestamp`` is ISO 8601 (v0.1 names
that format, v1 says it in the description), and a ``url`` format is a URL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from botkit import Bot, Context
from botkit.events import parse_body
from botkit.testing import BotTestClient

from .reference import VONAGE

Json = dict[str, Any]


class _Loader(yaml.SafeLoader):
    """YAML without implicit dates: the schemas' ``example: 2020-01-01T14:00:00.000Z``
    must stay a string."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load(name: str) -> Json:
    with (VONAGE / name).open(encoding="utf-8") as handle:
        loaded: Json = yaml.load(handle, Loader=_Loader)
    return loaded


def _resolve(node: Any, doc: Json, seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every local ``$ref`` replaced by what it points at."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            target: Any = doc
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
            assert ref not in seen, f"recursive schema at {ref}"
            return _resolve(target, doc, (*seen, ref))
        resolved = {key: _resolve(value, doc, seen) for key, value in node.items()}
        properties = resolved.get("properties")
        if isinstance(properties, dict):
            stamp = properties.get("timestamp")
            if isinstance(stamp, dict) and stamp.get("type") == "string":
                properties["timestamp"] = {**stamp, "format": "ISO 8601"}
        return resolved
    if isinstance(node, list):
        return [_resolve(value, doc, seen) for value in node]
    return node


def _leaves(schema: Json, path: str) -> Iterator[tuple[str, Json]]:
    """One schema per channel and message type: the branches of nested ``oneOf`` lists."""
    if "oneOf" in schema and "allOf" not in schema and "properties" not in schema:
        for index, branch in enumerate(schema["oneOf"]):
            yield from _leaves(branch, f"{path}/{branch.get('title', index)}")
    else:
        yield path, schema


def _request_schema(operation: Json) -> Json:
    schema: Json = operation["post"]["requestBody"]["content"]["application/json"]["schema"]
    return schema


def _schemas() -> list[Any]:
    cases = []
    for name, version in (("messages-olympus.yml", "v1"), ("messages-olympus.v0.yml", "v0.1")):
        doc = _load(name)
        inbound = doc["x-webhooks"]["inbound-message"]["{$request.body#/callback}"]
        status = next(
            callback["message-status"]["{$request.body#/callback}"]
            for path in doc["paths"].values()
            for operation in path.values()
            if isinstance(operation, dict)
            for callback in [operation.get("callbacks", {})]
            if "message-status" in callback
        )
        for route, operation in (("inbound", inbound), ("status", status)):
            schema = _resolve(_request_schema(operation), doc)
            for path, leaf in _leaves(schema, f"{version}-{route}"):
                cases.append(pytest.param(leaf, route == "status", id=path.replace(" ", "_")))
    return cases


SCHEMAS = _schemas()

_OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))])
FORMATS = {
    # Vonage sends "2020-01-01T14:00:00.000Z"; any ISO 8601 date-time with an offset is one.
    "ISO 8601": st.builds(
        lambda moment, millis: (
            moment.isoformat(timespec="milliseconds" if millis else "seconds")
            .replace("+00:00", "Z")
        ),
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=_OFFSETS),
        st.booleans(),
    ),
    "url": st.sampled_from([
        "https://api-eu.vonage.com/v3/media/1b456509-974c-458b-aafa-45fc48a4d976",
        "https://example.com/a.jpg",
    ]),
}

EXAMPLES_PER_SCHEMA = 12


def _generated(schema: Json) -> list[Json]:
    """``EXAMPLES_PER_SCHEMA`` bodies the schema allows, the same ones on every run."""
    found: list[Json] = []

    @settings(max_examples=EXAMPLES_PER_SCHEMA, derandomize=True, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck), deadline=None)
    @given(from_schema(schema, custom_formats=FORMATS))
    def collect(body: Json) -> None:
        found.append(body)

    collect()
    return found


def test_every_inbound_and_status_schema_is_covered() -> None:
    ids = [case.id for case in SCHEMAS]
    # v1: SMS, 5 MMS, 9 WhatsApp, 6 Messenger, 4 Viber; v0.1: 17 inbound; a status each.
    assert sum(i.startswith("v1-inbound") for i in ids) == 25
    assert sum(i.startswith("v1-status") for i in ids) == 5
    assert sum(i.startswith("v0.1-inbound") for i in ids) == 17
    assert sum(i.startswith("v0.1-status") for i in ids) == 1


@pytest.mark.parametrize(("schema", "status"), SCHEMAS)
async def test_every_webhook_the_schema_allows_is_accepted_and_delivered(
    make_bot: Callable[..., Bot], tmp_path: Path, schema: Json, status: bool
) -> None:
    bodies = _generated(schema)
    assert len(bodies) >= 8, "the schema should allow many bodies"
    bot = make_bot(store="memory://")
    seen: list[str] = []

    @bot.on_message()
    async def message(ctx: Context) -> None:
        seen.append(ctx.event.dedupe_key)

    @bot.on_status()
    async def status_update(ctx: Context) -> None:
        seen.append(ctx.event.dedupe_key)

    async with BotTestClient(bot) as client:
        route = "/webhooks/status" if status else "/webhooks/inbound"
        for body in bodies:
            response = await client.post(route, body)
            assert response.status_code == 200, (
                f"{response.status_code} {response.text} for {json.dumps(body)}")
        await bot.idle()
    # Each delivery reached its handler once; a repeated id was taken as a redelivery.
    expected = {parse_body(json.dumps(body).encode(), status=status).dedupe_key
                for body in bodies}
    assert sorted(seen) == sorted(expected)
    assert bot.metrics["accepted"] == len(expected)
