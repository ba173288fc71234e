"""Render :class:`~botkit.replies.Buttons`: reply buttons, a list, or a text menu, plus links.

The choice reads the capability table only:

* suggestion chips on a text when the channel has them and the buttons fit (RCS: up to
  11, links included as open-URL chips);
* reply buttons when the channel has them and the choices fit (WhatsApp: up to 3);
* a list when they do not fit but a list does (WhatsApp: up to 10 rows);
* otherwise ONE compact text message: the question, the links, one numbered line per
  choice (lettered when a title is itself a number) and a hint such as ``Reply 1-3``. The
  :class:`~botkit.menu.ShownMenu` it returns lets the next typed answer be recognised.

Titles too long for a button or row are shortened (unique after shortening); the full
title stays in the row description or the text menu. Payloads are never shown. Link
buttons become the channel's action button where it has one (Viber: one, text <= 30),
else ``Title: url`` lines in the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from botkit.menu import ShownChoice, ShownMenu
from botkit.rendering.hints import list_button_label, menu_hint, menu_labels
from botkit.rendering.output import Out
from botkit.rendering.suggestions import chips, remember_choices
from botkit.rendering.text import shorten, shorten_unique, split_text
from botkit.replies import Buttons

__all__ = ["ButtonLike", "render_buttons", "render_choices"]


class ButtonLike(Protocol):
    """What the renderer reads of a button: a :class:`~botkit.replies.Button`, or a
    lightweight stand-in the renderer builds itself (a carousel's menu)."""

    @property
    def title(self) -> str: ...

    @property
    def payload(self) -> str | None: ...

    @property
    def url(self) -> str | None: ...


def _links(links: Sequence[ButtonLike], out: Out) -> tuple[dict[str, Any] | None, list[str]]:
    """The native action (channel options) or the text lines for the link buttons."""
    caps = out.caps
    if not links:
        return None, []
    if out.native("link_button") and len(links) <= caps.link_buttons_max:
        link = links[0]
        text = shorten(link.title, caps.link_button_text_max)
        shortened = f" (title shortened to {text!r})" if text != link.title else ""
        out.decide(f"link button {link.title!r} -> {caps.label} action button{shortened}")
        return {"action": {"url": link.url, "text": text}}, []
    if out.native("link_button"):
        reason = (f"{len(links)} link buttons > {caps.link_buttons_max} {caps.label} "
                  f"action button")
    else:
        reason = caps.why_not("link_button", "link buttons")
    out.decide(f"link buttons: {reason} -> text + link")
    return None, [f"{b.title}: {b.url}" for b in links]


def _shortened(out: Out, titles: list[str], shown: list[str], limit: int, where: str) -> None:
    if shown == titles:
        return
    pairs = [f"{t!r} -> {s!r}" for t, s in zip(titles, shown, strict=True) if t != s]
    out.decide(f"titles longer than {limit} characters shortened on the {where}: "
               + ", ".join(pairs))


def _reply_buttons(body: str, choices: Sequence[ButtonLike], out: Out) -> None:
    caps = out.caps
    titles = [c.title for c in choices]
    shown = shorten_unique(titles, caps.button_title_max)
    _shortened(out, titles, shown, caps.button_title_max, "buttons")
    buttons = [{"type": "reply", "reply": {"id": c.payload, "title": s}}
               for c, s in zip(choices, shown)]  # noqa: B905 (same lengths)
    out.body("custom", {"type": "interactive", "interactive": {
        "type": "button", "body": {"text": body}, "action": {"buttons": buttons}}})
    _native_menu(choices, out)


def _native_menu(choices: Sequence[ButtonLike], out: Out) -> None:
    # A user may type a title instead of tapping; remember what was offered so the typed
    # answer becomes the same button event. Nothing was numbered, so labels are empty.
    out.menu = ShownMenu(
        tuple([ShownChoice("", c.title, c.payload or "") for c in choices]),
        "native", out.caps.channel, out.now)


def _list(body: str, choices: Sequence[ButtonLike], out: Out) -> None:
    caps = out.caps
    titles = [c.title for c in choices]
    shown = shorten_unique(titles, caps.row_title_max)
    _shortened(out, titles, shown, caps.row_title_max, "list rows (full titles in the "
               "row descriptions)")
    rows: list[dict[str, Any]] = [{"id": c.payload, "title": t}
                                  for c, t in zip(choices, shown)]  # noqa: B905
    if shown != titles:
        for row, title in zip(rows, titles):  # noqa: B905
            if row["title"] != title:  # the row description shows the full title
                row["description"] = shorten(title, caps.row_description_max)
    label = list_button_label(out.locale)
    out.body("custom", {"type": "interactive", "interactive": {
        "type": "list", "body": {"text": body},
        "action": {"button": shorten(label, caps.list_button_max),
                   "sections": [{"title": shorten(label, caps.section_title_max),
                                 "rows": rows}]}}})
    _native_menu(choices, out)


def _interactive(text: str, choices: Sequence[ButtonLike], link_lines: list[str],
                 out: Out) -> str | None:
    """Send the choices as native buttons or a list (None), or say why they must be text."""
    caps = out.caps
    n = len(choices)
    has_buttons, has_list = out.native("reply_buttons"), out.native("list")
    as_buttons = has_buttons and n <= caps.reply_buttons_max
    as_list = not as_buttons and has_list and n <= caps.list_rows_max
    if not (as_buttons or as_list):
        if has_list:
            return f"{n} choices > {caps.list_rows_max} list rows"
        if has_buttons:
            return f"{n} choices > {caps.reply_buttons_max} reply buttons"
        return f"buttons: {caps.why_not('reply_buttons', 'buttons')}"
    body = "\n".join([text, *link_lines]) if link_lines else text
    if len(body) > caps.interactive_body_max:
        return (f"question of {len(body)} characters > {caps.interactive_body_max} "
                f"(interactive body)")
    id_max = caps.button_id_max if as_buttons else caps.row_id_max
    if max([len(c.payload or "") for c in choices]) > id_max:
        return (f"a payload longer than {id_max} characters cannot be a "
                f"{'button' if as_buttons else 'row'} id")
    if as_buttons:
        _reply_buttons(body, choices, out)
    else:
        out.decide(f"{n} choices > {caps.reply_buttons_max} reply buttons -> "
                   f"{caps.label} list")
        _list(body, choices, out)
    return None


def _menu_parts(text: str, block: str, limit: int) -> list[str]:
    """The question and the menu block as messages, keeping the block whole when it fits."""
    full = f"{text}\n{block}"
    if len(full) <= limit:
        return [full]
    parts = split_text(text, limit)
    if len(parts[-1]) + 1 + len(block) <= limit:
        parts[-1] = f"{parts[-1]}\n{block}"
    elif len(block) <= limit:
        parts.append(block)
    else:
        parts.extend(split_text(block, limit))
    return parts


def _text_menu(text: str, choices: Sequence[ButtonLike], link_lines: list[str], out: Out,
               options: dict[str, Any] | None, reason: str) -> None:
    titles = [c.title for c in choices]
    style, labels = menu_labels(titles)
    why = " (a title starts with a number)" if style == "lettered" else ""
    out.decide(f"{reason} -> {style} text menu{why}")
    lines = [f"{label}. {title}" for label, title in zip(labels, titles)]  # noqa: B905
    block = "\n".join([*link_lines, *lines, menu_hint(out.locale, labels)])
    parts = _menu_parts(text, block, out.caps.text_max)
    if len(parts) > 1:
        out.split_decision("text menu", len(text) + 1 + len(block), len(parts))
    out.texts(parts, options=options)
    out.menu = ShownMenu(
        tuple([ShownChoice(label, c.title, c.payload or "")
               for label, c in zip(labels, choices)]),  # noqa: B905 (same lengths)
        style, out.caps.channel, out.now)


def _chips(text: str, buttons: Sequence[ButtonLike], out: Out) -> str | None:
    """Send the question with every button as a chip (None), or say why they must be text."""
    caps, n = out.caps, len(buttons)
    if n > caps.chips_max:
        return f"{n} buttons > {caps.chips_max} {caps.label} suggestion chips"
    parts = split_text(text, caps.text_max)
    if len(parts) > 1:
        out.split_decision("question", len(text), len(parts))
    out.texts(parts[:-1])
    body = out.body("text", parts[-1])
    body["suggestions"] = chips(buttons, out, "chips")
    remember_choices(buttons, out)
    return None


def render_buttons(reply: Buttons, out: Out) -> None:
    """Render ``reply`` into ``out`` (see the module docstring for the rules)."""
    render_choices(reply.text, reply.buttons, out)


def render_choices(text: str, buttons: Sequence[ButtonLike], out: Out) -> None:
    """Render a question with ``buttons`` (checked already: titles and payloads unique)."""
    chip_reason = _chips(text, buttons, out) if out.native("chips") else None
    if out.native("chips") and chip_reason is None:
        return
    choices: list[ButtonLike] = []
    links: list[ButtonLike] = []
    for button in buttons:
        (links if button.payload is None else choices).append(button)
    options, link_lines = _links(links, out) if links else (None, [])
    if not choices:
        out.text("\n".join([text, *link_lines]), options=options)
        return
    # No channel has both an action button and reply buttons, so a native interactive
    # message never has to carry an action.
    reason = chip_reason or _interactive(text, choices, link_lines, out)
    if reason is not None:
        _text_menu(text, choices, link_lines, out, options, reason)
