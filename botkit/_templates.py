"""WhatsApp templates: :class:`Template`, its typed parameters and its buttons.

Re-exported by :mod:`botkit.replies`, which users import them from. A plain template
(positional text parameters) goes out as the Messages API's ``template`` message; one
with a media header, buttons, named or typed parameters, or a one-time code goes out as
the ``custom`` template object in Meta's format. Every other channel gets
``fallback_text`` with its placeholders filled.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from botkit._media import File, Image, Video
from botkit._reply_base import ReplyBase

__all__ = ["Template", "TemplateButton", "TemplateParameter", "wire_parameter"]

_PLACEHOLDER = re.compile(r"\{\{\s*([0-9]+|[a-z_][a-z0-9_]*)\s*\}\}")
_LOCALE = re.compile(r"^([A-Za-z]{2,3})(?:[_-]([A-Za-z0-9]{2,8}))?$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class TemplateParameter(BaseModel):
    """One body parameter: text (optionally named), a currency amount or a date.

    Example:
        TemplateParameter.text("Joe Bloggs", name="customer_name")
        TemplateParameter.currency(12.5, "EUR", "€12.50")
        TemplateParameter.date_time("Friday 3 May")
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["text", "currency", "date_time"] = "text"
    text: str = Field(min_length=1)
    """The value as text: the text itself, or the fallback shown for a currency or date."""
    name: str | None = None
    """The variable's name in a template with named variables (``{{customer_name}}``)."""
    currency_code: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    amount_1000: int | None = None
    """A currency amount times 1000 (12.50 EUR is 12500), as WhatsApp takes it."""

    @classmethod
    def text_value(cls, value: str, *, name: str | None = None) -> TemplateParameter:
        """A text parameter (named for a template with named variables)."""
        return cls(type="text", text=value, name=name)

    @classmethod
    def currency(cls, amount: float, code: str, fallback: str, *,
                 name: str | None = None) -> TemplateParameter:
        """A currency amount: WhatsApp formats it for the user; ``fallback`` elsewhere."""
        return cls(type="currency", text=fallback, name=name, currency_code=code,
                   amount_1000=round(amount * 1000))

    @classmethod
    def date_time(cls, fallback: str, *, name: str | None = None) -> TemplateParameter:
        """A date and time, shown as ``fallback``."""
        return cls(type="date_time", text=fallback, name=name)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError(f"a template variable name is lower case letters, digits and _, "
                             f"got {value!r}")
        return value

    @model_validator(mode="after")
    def _currency(self) -> TemplateParameter:
        if (self.type == "currency") != (self.currency_code is not None):
            raise ValueError("a currency parameter (and only one) has a currency_code")
        return self

    def wire(self) -> dict[str, Any]:
        """The parameter in Meta's template format."""
        out: dict[str, Any] = {"type": self.type}
        if self.name is not None:
            out["parameter_name"] = self.name
        if self.type == "text":
            out["text"] = self.text
        elif self.type == "currency":
            out["currency"] = {"fallback_value": self.text, "code": self.currency_code,
                               "amount_1000": self.amount_1000}
        else:
            out["date_time"] = {"fallback_value": self.text}
        return out


class TemplateButton(BaseModel):
    """A button of an approved template: a quick reply or the variable part of a URL.

    A quick-reply tap comes back as a ``button`` event with this payload, so
    ``@bot.on_button("confirm")`` takes it like any other tap.

    Example:
        TemplateButton.quick_reply("confirm")
        TemplateButton.url("AB123456")       # appended to the URL the template defines
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["quick_reply", "url"]
    value: str = Field(min_length=1)

    @classmethod
    def quick_reply(cls, payload: str) -> TemplateButton:
        """A quick-reply button whose tap carries ``payload``."""
        return cls(kind="quick_reply", value=payload)

    @classmethod
    def url(cls, suffix: str) -> TemplateButton:
        """A URL button: ``suffix`` completes the URL the template was approved with."""
        return cls(kind="url", value=suffix)


def _text(parameter: str | TemplateParameter) -> str:
    return parameter if isinstance(parameter, str) else parameter.text


def _name(parameter: str | TemplateParameter) -> str | None:
    return None if isinstance(parameter, str) else parameter.name


def wire_parameter(parameter: str | TemplateParameter) -> dict[str, Any]:
    """One body parameter in Meta's template format (a plain string is a text)."""
    if isinstance(parameter, str):
        return {"type": "text", "text": parameter}
    return parameter.wire()


class Template(ReplyBase):
    """A pre-approved WhatsApp template; other channels get ``fallback_text``.

    ``{{1}}``, ``{{2}}`` ... (or ``{{name}}`` for named variables) in ``fallback_text`` are
    filled from ``parameters``, as the template itself is. The locale is stored as
    WhatsApp spells it (``en_US``). ``header`` (an image, video or document), ``buttons``
    (quick replies, URL suffixes) and ``otp`` (an authentication template's one-time
    code, with its copy-code button) make it a rich template.

    Example:
        await ctx.reply(Template("ns:verify", ["1234"], "en_GB",
                                 fallback_text="Your code is {{1}}"))
        await ctx.reply(Template("order_update", ["Joe", "AB123456"], "en",
                                 header=Image("https://example.com/box.jpg"),
                                 buttons=[TemplateButton.url("AB123456")],
                                 fallback_text="Hi {{1}}, order {{2}} has shipped"))
        await ctx.reply(Template("verification_code", otp="123456", locale="en",
                                 fallback_text="Your code is 123456"))
    """

    name: str
    parameters: tuple[str | TemplateParameter, ...] = ()
    locale: str = "en_US"
    fallback_text: str
    header: Image | Video | File | None = None
    buttons: tuple[TemplateButton, ...] = Field(default=(), max_length=10)
    otp: str | None = Field(default=None, min_length=1, max_length=15)

    def __init__(self, name: str, parameters: Sequence[str | TemplateParameter] = (),
                 locale: str = "en_US", *, fallback_text: str,
                 header: Image | Video | File | None = None,
                 buttons: Sequence[TemplateButton] = (), otp: str | None = None,
                 **data: Any) -> None:
        super().__init__(name=name, parameters=parameters, locale=locale,
                         fallback_text=fallback_text, header=header, buttons=buttons, otp=otp,
                         **data)

    @field_validator("name", "fallback_text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a template needs a name and a fallback_text")
        return value

    @field_validator("parameters")
    @classmethod
    def _parameters(
        cls, value: tuple[str | TemplateParameter, ...]
    ) -> tuple[str | TemplateParameter, ...]:
        if any(isinstance(p, str) and not p.strip() for p in value):
            raise ValueError("template parameters must not be empty")
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        found = _LOCALE.match(value)
        if not found:
            raise ValueError(f"locale {value!r} is not a language code like en or en_US")
        lang, region = found.group(1).lower(), found.group(2)
        if region is None:
            return lang
        return f"{lang}_{region.upper() if len(region) == 2 else region}"

    @model_validator(mode="after")
    def _consistent(self) -> Template:
        named = [_name(p) for p in self.parameters]
        if any(named) and not all(named):
            raise ValueError("name every template parameter, or none")
        if self.otp is not None and (self.parameters or self.buttons):
            raise ValueError("an authentication template (otp=) takes no other parameters "
                             "or buttons: the code fills both")
        for found in _PLACEHOLDER.findall(self.fallback_text):
            if found.isdigit():
                if not 1 <= int(found) <= len(self.parameters):
                    raise ValueError(f"fallback_text uses {{{{{found}}}}} but the template "
                                     f"has {len(self.parameters)} parameter(s)")
            elif any(named) and found not in named:
                # Without named parameters, {{word}} is text of its own (a flow's Jinja).
                raise ValueError(f"fallback_text uses {{{{{found}}}}} but no parameter is "
                                 f"named {found!r}")
        return self

    @property
    def is_rich(self) -> bool:
        """True when only the ``custom`` template object can carry it."""
        return bool(self.header or self.buttons or self.otp
                    or any(not isinstance(p, str) for p in self.parameters))

    def filled_fallback(self) -> str:
        """``fallback_text`` with ``{{n}}`` and ``{{name}}`` filled from the parameters."""
        by_name = {_name(p): _text(p) for p in self.parameters}

        def fill(match: re.Match[str]) -> str:
            found = match.group(1)
            if found.isdigit():
                return _text(self.parameters[int(found) - 1])
            return by_name.get(found, match.group(0))

        return _PLACEHOLDER.sub(fill, self.fallback_text)
