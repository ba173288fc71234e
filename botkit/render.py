"""Render reply objects into Messages API request bodies for one channel and API version.

``render`` returns the bodies without addressing, the decisions taken (every downgrade,
split and SMS encoding, with its reason), the text menu shown when buttons were
downgraded, and any file botkit must serve. :func:`address` adds ``to``, ``from`` and the
channel the way each API version spells them.

Example:
    >>> from botkit.replies import Button, Buttons
    >>> out = render(Buttons("Size?", [Button("Small", "S"), Button("Large", "L")]), "sms")
    >>> out.bodies[0]["text"]
    'Size?\\n1. Small\\n2. Large\\nReply 1 or 2'
    >>> out.decisions
    ['buttons: SMS has no buttons -> numbered text menu', 'SMS: GSM-7, 1 segment']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botkit.capabilities import capabilities
from botkit.channels import channel as channel_spec
from botkit.errors import ConfigError
from botkit.options import MessageOptions, OptionsError, apply_options, check_options
from botkit.rendering.attachments import render_media_group, render_reaction, render_sticker
from botkit.rendering.buttons import render_buttons
from botkit.rendering.cards import render_card, render_carousel
from botkit.rendering.content import render_contact, render_location, render_media
from botkit.rendering.hints import menu_hint
from botkit.rendering.output import Out, Rendered
from botkit.rendering.templates import render_template
from botkit.replies import (
    Audio,
    Buttons,
    Card,
    Carousel,
    Contact,
    File,
    Image,
    Location,
    MediaGroup,
    Reaction,
    Reply,
    Sticker,
    Template,
    Text,
    Video,
)

__all__ = ["Rendered", "address", "menu_hint", "render"]


def _render_text(reply: Text, out: Out) -> None:
    out.text(reply.text)


_RENDERERS: dict[type[Any], Callable[[Any, Out], None]] = {
    Text: _render_text,
    Buttons: render_buttons,
    Card: render_card,
    Carousel: render_carousel,
    Location: render_location,
    Contact: render_contact,
    Image: render_media,
    Audio: render_media,
    Video: render_media,
    File: render_media,
    Template: render_template,
    Sticker: render_sticker,
    MediaGroup: render_media_group,
    Reaction: render_reaction,
}


def render(
    reply: Reply | str,
    channel: str,
    api_version: str = "v1",
    *,
    locale: str = "en",
    public_url: str | None = None,
    now: float = 0.0,
) -> Rendered:
    """Render ``reply`` for ``channel`` in the body format of ``api_version``.

    Args:
        reply: a reply object, or a string for :class:`~botkit.replies.Text`.
        channel: ``sms``, ``mms``, ``rcs``, ``whatsapp``, ``messenger`` or ``viber_service``.
        api_version: ``v1`` (flat bodies) or ``v0.1`` (nested bodies).
        locale: the language of the words a text menu adds (``Reply 1-3``).
        public_url: the bot's public base URL, for files it serves (the MMS vCard).
        now: the time stamped on a shown text menu (``ShownMenu.shown_at``).

    Raises:
        ConfigError: for an unknown channel or API version.
        OptionsError: the reply's ``options`` hold a value the channel refuses.
        TypeError: for something that is not a reply.
    """
    if isinstance(reply, str):
        reply = Text(reply)
    caps = capabilities(channel, api_version)
    renderer = _RENDERERS.get(type(reply))
    if renderer is None:
        renderer = next((_RENDERERS[c] for c in type(reply).__mro__ if c in _RENDERERS), None)
        if renderer is None:
            raise TypeError(f"cannot render {type(reply).__name__}; render takes a reply "
                            f"object (Text, Buttons, Card, Carousel, Location, Contact, media, "
                            f"Template, Sticker, MediaGroup, Reaction)")
    out = Out(caps, locale, public_url, now)
    if reply.options is not None and reply.options.encoding_type is not None:
        out.sms_encoding = reply.options.encoding_type
    renderer(reply, out)
    if reply.quote is not None and out.bodies:
        _quote(reply.quote, out)
    if reply.options is not None:
        _options(reply.options, out)
    return out.result()


def _quote(message_uuid: str, out: Out) -> None:
    if out.native("quote"):
        out.bodies[0]["context"] = {"message_uuid": message_uuid}
    else:
        out.decide(f"quote: {out.caps.why_not('quote', 'quoted replies')} -> sent without "
                   f"quoting")


def _options(options: MessageOptions, out: Out) -> None:
    """Check ``options`` against the channel and write the ones it takes into every body.

    Raises:
        OptionsError: a value the channel refuses.
    """
    caps = out.caps
    problems, dropped = check_options(options, caps.options, caps.label)
    if problems:
        raise OptionsError("; ".join(problems))
    if dropped:
        out.decide(f"options {', '.join(dropped)}: {caps.label} has no such field -> left out")
    for body in out.bodies:
        apply_options(body, options, caps.options, caps.options_key, nested=out.nested)


def address(
    body: dict[str, Any], *, channel: str, to: str, sender: str, api_version: str = "v1"
) -> dict[str, Any]:
    """Return ``body`` addressed from ``sender`` to ``to`` on ``channel``.

    v0.1 names some channels differently (Viber is ``viber_service_msg``) and addresses
    pages and PSIDs by ``id``: each channel's :class:`~botkit.channels.V01Naming` says how.

    Raises:
        ConfigError: for a channel that does not exist on ``api_version``.
    """
    if api_version == "v0.1":
        v01 = channel_spec(channel).v01
        if v01 is None:
            raise ConfigError(f"{channel} does not exist on the v0.1 API; use v1")
        return {"to": {"type": v01.name, v01.user_field: to},
                "from": {"type": v01.name, v01.bot_field: sender}, **body}
    return {"to": to, "from": sender, "channel": channel, **body}
