"""``botkit preview``: how a reply looks on every channel, before any message is sent.

For each channel: what the user reads, the exact request body (addressed to sample
numbers) and every decision the renderer took (downgrades, splits, SMS encoding).

Example:
    >>> print(preview("Hello!", channels=["sms"]))  # doctest: +ELLIPSIS
    === SMS (v1) ===
    The user reads:
      Hello!
    ...
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from botkit._rich_seen import card_view, carousel_view, chips_view
from botkit.capabilities import CAPABILITIES, CHANNEL_LABELS, capabilities
from botkit.channels import CHANNELS
from botkit.channels import channel as channel_spec
from botkit.errors import BotkitError
from botkit.failover import FailoverError, failover_steps, with_failover
from botkit.options import OptionsError
from botkit.render import Rendered, address, render
from botkit.replies import Reply, replies_from_data
from botkit.store.base import ConversationKey

__all__ = ["PREVIEW_PUBLIC_URL", "main_preview", "preview", "user_view"]

PREVIEW_PUBLIC_URL = "https://bot.example.com"
"""The public URL a preview pretends the bot has (for the MMS vCard link)."""

_ENVELOPE = {"to", "from", "channel", "message_type", "client_ref", "webhook_url",
             "webhook_version", "ttl", "trusted_recipient", "context", "failover",
             "suggestions"}


def _content(body: dict[str, Any]) -> tuple[str, Any, dict[str, Any]]:
    """(message type, content, channel options) of a v1 or v0.1 body."""
    if "message" in body:
        message = body["message"]
        kind = message["content"]["type"]
        options = {k: v for k, v in message.items() if k != "content"}
        return kind, message["content"][kind], options
    kind = body["message_type"]
    options = {k: v for k, v in body.items() if k not in _ENVELOPE and k != kind}
    return kind, body[kind], options


def _parameter_value(parameter: dict[str, Any]) -> str:
    """A template parameter as the user reads it (a currency or a date: its fallback)."""
    for key in ("text", "payload"):
        if isinstance(parameter.get(key), str):
            return str(parameter[key])
    for key in ("currency", "date_time"):
        if isinstance(parameter.get(key), dict) and "fallback_value" in parameter[key]:
            return str(parameter[key]["fallback_value"])
    return json.dumps(parameter, ensure_ascii=False)


def _template_view(template: dict[str, Any]) -> str:
    """``[template NAME] values``, then the header media and the buttons, one line each."""
    components = template.get("components", [])
    values = [_parameter_value(p) for c in components if c.get("type") == "body"
              for p in c.get("parameters", [])]
    lines = [f"[template {template['name']}] " + ", ".join(values)]
    for component in components:
        if component.get("type") != "header":
            continue
        for parameter in component.get("parameters", []):
            kind = parameter.get("type", "?")
            media = parameter.get(kind) if isinstance(parameter.get(kind), dict) else {}
            lines.append(f"[{kind}] {media.get('link') or media.get('id') or ''}".rstrip())
    buttons = []
    for component in components:
        if component.get("type") != "button":
            continue
        value = ", ".join(_parameter_value(p) for p in component.get("parameters", []))
        if component.get("sub_type") == "quick_reply":
            buttons.append(f"[ {value} ]")
        elif values == [value]:  # an authentication template: the code fills both
            buttons.append(f"[ Copy code {value} ]")
        else:
            buttons.append(f"[ URL .../{value} ]")
    if buttons:
        lines.append("  ".join(buttons))
    return "\n".join(lines)


def _custom_view(custom: dict[str, Any]) -> str:
    if custom.get("type") == "template":
        return _template_view(custom["template"])
    if custom.get("type") == "contacts":
        cards = []
        for c in custom["contacts"]:
            lines = [c["name"]["formatted_name"], *(p["phone"] for p in c.get("phones", [])),
                     *(e["email"] for e in c.get("emails", []))]
            cards.append("[contact] " + ", ".join(lines))
        return "\n".join(cards)
    interactive = custom.get("interactive", {})
    body: str = interactive.get("body", {}).get("text", "")
    action = interactive.get("action", {})
    if interactive.get("type") == "button":
        return body + "\n" + "  ".join(f"[ {b['reply']['title']} ]" for b in action["buttons"])
    if interactive.get("type") == "list":
        rows = [row for section in action["sections"] for row in section["rows"]]
        lines = [f"  - {r['title']}" + (f" ({r['description']})" if "description" in r else "")
                 for r in rows]
        return "\n".join([body, f"[ {action['button']} ] opens:", *lines])
    return json.dumps(custom, ensure_ascii=False)


def _special_view(kind: str, value: Any) -> str | None:
    """What a reaction, sticker or media group looks like, else None."""
    if kind == "reaction":
        return f"[reaction] {value.get('emoji', '(removed)')}"
    if kind == "sticker":
        return f"[sticker] {value.get('url') or value.get('id')}"
    if kind == "content":
        return "\n".join(f"[{item['type']}] {item['url']}" + (
            f"\n{item['caption']}" if "caption" in item else "") for item in value)
    return None


def user_view(body: dict[str, Any]) -> str:
    """Roughly what the user sees for one request body (v1 or v0.1).

    Suggestion chips follow their text (``[ Yes ]  [ No ]``; an action chip says where it
    leads: ``[ Call us -> call 447900000000 ]``); a rich card is its media, title, text
    and chips; a carousel each card in turn.
    """
    kind, value, options = _content(body)
    suggestions = body.get("suggestions")  # v1 only: RCS has no v0.1 form
    chips = suggestions if isinstance(suggestions, list) else None
    special = _special_view(kind, value)
    if special is not None:
        out = special
    elif kind == "text":
        out = str(value)
    elif kind == "card":
        out = "[card] " + card_view(value)
    elif kind == "carousel":
        out, chips = carousel_view(value, chips or ()), None
    elif kind == "custom":
        out = _custom_view(value)
    elif kind == "location":
        lat, lon = value.get("lat", value.get("latitude")), value.get("long",
                                                                      value.get("longitude"))
        where = ", ".join(str(value[k]) for k in ("name", "address") if k in value)
        out = f"[location] {where + ' ' if where else ''}({lat}, {lon})"
    elif kind == "template":
        out = f"[template {value['name']}] " + ", ".join(value.get("parameters", []))
    elif "url" not in value:
        out = f"[{kind}] " + json.dumps(value, ensure_ascii=False)
    elif kind == "vcard":
        out = f"[contact card] {value['url']}"
    else:
        out = f"[{kind}] {value['url']}" + (f" ({value['name']})" if "name" in value else "")
        if "caption" in value:
            out += "\n" + value["caption"]
    for channel_options in options.values():
        action = channel_options.get("action") if isinstance(channel_options, dict) else None
        if action:
            out += f"\n[ {action['text']} ] -> {action['url']}"
    if chips:
        out += "\n" + chips_view(chips)
    return out.rstrip()


def _indent(text: str) -> str:
    return "\n".join("  " + line if line else "" for line in text.splitlines())


_SAMPLE_SENDERS = {name: channel_spec(name).sample_bot for name in CHANNELS}
"""Each channel's sample sender, which a failover step to that channel comes from."""


@dataclass(frozen=True, slots=True)
class _Shown:
    """One reply on one channel: rendered (failover steps attached), or why it cannot be."""

    rendered: Rendered | None
    options: list[str]
    refused: str | None = None


def _options_view(reply: Reply, channel: str, api_version: str) -> list[str]:
    """``name = value`` for each option the channel takes, saying where a nested one goes."""
    if reply.options is None:
        return []
    caps = capabilities(channel, api_version)
    lines = []
    for name, value in reply.options.given():
        rule = caps.options.get(name)
        if rule is not None:
            where = f" (in {caps.options_key})" if rule.nested else ""
            lines.append(f"{name} = {json.dumps(value, ensure_ascii=False)}{where}")
    return lines


def _show(reply: Reply, channel: str, api_version: str, locale: str) -> _Shown:
    """Render ``reply`` as ``ctx.reply`` would on ``channel``, failover included."""
    try:
        rendered = render(reply, channel, api_version, locale=locale,
                          public_url=PREVIEW_PUBLIC_URL)
        if reply.failover and api_version != "v1":
            rendered.decisions.append(f"failover: the {api_version} API has none -> sent "
                                      f"without")
        elif reply.failover:
            spec = channel_spec(channel)
            steps = failover_steps(reply, ConversationKey(channel, spec.sample_user,
                                                          spec.sample_bot),
                                   _SAMPLE_SENDERS, locale=locale,
                                   public_url=PREVIEW_PUBLIC_URL, now=0.0)
            with_failover(rendered.bodies, steps, channel)
            rendered.decisions.extend(d for step in steps for d in step.decisions)
    except (FailoverError, OptionsError) as exc:
        return _Shown(None, [], f"{type(exc).__name__}: {exc}")
    return _Shown(rendered, _options_view(reply, channel, api_version))


def _failover_view(body: dict[str, Any]) -> list[str]:
    """What each failover step's user reads, should the message before it be rejected."""
    lines = []
    for step in body.get("failover") or ():
        label = CHANNEL_LABELS.get(step.get("channel"), step.get("channel"))
        lines.append(f"If it is rejected, {label} ({step.get('to')} from {step.get('from')}) "
                     f"reads:")
        lines.append(_indent(user_view(step)))
    return lines


def _section(channel: str, api_version: str, shown: Sequence[_Shown]) -> str:
    rendered = [s.rendered for s in shown if s.rendered is not None]
    bodies = [b for r in rendered for b in r.bodies]
    spec = channel_spec(channel)
    addressed = [address(b, channel=channel, to=spec.sample_user, sender=spec.sample_bot,
                         api_version=api_version) for b in bodies]
    lines = [f"=== {CHANNEL_LABELS[channel]} ({api_version}) ==="]
    lines += [f"Not sent: {s.refused} (ctx.reply raises it)" for s in shown if s.refused]
    if not bodies:
        return "\n".join(lines)
    lines.append("The user reads:")
    for i, body in enumerate(addressed):
        if len(bodies) > 1:
            lines.append(f"  -- message {i + 1} of {len(bodies)} --")
        lines.append(_indent(user_view(body)))
        lines += [_indent(line) for line in _failover_view(body)]
    options = [line for s in shown for line in s.options]
    if options:
        lines.append("Options:")
        lines += [f"  {line}" for line in options]
    lines.append("Request body:" if len(bodies) == 1 else "Request bodies:")
    lines += [_indent(json.dumps(body, indent=2, ensure_ascii=False)) for body in addressed]
    decisions = [d for r in rendered for d in r.decisions]
    lines.append("Decisions:" if decisions else "Decisions: none (sent natively)")
    lines += [f"  - {d}" for d in decisions]
    for r in rendered:
        for file_id, (content_type, data) in r.files.items():
            lines.append(f"Serves /vcards/{file_id}.vcf ({content_type}):")
            lines.append(_indent(data.decode("utf-8")))
    return "\n".join(lines)


def preview(
    reply_data: dict[str, Any] | list[Any] | str,
    channels: Iterable[str] | None = None,
    api_version: str = "v1",
    locale: str = "en",
) -> str:
    """Render a reply given as data on each channel and describe the result.

    Args:
        reply_data: one reply or a list, as :func:`botkit.replies.reply_from_data` reads.
        channels: the channels to show; by default every channel of ``api_version``.
        api_version: ``v1`` or ``v0.1``.
        locale: the language of a text menu's hint.

    Raises:
        ValueError: the data is not a valid reply (the message names the key).
        ConfigError: an unknown channel or API version.
    """
    replies = replies_from_data(reply_data)
    chosen = list(channels or [c for c in CHANNELS if (api_version, c) in CAPABILITIES])
    for channel in chosen:
        capabilities(channel, api_version)  # an unknown channel or version fails first
    sections = []
    for channel in chosen:
        shown = [_show(r, channel, api_version, locale) for r in replies]
        sections.append(_section(channel, api_version, shown))
    return "\n\n".join(sections) + "\n"


def main_preview(path: str, channel: str | None, api_version: str) -> int:
    """``botkit preview FILE [--channel X]``: print the preview of the replies in a YAML/JSON
    file: one reply, a list of replies, or several YAML documents (``---`` between them),
    sent in that order as one turn.

    Returns:
        0 on success; 1 when the file cannot be read or holds no valid reply; 2 for an
        unknown channel or API version.
    """
    try:
        documents = [d for d in yaml.safe_load_all(Path(path).read_text(encoding="utf-8"))
                     if d is not None]
    except (OSError, yaml.YAMLError) as exc:
        print(f"botkit preview: {path}: {exc}", file=sys.stderr)
        return 1
    if not documents:
        print(f"botkit preview: {path}: the file holds no reply", file=sys.stderr)
        return 1
    # One document stays as it is (a reply or a list); several are the turn's replies.
    data: Any = documents[0] if len(documents) == 1 else [
        reply for d in documents for reply in (d if isinstance(d, list) else [d])]
    try:
        text = preview(data, [channel] if channel else None, api_version)
    except BotkitError as exc:
        print(f"botkit preview: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"botkit preview: {path}: {exc}", file=sys.stderr)
        return 1
    print(text, end="")
    return 0
