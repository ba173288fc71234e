"""WhatsApp's ``custom`` objects as strict wire models: interactive reply buttons and lists,
contacts, and templates with components in Meta's format.

A ``custom`` object is passed to WhatsApp as is, so neither the spec nor the SDK checks
it; these models check it against WhatsApp's own limits: up to 3 reply buttons with unique
titles of up to 20 characters, up to 10 list rows in all with titles of up to 24,
descriptions of up to 72. Other custom objects (interactive products, ...) are not
modelled: :func:`custom_model` reports them as unchecked rather than wrong. Templates with
components follow Meta's format as the Messages API's own examples send it (a quick
reply's ``index`` a number, a URL button's a string).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from botkit.wire.common import NonEmpty, Strict, Url

__all__ = ["CUSTOM", "custom_model"]

def _length(low: int, high: int) -> Any:
    return Field(min_length=low, max_length=high)


# --- custom: interactive and contacts ---------------------------------------------------------


class ReplyTarget(Strict):
    id: Annotated[str, _length(1, 256)]
    title: Annotated[str, _length(1, 20)]


class ReplyButton(Strict):
    type: Literal["reply"]
    reply: ReplyTarget


class BodyText(Strict):
    text: Annotated[str, _length(1, 1024)]


class FooterText(Strict):
    text: Annotated[str, _length(1, 60)]


class Header(Strict):
    """A text header (<= 60) or a media header (an object with a link or id)."""

    type: Literal["text", "image", "video", "document"]
    text: Annotated[str, _length(1, 60)] | None = None
    image: dict[str, Any] | None = None
    video: dict[str, Any] | None = None
    document: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _content_matches_type(self) -> Header:
        if getattr(self, self.type) is None:
            raise ValueError(f"a {self.type} header needs its {self.type!r} field")
        return self


def _unique(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must be unique, got {values}")


class ButtonAction(Strict):
    buttons: Annotated[list[ReplyButton], _length(1, 3)]

    @model_validator(mode="after")
    def _unique_buttons(self) -> ButtonAction:
        _unique([b.reply.title.casefold() for b in self.buttons], "reply button titles")
        _unique([b.reply.id for b in self.buttons], "reply button ids")
        return self


class ButtonInteractive(Strict):
    type: Literal["button"]
    header: Header | None = None
    body: BodyText
    footer: FooterText | None = None
    action: ButtonAction


class Row(Strict):
    id: Annotated[str, _length(1, 200)]
    title: Annotated[str, _length(1, 24)]
    description: Annotated[str, _length(1, 72)] | None = None


class Section(Strict):
    title: Annotated[str, _length(1, 24)] | None = None
    rows: Annotated[list[Row], Field(min_length=1)]


class ListAction(Strict):
    button: Annotated[str, _length(1, 20)]
    sections: Annotated[list[Section], _length(1, 10)]

    @model_validator(mode="after")
    def _rows(self) -> ListAction:
        rows = [row for section in self.sections for row in section.rows]
        if len(rows) > 10:
            raise ValueError(f"a list has at most 10 rows in all its sections, got {len(rows)}")
        if len(self.sections) > 1 and any(not s.title for s in self.sections):
            raise ValueError("every section needs a title when there is more than one")
        _unique([r.id for r in rows], "list row ids")
        _unique([r.title.casefold() for r in rows], "list row titles")
        return self


class ListInteractive(Strict):
    type: Literal["list"]
    header: Header | None = None
    body: BodyText
    footer: FooterText | None = None
    action: ListAction


class ContactName(Strict):
    formatted_name: Annotated[str, _length(1, 1000)]
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    prefix: str | None = None
    suffix: str | None = None

    @model_validator(mode="after")
    def _a_part(self) -> ContactName:
        if not (self.first_name or self.last_name):
            raise ValueError("a contact name needs first_name or last_name besides "
                             "formatted_name")
        return self


class ContactPhone(Strict):
    phone: NonEmpty
    type: str | None = None
    wa_id: str | None = None


class ContactEmail(Strict):
    email: NonEmpty
    type: str | None = None


class ContactOrg(Strict):
    company: str | None = None
    department: str | None = None
    title: str | None = None


class ContactCard(Strict):
    name: ContactName
    phones: list[ContactPhone] | None = None
    emails: list[ContactEmail] | None = None
    org: ContactOrg | None = None
    addresses: list[dict[str, Any]] | None = None
    urls: list[dict[str, Any]] | None = None
    birthday: str | None = None

    @model_validator(mode="after")
    def _reachable(self) -> ContactCard:
        if not (self.phones or self.emails):
            raise ValueError("a contact needs a phone or an email")
        return self


class Contacts(Strict):
    type: Literal["contacts"]
    contacts: Annotated[list[ContactCard], Field(min_length=1)]


class ButtonsObject(Strict):
    type: Literal["interactive"]
    interactive: ButtonInteractive


class ListObject(Strict):
    type: Literal["interactive"]
    interactive: ListInteractive


class TemplateLanguage(Strict):
    policy: Literal["deterministic"]
    code: NonEmpty


class TemplateMediaLink(Strict):
    link: Url


class HeaderParameter(Strict):
    type: Literal["image", "video", "document", "text"]
    image: TemplateMediaLink | None = None
    video: TemplateMediaLink | None = None
    document: TemplateMediaLink | None = None
    text: NonEmpty | None = None

    @model_validator(mode="after")
    def _content_matches_type(self) -> HeaderParameter:
        if getattr(self, self.type) is None:
            raise ValueError(f"a {self.type} header parameter needs its {self.type!r} field")
        return self


class Currency(Strict):
    fallback_value: NonEmpty
    code: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    amount_1000: int


class DateTime(Strict):
    fallback_value: NonEmpty


class BodyParameter(Strict):
    type: Literal["text", "currency", "date_time"]
    parameter_name: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")] | None = None
    text: NonEmpty | None = None
    currency: Currency | None = None
    date_time: DateTime | None = None

    @model_validator(mode="after")
    def _content_matches_type(self) -> BodyParameter:
        if getattr(self, self.type) is None:
            raise ValueError(f"a {self.type} parameter needs its {self.type!r} field")
        return self


class HeaderComponent(Strict):
    type: Literal["header"]
    parameters: Annotated[list[HeaderParameter], _length(1, 1)]


class BodyComponent(Strict):
    type: Literal["body"]
    parameters: Annotated[list[BodyParameter], Field(min_length=1)]


class PayloadParameter(Strict):
    type: Literal["payload"]
    payload: NonEmpty


class TextParameter(Strict):
    type: Literal["text"]
    text: NonEmpty


ButtonIndex = Annotated[int, Field(ge=0, le=9)] | Annotated[str, Field(pattern=r"^[0-9]$")]
"""A template button's position, 0-9; Meta takes a number or its text, and the Messages
API's own examples send both."""


class QuickReplyComponent(Strict):
    type: Literal["button"]
    sub_type: Literal["quick_reply"]
    index: ButtonIndex
    parameters: Annotated[list[PayloadParameter], _length(1, 1)]


class UrlButtonComponent(Strict):
    type: Literal["button"]
    sub_type: Literal["url"]
    index: ButtonIndex
    parameters: Annotated[list[TextParameter], _length(1, 1)]


Component = Annotated[
    HeaderComponent | BodyComponent | QuickReplyComponent | UrlButtonComponent,
    Field(union_mode="left_to_right"),
]


class TemplateObject(Strict):
    name: NonEmpty
    language: TemplateLanguage
    components: list[Component] | None = None


class CustomTemplate(Strict):
    """A template with components in Meta's format (media header, buttons, OTP)."""

    type: Literal["template"]
    template: TemplateObject


CUSTOM: dict[tuple[str, str | None], type[Strict]] = {
    ("template", None): CustomTemplate,
    ("contacts", None): Contacts,
    ("interactive", "button"): ButtonsObject,
    ("interactive", "list"): ListObject,
}
"""The custom objects modelled, by ``custom.type`` and ``custom.interactive.type``."""


def custom_model(custom: object) -> type[Strict] | str:
    """The model for a WhatsApp custom object, or why it is not checked."""
    if not isinstance(custom, dict):
        return Contacts  # not an object at all: any model reports that
    kind = custom.get("type")
    if kind == "interactive" and isinstance(custom.get("interactive"), dict):
        sub = custom["interactive"].get("type")
        found = CUSTOM.get(("interactive", sub)) if isinstance(sub, str) else None
        if found is None:
            return f"interactive object of type {sub!r} is passed to WhatsApp as is; not checked"
        return found
    model = CUSTOM.get((kind, None)) if isinstance(kind, str) else None
    if model is None and kind != "interactive":
        return f"custom object of type {kind!r} is passed to WhatsApp as is; not checked"
    return model or ButtonsObject
