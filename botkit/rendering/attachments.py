"""Render :class:`~botkit.replies.Sticker`, :class:`~botkit.replies.MediaGroup` and
:class:`~botkit.replies.Reaction`.

* A sticker is native on WhatsApp (by URL or id); elsewhere a sticker with a URL is an
  image, and one known only by its WhatsApp id is left out, with a decision.
* A media group is one MMS ``content`` message (each item with its caption); elsewhere,
  one message per item as that channel shows media.
* A reaction is native on WhatsApp (``reaction`` with the reacted message as
  ``context``; an empty emoji takes it back); elsewhere nothing is sent, with a decision.
"""

from __future__ import annotations

from typing import Any

from botkit.rendering.content import render_media
from botkit.rendering.output import Out
from botkit.replies import Image, MediaGroup, Reaction, Sticker

__all__ = ["render_media_group", "render_reaction", "render_sticker"]


def render_sticker(reply: Sticker, out: Out) -> None:
    """A native sticker, or its image, or nothing (see the module docstring)."""
    if out.native("sticker"):
        out.body("sticker", {"url": reply.url} if reply.url else {"id": reply.id})
        return
    why = out.caps.why_not("sticker", "stickers")
    if reply.url is None:
        out.decide(f"sticker {reply.id!r}: {why}, and a sticker id has no picture to send "
                   f"instead -> not sent")
        return
    out.decide(f"sticker: {why} -> image")
    render_media(Image.model_construct(url=reply.url, caption=None, name=None), out)


def render_media_group(reply: MediaGroup, out: Out) -> None:
    """One ``content`` message, or one message per item."""
    caps = out.caps
    kinds = {item.kind for item in reply.items}
    fits = (out.native("media_group") and len(reply.items) <= caps.media_group_max
            and all(out.native(kind) for kind in kinds))
    if not fits:
        why = (caps.why_not("media_group", "multi-attachment messages")
               if not out.native("media_group") else
               f"{len(reply.items)} items > {caps.media_group_max} in one {caps.label} "
               f"message")
        out.decide(f"media group: {why} -> one message per item")
        for item in reply.items:
            render_media(item, out)
        return
    content: list[dict[str, Any]] = []
    for item in reply.items:
        entry: dict[str, Any] = {"type": item.kind, "url": item.url}
        if item.caption:
            if len(item.caption) > caps.caption_max:
                out.decide(f"caption of {len(item.caption)} characters > {caps.caption_max} "
                           f"-> left out of the media group")
            else:
                entry["caption"] = item.caption
        content.append(entry)
    out.bodies.append({"message_type": "content", "content": content})


def render_reaction(reply: Reaction, out: Out) -> None:
    """A native reaction, or nothing (see the module docstring)."""
    if reply.to is None:
        raise ValueError("a Reaction needs to= (the message_uuid it reacts to) outside a "
                         "handler of that message")
    if not out.native("reaction"):
        out.decide(f"reaction: {out.caps.why_not('reaction', 'reactions')} -> not sent")
        return
    reaction = ({"action": "react", "emoji": reply.emoji} if reply.emoji
                else {"action": "unreact"})
    body = out.body("reaction", reaction)
    body["context"] = {"message_uuid": reply.to}
