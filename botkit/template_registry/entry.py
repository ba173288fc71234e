"""One template of the registry, :class:`RegisteredTemplate`: what it takes, and the
:class:`~botkit.Template` reply it becomes with values."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from botkit._checks import http_url
from botkit._media import File, Image, Video
from botkit._templates import Template, TemplateButton, TemplateParameter
from botkit.errors import TemplateError
from botkit.template_registry.values import check_value

__all__ = ["ButtonSpec", "Category", "HeaderSpec", "ParameterSpec", "RegisteredTemplate"]

Category = Literal["marketing", "utility", "authentication"]
HeaderKind = Literal["image", "video", "document"]
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_HEADER_MEDIA: dict[str, type[Image | Video | File]] = {
    "image": Image, "video": Video, "document": File}


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """A body parameter: its name, type, currency (for ``currency``) and default."""

    name: str
    type: str = "text"
    currency: str | None = None
    default: str | None = None


@dataclass(frozen=True, slots=True)
class HeaderSpec:
    """A media header: its kind, and a fixed URL or ``None`` (the value ``header``)."""

    kind: HeaderKind
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    """A button: ``quick_reply`` (``value`` is the payload), ``url`` (``value`` names the
    value completing the URL) or ``copy_code`` (``value`` names the one-time code)."""

    kind: Literal["quick_reply", "url", "copy_code"]
    value: str


@dataclass(frozen=True, slots=True)
class RegisteredTemplate:
    """A template as the registry file describes it (see :mod:`botkit.template_registry`).

    Attributes:
        name: the name WhatsApp approved it under.
        language: the locale it was approved in (``en_GB``).
        category: ``marketing``, ``utility`` or ``authentication``.
        text: the fallback text other channels get, ``{{name}}`` filled from the values.
        parameters: the body parameters in order.
        header: the media header, if any.
        buttons: the buttons in order.
        named: send the parameters by name (a template approved with named variables).
        where: ``file:line:column`` of its entry, for messages.
    """

    name: str
    language: str
    category: Category
    text: str
    parameters: tuple[ParameterSpec, ...] = ()
    header: HeaderSpec | None = None
    buttons: tuple[ButtonSpec, ...] = ()
    named: bool = False
    where: str = "<python>"

    @property
    def value_names(self) -> tuple[str, ...]:
        """Every value :meth:`render` takes: the parameters, then ``header`` (a media
        header without a fixed URL), each URL button's and the copy-code button's."""
        names = [p.name for p in self.parameters]
        if self.header is not None and self.header.url is None:
            names.append("header")
        names += [b.value for b in self.buttons if b.kind != "quick_reply"]
        return tuple(names)

    @property
    def required(self) -> tuple[str, ...]:
        """The values without a default: a caller must give each."""
        defaults = {p.name for p in self.parameters if p.default is not None}
        return tuple(n for n in self.value_names if n not in defaults)

    @property
    def payloads(self) -> tuple[str, ...]:
        """The quick-reply payloads a tap on this template's buttons comes back with."""
        return tuple(b.value for b in self.buttons if b.kind == "quick_reply")

    def problems(self, values: Mapping[str, object], *,
                 ignore_unknown: bool = False) -> dict[str, str]:
        """What is wrong with ``values`` for this template, by value name (``{}``: none)."""
        return self._check(values, ignore_unknown=ignore_unknown)[1]

    def render(self, values: Mapping[str, object] | None = None, *,
               ignore_unknown: bool = False, **more: object) -> Template:
        """The :class:`~botkit.Template` reply with these values.

        Example:
            reminder = bot.templates["appointment_reminder"]
            await ctx.reply(reminder.render(name="Ana", when=datetime(2024, 5, 3, 10)))
            row_reply = reminder.render(csv_row, ignore_unknown=True)   # extra columns

        Args:
            values: the values by name (a mapping: a CSV row, a flow's slots).
            ignore_unknown: leave out names the template does not take instead of
                refusing them.
            **more: values by keyword, added to ``values``.

        Raises:
            TemplateError: a value is missing, unknown or does not fit its type; the
                message names each.
        """
        given = {**(values or {}), **more}
        out, problems = self._check(given, ignore_unknown=ignore_unknown)
        if problems:
            listed = "; ".join(f"{name}: {why}" for name, why in problems.items())
            raise TemplateError(f"template {self.name!r}: {listed}", template=self.name,
                                problems=problems)
        return out  # type: ignore[return-value]  # no problems: a template

    def _check(self, given: Mapping[str, object], *,
               ignore_unknown: bool) -> tuple[Template | None, dict[str, str]]:
        problems: dict[str, str] = {}
        known = self.value_names
        if not ignore_unknown:
            for name in given:
                if name not in known:
                    problems[name] = _unknown(name, known)
        shown: dict[str, str] = {}
        wire: list[str | TemplateParameter] = []
        for spec in self.parameters:
            value = given.get(spec.name, spec.default)
            if value is None:
                problems[spec.name] = f"missing ({spec.type})"
                continue
            try:
                sent, shown[spec.name] = check_value(
                    spec.type, value, name=spec.name if self.named else None,
                    currency=spec.currency)
            except ValueError as exc:
                problems[spec.name] = str(exc)
                continue
            wire.append(sent)
        header = self._header(given, problems)
        buttons, otp = self._buttons(given, problems, shown)
        if problems:
            return None, problems
        text = _PLACEHOLDER.sub(lambda m: shown.get(m.group(1), m.group(0)), self.text)
        try:
            return Template(self.name, wire, self.language, fallback_text=text,
                            header=header, buttons=buttons, otp=otp), {}
        except ValidationError as exc:  # e.g. a value holding {{1}}
            why = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            return None, {"": why}

    def _header(self, given: Mapping[str, object],
                problems: dict[str, str]) -> Image | Video | File | None:
        if self.header is None:
            return None
        url = self.header.url or given.get("header")
        if url is None:
            problems["header"] = f"missing (the {self.header.kind} header's URL)"
            return None
        try:
            return _HEADER_MEDIA[self.header.kind](http_url(str(url), "header"))
        except (ValueError, ValidationError) as exc:
            problems["header"] = str(exc)
            return None

    def _buttons(self, given: Mapping[str, object], problems: dict[str, str],
                 shown: dict[str, str]) -> tuple[list[TemplateButton], str | None]:
        buttons: list[TemplateButton] = []
        otp = None
        for button in self.buttons:
            if button.kind == "quick_reply":
                buttons.append(TemplateButton.quick_reply(button.value))
                continue
            value = given.get(button.value)
            text = "" if value is None else str(value).strip()
            if not text or any(c.isspace() for c in text):
                what = "the URL's end" if button.kind == "url" else "the one-time code"
                problems[button.value] = (f"missing ({what})" if value is None else
                                          f"{what} must be one word, got {value!r}")
                continue
            if button.kind == "copy_code":
                if len(text) > 15:
                    problems[button.value] = "a one-time code has at most 15 characters"
                    continue
                otp = shown[button.value] = text
            else:
                buttons.append(TemplateButton.url(text))
                shown[button.value] = text
        return buttons, otp


def _unknown(name: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f": did you mean {close[0]!r}?" if close else ""
    listing = ", ".join(known) if known else "none"
    return f"unknown parameter{hint} (it takes: {listing})"

