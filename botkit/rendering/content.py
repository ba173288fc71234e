"""Render locations, contacts, media and templates: native where the table says so.

Downgrades, all plain text a user can act on:

* Location: its name, its address and a map link with the coordinates (on RCS, the name
  and address with a chip that opens the map).
* Contact: a text card (name, organisation, phones, emails); on MMS a vCard botkit serves.
* Media: the caption, then the link (``name: url`` when the file has a name).
"""

from __future__ import annotations

import secrets
from typing import Any

from botkit.rendering.output import Out
from botkit.rendering.suggestions import view_location
from botkit.rendering.text import coordinate, shorten
from botkit.rendering.vcard import vcard
from botkit.replies import Contact, Location, Media, Video

__all__ = ["MAP_URL", "link_text", "render_contact", "render_location", "render_media"]

MAP_URL = "https://maps.google.com/?q={lat},{lon}"
"""The map link of a downgraded location."""


def render_location(reply: Location, out: Out) -> None:
    """A native location, or name, address and map link as text."""
    lat, lon = coordinate(reply.latitude), coordinate(reply.longitude)
    if out.native("location"):
        # v1 takes numbers named lat/long; v0.1 (inbound) names them in full, as strings.
        content: dict[str, Any] = (
            {"latitude": lat, "longitude": lon} if out.nested
            else {"lat": reply.latitude, "long": reply.longitude})
        if reply.name:
            content["name"] = reply.name
        if reply.address:
            content["address"] = reply.address
        out.body("location", content)
        return
    if out.native("chips"):
        # RCS has no location message, but a chip opens the place on the phone's map.
        out.decide(f"location: {out.caps.why_not('location', 'native location')} -> text "
                   f"with a view-location chip")
        text = "\n".join([line for line in (reply.name, reply.address) if line])
        body = out.body("text", shorten(text or f"{lat}, {lon}", out.caps.text_max))
        body["suggestions"] = [view_location(reply, out)]
        return
    out.decide(f"location: {out.caps.why_not('location', 'native location')} -> text with "
               f"a map link")
    lines = [reply.name, reply.address, MAP_URL.format(lat=lat, lon=lon)]
    out.text("\n".join([line for line in lines if line]), what="location")


def _contact_card(reply: Contact) -> str:
    return "\n".join(line for line in (reply.name, reply.org, *reply.phones, *reply.emails)
                     if line)


def _whatsapp_contact(reply: Contact) -> dict[str, Any]:
    # WhatsApp wants a formatted name plus at least one part of it.
    given, _, family = reply.name.partition(" ")
    name = {"formatted_name": reply.name, "first_name": given}
    if family:
        name["last_name"] = family
    contact: dict[str, Any] = {"name": name}
    if reply.phones:
        contact["phones"] = [{"phone": p} for p in reply.phones]
    if reply.emails:
        contact["emails"] = [{"email": e} for e in reply.emails]
    if reply.org:
        contact["org"] = {"company": reply.org}
    return {"type": "contacts", "contacts": [contact]}


def render_contact(reply: Contact, out: Out) -> None:
    """WhatsApp contacts, an MMS vCard served by botkit, or a text card."""
    if out.native("contacts"):
        out.body("custom", _whatsapp_contact(reply))
        return
    if out.native("vcard"):
        if out.public_url:
            file_id = secrets.token_urlsafe(16)
            out.files[file_id] = ("text/vcard", vcard(reply))
            url = f"{out.public_url.rstrip('/')}/vcards/{file_id}.vcf"
            out.body("vcard", {"url": url})
            out.decide(f"contact -> vCard served at {url}")
            return
        out.decide(f"contact: a {out.caps.label} vCard needs the bot's public URL to serve "
                   f"the .vcf (set BOTKIT_PUBLIC_URL) -> text card")
    else:
        out.decide(f"contact: {out.caps.why_not('contacts', 'contact cards')} -> text card")
    out.text(_contact_card(reply), what="contact card")


def link_text(reply: Media) -> str:
    """A media item as text: its caption, then ``name: url`` (or the bare URL)."""
    link = f"{reply.name}: {reply.url}" if reply.name else reply.url
    return f"{reply.caption}\n{link}" if reply.caption else link


def _video_options(reply: Video, out: Out) -> dict[str, Any] | str:
    """Viber's video options, or why the video cannot be native."""
    caps = out.caps
    missing = sorted(f for f in caps.video_requires if getattr(reply, f) is None)
    if missing:
        return f"a {caps.label} video needs {', '.join(missing)}"
    assert reply.duration is not None and reply.size_mb is not None and reply.thumb_url
    if (reply.duration > caps.video_duration_max or reply.size_mb > caps.video_size_mb_max
            or len(reply.thumb_url) > caps.thumb_url_max):
        return (f"a {caps.label} video lasts at most {caps.video_duration_max} s and "
                f"weighs at most {caps.video_size_mb_max} MB")
    return {"duration": str(reply.duration), "file_size": str(reply.size_mb)}


def _file_name(name: str, limit: int) -> str:
    # Keep the extension: Viber shows the name and uses it to pick an icon.
    if limit == 0 or len(name) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) + 2 > limit // 2:
        return shorten(name, limit)
    return shorten(stem, limit - len(ext) - 1) + "." + ext


def render_media(reply: Media, out: Out, *, caption: str | None = None) -> None:
    """A native image, audio, video or file where the channel has it, else caption + link.

    ``caption`` replaces the reply's own (a card's title and text riding on its image).
    """
    caps, kind = out.caps, reply.kind
    caption = caption or reply.caption
    options: dict[str, Any] | None = None
    if not out.native(kind):
        out.decide(f"{kind}: {caps.why_not(kind, f'{kind} messages')} -> caption + link")
        out.text(link_text(reply), what=f"{kind} link")
        return
    content: dict[str, Any] = {"url": reply.url}
    if isinstance(reply, Video) and caps.video_requires:
        found = _video_options(reply, out)
        if isinstance(found, str):
            out.decide(f"video: {found} -> caption + link")
            out.text(link_text(reply), what="video link")
            return
        options, content["thumb_url"] = found, reply.thumb_url
    caption_text = None
    if caption:
        if kind not in caps.captions:
            out.decide(f"caption: {caps.label} {kind} messages have none -> sent as text after "
                       f"the {kind}")
            caption_text = caption
        elif len(caption) > caps.caption_max:
            out.decide(f"caption of {len(caption)} characters > {caps.caption_max} on "
                       f"{caps.label} -> sent as text after the {kind}")
            caption_text = caption
        else:
            content["caption"] = caption
    if reply.name and kind == "file":
        if caps.file_name_max is None:
            out.decide(f"file name: {caps.label} files have none -> not sent")
        else:
            content["name"] = _file_name(reply.name, caps.file_name_max)
            if content["name"] != reply.name:
                out.decide(f"file name {reply.name!r} > {caps.file_name_max} characters -> "
                           f"{content['name']!r}")
    out.body(kind, content, options)
    if caption_text:
        out.text(caption_text, what="caption")
