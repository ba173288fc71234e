"""Render :class:`~botkit.replies.Template`: native, rich (``custom``), or its fallback text.

* A plain template (positional text parameters) is the Messages API's ``template``
  message where the channel has templates (WhatsApp; v0.1 Viber).
* A rich template (a media header, quick-reply or URL buttons, named or typed
  parameters, a one-time code) is WhatsApp's ``custom`` template object in Meta's format:
  ``{type: template, template: {name, language: {policy, code}, components}}``. Media in
  it is a ``link``, the language code keeps its underscore (``en_GB``). An authentication
  template's code fills both its body and its copy-code (URL) button.
* Every other channel, or a rich template where only plain ones go: the fallback text,
  with its placeholders filled.
"""

from __future__ import annotations

from typing import Any

from botkit._templates import wire_parameter
from botkit.rendering.output import Out
from botkit.replies import Template

__all__ = ["render_template"]

_HEADER_TYPES = {"image": "image", "video": "video", "file": "document"}


def _components(reply: Template) -> list[dict[str, Any]]:
    components: list[dict[str, Any]] = []
    if reply.header is not None:
        kind = _HEADER_TYPES[reply.header.kind]
        components.append({"type": "header", "parameters": [
            {"type": kind, kind: {"link": reply.header.url}}]})
    if reply.otp is not None:
        code = {"type": "text", "text": reply.otp}
        components.append({"type": "body", "parameters": [code]})
        components.append({"type": "button", "sub_type": "url", "index": "0",
                           "parameters": [code]})
        return components
    if reply.parameters:
        components.append({"type": "body",
                           "parameters": [wire_parameter(p) for p in reply.parameters]})
    for index, button in enumerate(reply.buttons):
        # Meta's examples number quick replies as integers and URL buttons as strings.
        if button.kind == "quick_reply":
            components.append({"type": "button", "sub_type": "quick_reply", "index": index,
                               "parameters": [{"type": "payload", "payload": button.value}]})
        else:
            components.append({"type": "button", "sub_type": "url", "index": str(index),
                               "parameters": [{"type": "text", "text": button.value}]})
    return components


def render_template(reply: Template, out: Out) -> None:
    """A native or rich template, or its fallback text (see the module docstring)."""
    style = out.caps.template
    if reply.is_rich and out.native("rich_template"):
        template = {"name": reply.name,
                    "language": {"policy": "deterministic", "code": reply.locale},
                    "components": _components(reply)}
        out.body("custom", {"type": "template", "template": template})
        return
    if out.native("template") and style is not None and not reply.is_rich:
        content: dict[str, Any] = {"name": reply.name}
        if reply.parameters:
            content["parameters"] = [p if isinstance(p, str) else p.text
                                     for p in reply.parameters]
        options: dict[str, Any] = dict(style.options)
        if style.locale_separator is not None:
            options["locale"] = reply.locale.replace("_", style.locale_separator)
        out.body("template", content, options)
        return
    if out.native("template"):
        why = (f"{out.caps.label} sends only plain templates (no header, buttons, named or "
               f"typed parameters)")
    else:
        why = out.caps.why_not("template", "templates")
    out.decide(f"template {reply.name!r}: {why} -> fallback text")
    out.text(reply.filled_fallback(), what="fallback text")
