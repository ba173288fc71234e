"""A campaign file (``CAMPAIGN.yaml``): what a broadcast sends, from which numbers, at what price.

Example::

    name: spring-sale                 # the campaign in the store (letters, digits, . _ -)
    from: {sms: "447700900000", whatsapp: "447700900001"}
    messages:                         # per channel: a reply as data (docs/replies.md)
      whatsapp:
        template: {name: spring_sale, locale: en_GB, parameters: ["{{ name }}"],
                   fallback_text: "Hi {{1}}, 20% off all weekend."}
      sms: "Hi {{ name }}, 20% off all weekend. Reply STOP to opt out."
    prices: {sms: 0.0079, whatsapp: 0.0147}   # per message (SMS: per segment)
    currency: EUR

``message:`` (one reply for every channel) may stand for ``messages:``. Instead of a
message, ``flow: NAME`` (with ``state:``) starts that flow for each recipient with the
recipient's columns as its data; ``bot:`` names what serves the flows, as ``botkit run``
takes it. Every ``{{ column }}`` a message uses must be a column of the recipients file,
filled on every row; ``required: [column, ...]`` adds columns a flow needs.

Problems are reported all at once, each as ``path:line:column: message``; nothing is sent.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

from botkit.errors import ConfigError
from botkit.flows.yamlpos import Path as YamlPath
from botkit.flows.yamlpos import PositionIndex, parse_yaml
from botkit.routing import CHANNELS

__all__ = ["NAME_PATTERN", "Campaign", "CampaignError", "load_campaign"]

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""A campaign's name: it goes into every message's client_ref (``bc:NAME:LINE:N``)."""

_KEYS = frozenset({"name", "from", "message", "messages", "flow", "state", "bot", "prices",
                   "currency", "required"})
_ENV = SandboxedEnvironment()


class CampaignError(ConfigError):
    """A campaign or recipients file is wrong; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True, slots=True)
class Campaign:
    """A loaded campaign file.

    Attributes:
        name: the campaign's name in the store.
        senders: our address per channel (the channels the campaign sends on).
        messages: the reply as data per channel (empty for a flow campaign).
        flow, state: the flow started per recipient instead of a message.
        bot: the target serving the flows (``botkit run`` TARGET), if any.
        prices: the price of one message (SMS: one segment) per channel.
        currency: the prices' currency.
        columns: the columns every row must fill, per channel.
        source: the file's text, part of the campaign's fingerprint.
    """

    name: str
    senders: dict[str, str]
    messages: dict[str, Any] = field(default_factory=dict)
    flow: str | None = None
    state: str | None = None
    bot: str | None = None
    prices: dict[str, float] = field(default_factory=dict)
    currency: str = ""
    columns: dict[str, frozenset[str]] = field(default_factory=dict)
    source: str = ""

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels the campaign sends on, in botkit's channel order."""
        return tuple(c for c in CHANNELS if c in self.senders)

    def fingerprint(self, recipients: bytes) -> str:
        """What the store keeps to tell a resumed run from another campaign of this name."""
        digest = hashlib.sha256(self.source.encode())
        digest.update(b"\0")
        digest.update(recipients)
        return digest.hexdigest()[:32]


def _variables(value: Any) -> set[str]:
    """The names a reply as data refers to in its ``{{ }}`` templates."""
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return set()
        return set(meta.find_undeclared_variables(_ENV.parse(value)))
    if isinstance(value, Mapping):
        return set().union(*(_variables(v) for k, v in value.items() if k != "fallback_text"))
    if isinstance(value, list):
        return set().union(*(_variables(v) for v in value))
    return set()


class _Problems:
    def __init__(self, path: Path, index: PositionIndex) -> None:
        self.path, self.index, self.found = path, index, list[str]()

    def add(self, where: YamlPath, message: str, *, key: bool = False) -> None:
        found = self.index.location(where)
        position = found.key if key else found.value
        self.found.append(f"{self.path}:{position.line}:{position.column}: {message}")


def load_campaign(path: str | Path) -> Campaign:
    """Read and check a campaign file.

    Raises:
        CampaignError: every problem, as ``path:line:column: message``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignError([f"{path}: cannot read the campaign file ({exc})"]) from None
    data, index, yaml_problems = parse_yaml(text)
    problems = _Problems(path, index)
    for problem in yaml_problems:
        problems.found.append(f"{path}:{problem.position.line}:{problem.position.column}: "
                              f"{problem.message}")
    if problems.found:
        raise CampaignError(problems.found)
    if not isinstance(data, dict):
        raise CampaignError([f"{path}:1:1: a campaign file is a mapping (name:, from:, ...)"])
    for key in data:
        if key not in _KEYS:
            problems.add((key,), f"unknown key {key!r}; keys are {', '.join(sorted(_KEYS))}",
                         key=True)
    name = data.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        problems.add(("name",), "name: letters, digits, '.', '_' and '-', at most 64")
        name = ""
    senders = _senders(data.get("from"), problems)
    messages = _messages(data, senders, problems)
    flow, state = data.get("flow"), data.get("state")
    if flow is not None and not isinstance(flow, str):
        problems.add(("flow",), "flow: the name of a flow (its flow: key)")
    if state is not None and (flow is None or not isinstance(state, str)):
        problems.add(("state",), "state: a state of the flow named by flow:")
    if (flow is None) == (not messages) and not problems.found:
        problems.add((), "a campaign sends a message (message: or messages:) or starts a "
                         "flow (flow:), one of the two")
    required = data.get("required", [])
    if not isinstance(required, list) or not all(isinstance(c, str) for c in required):
        problems.add(("required",), "required: a list of column names")
        required = []
    prices = _prices(data.get("prices", {}), problems)
    currency = data.get("currency", "")
    if not isinstance(currency, str):
        problems.add(("currency",), "currency: a currency code such as EUR")
        currency = ""
    bot = data.get("bot")
    if bot is not None and not isinstance(bot, str):
        problems.add(("bot",), "bot: a flow file, a folder of flows or path/to/bot.py:attr")
        bot = None
    if problems.found:
        raise CampaignError(problems.found)
    columns = {
        channel: frozenset(required) | frozenset(_variables(messages.get(channel)))
        for channel in senders
    }
    return Campaign(name=name, senders=senders, messages=messages, flow=flow, state=state,
                    bot=bot, prices=prices, currency=currency, columns=columns, source=text)


def _senders(value: Any, problems: _Problems) -> dict[str, str]:
    if isinstance(value, str | int) and not isinstance(value, bool):
        problems.add(("from",), "from: our address per channel, e.g. {sms: \"447700900000\"}")
        return {}
    if not isinstance(value, dict) or not value:
        problems.add(("from",), "from: our address per channel, e.g. {sms: \"447700900000\"}")
        return {}
    senders = {}
    for channel, address in value.items():
        if channel not in CHANNELS:
            problems.add(("from", channel),
                         f"unknown channel {channel!r}; channels are {', '.join(CHANNELS)}",
                         key=True)
        elif not isinstance(address, str | int) or isinstance(address, bool) or not str(address):
            problems.add(("from", channel), f"from.{channel}: our number or id, as text")
        else:
            senders[channel] = str(address)
    return senders


def _messages(data: dict[str, Any], senders: dict[str, str], problems: _Problems
              ) -> dict[str, Any]:
    from botkit.replies import reply_from_data

    if "message" in data and "messages" in data:
        problems.add(("messages",), "message: (for every channel) or messages: (per channel), "
                                    "not both")
        return {}
    if "message" in data:
        given: dict[str, Any] = {channel: data["message"] for channel in senders}
        where: dict[str, YamlPath] = {channel: ("message",) for channel in senders}
    elif "messages" in data:
        raw = data["messages"]
        if not isinstance(raw, dict):
            problems.add(("messages",), "messages: a reply per channel")
            return {}
        given, where = dict(raw), {channel: ("messages", channel) for channel in raw}
        for channel in senders:
            if channel not in given:
                problems.add(("messages",), f"messages: nothing for {channel} (from: has it)")
        for channel in given:
            if channel not in senders:
                problems.add(("messages", channel), f"messages.{channel}: from: has no "
                                                    f"{channel} address")
    else:
        return {}
    for channel, reply in given.items():
        try:
            texts = _templates(reply)
            for text in texts:
                _ENV.parse(text)
            if not any("{{" in t or "{%" in t for t in texts):
                reply_from_data(reply)  # templated ones are checked row by row
        except jinja2.TemplateSyntaxError as exc:
            problems.add(where[channel], f"a template does not parse: {exc.message}")
        except ValueError as exc:
            problems.add(where[channel], str(exc))
    return given


def _templates(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _templates(v)]
    if isinstance(value, list):
        return [t for v in value for t in _templates(v)]
    return []


def _prices(value: Any, problems: _Problems) -> dict[str, float]:
    if not isinstance(value, dict):
        problems.add(("prices",), "prices: a price per channel, e.g. {sms: 0.0079}")
        return {}
    prices = {}
    for channel, price in value.items():
        if channel not in CHANNELS:
            problems.add(("prices", channel), f"unknown channel {channel!r}", key=True)
        elif not isinstance(price, int | float) or isinstance(price, bool) or price < 0:
            problems.add(("prices", channel), f"prices.{channel}: a number >= 0")
        else:
            prices[channel] = float(price)
    return prices
