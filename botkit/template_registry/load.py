"""Reading a template registry file: YAML with positions in, :class:`RegisteredTemplate`\\ s
out, or every problem as ``file:line:column: message``.

The file (``templates.yaml`` beside the flows, or ``BOTKIT_TEMPLATES``)::

    templates:
      appointment_reminder:
        language: en_GB
        category: utility              # marketing, utility or authentication
        parameters:                    # in the template's order: name: type
          name: text
          when: date_time
          total: {type: currency, currency: EUR}
        header: image                  # or {image: https://...}; video, document
        buttons:
          - quick_reply: confirm       # the payload a tap comes back with
          - url: booking               # the value completing the approved URL
        text: "Hi {{name}}, see you on {{when}}."   # what other channels get

An authentication template has a ``copy_code: code`` button and no parameters: the code
fills its body and its button.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, Final, cast

from botkit._templates import Template
from botkit.errors import FlowProblem
from botkit.flows.source import PathLike, _read, _Source
from botkit.flows.yamlpos import Path as YamlPath
from botkit.template_registry.entry import (
    ButtonSpec,
    Category,
    HeaderKind,
    HeaderSpec,
    ParameterSpec,
    RegisteredTemplate,
)
from botkit.template_registry.values import PARAMETER_TYPES, check_value

__all__ = ["read_templates"]

_NAME: Final = re.compile(r"^[a-z0-9_]{1,512}$")
_VALUE_NAME: Final = re.compile(r"^[a-z_][a-z0-9_]*$")
_PLACEHOLDER: Final = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_CATEGORIES: Final = ("marketing", "utility", "authentication")
_HEADERS: Final = ("image", "video", "document")
_BUTTONS: Final = ("quick_reply", "url", "copy_code")
_KEYS: Final = ("language", "category", "text", "parameters", "parameter_format", "header",
                "buttons")


class _Reader:
    """Checks one file's data, collecting problems at their positions."""

    def __init__(self, source: _Source) -> None:
        self.source = source

    def at(self, path: YamlPath, message: str, *, key: bool = False) -> None:
        found = self.source.index.location(path)
        where = found.key if key else found.value
        self.source.problem(where.line, where.column, message)

    def templates(self) -> Iterator[RegisteredTemplate]:
        data = self.source.data
        if data is None:
            if not self.source.problems:
                self.source.problem(1, 1, "the file is empty; a template registry is a "
                                          "mapping with templates")
            return
        if not isinstance(data, dict) or not isinstance(data.get("templates"), dict):
            self.at((), "a template registry is a mapping with templates: each template by "
                        "its name")
            return
        for key in data:
            if key != "templates":
                self.at((key,), f"unknown key {key!r} (a registry has templates)", key=True)
        for name, entry in data["templates"].items():
            found = self.template(("templates", name), str(name), entry)
            if found is not None:
                yield found

    def template(self, path: YamlPath, name: str, entry: Any) -> RegisteredTemplate | None:
        before = len(self.source.problems)
        if not _NAME.match(name):
            self.at(path, f"template name {name!r}: WhatsApp names are lower case letters, "
                          "digits and _", key=True)
        if not isinstance(entry, dict):
            self.at(path, "a template is a mapping with language, category and text")
            return None
        for key in entry:
            if key not in _KEYS:
                self.at((*path, key), f"unknown key {key!r} (a template has "
                                      f"{', '.join(_KEYS)})", key=True)
        for key in ("language", "category", "text"):
            if key not in entry:
                self.at(path, f"template {name!r}: missing required key {key!r}", key=True)
        language = self.language(path, entry.get("language"))
        category = entry.get("category")
        if "category" in entry and category not in _CATEGORIES:
            self.at((*path, "category"), f"category: {category!r} is not one of "
                                         f"{', '.join(_CATEGORIES)}")
        named = entry.get("parameter_format", "positional")
        if named not in ("positional", "named"):
            self.at((*path, "parameter_format"), "parameter_format: positional or named")
        parameters = self.parameters((*path, "parameters"), entry.get("parameters"))
        header = self.header((*path, "header"), entry.get("header"))
        buttons = self.buttons((*path, "buttons"), entry.get("buttons"), category)
        text = entry.get("text")
        if "text" in entry and (not isinstance(text, str) or not text.strip()):
            self.at((*path, "text"), "text: the fallback text other channels get, a string")
        if len(self.source.problems) > before:
            return None
        template = RegisteredTemplate(
            name, language, cast(Category, category), cast(str, text), parameters, header,
            buttons, named == "named", where=self.where(path))
        self.consistent(path, template)
        return None if len(self.source.problems) > before else template

    def where(self, path: YamlPath) -> str:
        found = self.source.index.location(path).key
        return f"{self.source.path}:{found.line}:{found.column}"

    def language(self, path: YamlPath, value: Any) -> str:
        if value is None:
            return "en"
        try:
            return Template("x", (), str(value), fallback_text="x").locale
        except ValueError:
            self.at((*path, "language"), f"language: {value!r} is not a language code like "
                                         "en or en_GB")
            return "en"

    def parameters(self, path: YamlPath, value: Any) -> tuple[ParameterSpec, ...]:
        if value is None:
            return ()
        if not isinstance(value, dict):
            self.at(path, "parameters: a mapping of name: type, in the template's order "
                          f"(types: {', '.join(PARAMETER_TYPES)})")
            return ()
        out = []
        for name, spec in value.items():
            here = (*path, name)
            if not _VALUE_NAME.match(str(name)):
                self.at(here, f"parameter name {name!r}: lower case letters, digits and _",
                        key=True)
            spec = {"type": spec} if isinstance(spec, str) else spec
            if not isinstance(spec, dict):
                self.at(here, f"{name}: a type ({', '.join(PARAMETER_TYPES)}) or "
                              "{type, currency, default}")
                continue
            for key in spec:
                if key not in ("type", "currency", "default"):
                    self.at((*here, key), f"unknown key {key!r} (a parameter has type, "
                                          "currency, default)", key=True)
            kind = spec.get("type", "text")
            if kind not in PARAMETER_TYPES:
                where = (*here, "type") if "type" in spec and len(spec) > 1 else here
                self.at(where, f"{name}: unknown type {kind!r} (types: "
                               f"{', '.join(PARAMETER_TYPES)})")
                continue
            currency = spec.get("currency")
            if currency is not None and (kind != "currency"
                                         or not re.fullmatch(r"[A-Z]{3}", str(currency))):
                self.at((*here, "currency"), "currency: a code such as EUR, for a currency "
                                             "parameter")
                continue
            default = spec.get("default")
            if default is not None:
                try:
                    check_value(kind, default, currency=currency)
                except ValueError as exc:
                    self.at((*here, "default"), f"default: {exc}")
                    continue
                default = str(default)
            out.append(ParameterSpec(str(name), kind, currency, default))
        return tuple(out)

    def header(self, path: YamlPath, value: Any) -> HeaderSpec | None:
        if value is None:
            return None
        if isinstance(value, str) and value in _HEADERS:
            return HeaderSpec(cast(HeaderKind, value))
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _HEADERS:
            kind, url = next(iter(value.items()))
            if isinstance(url, str) and url.startswith(("https://", "http://")):
                return HeaderSpec(kind, url)
        self.at(path, "header: image, video or document (its URL given with the values), "
                      "or {image: https://...} for a fixed one")
        return None

    def buttons(self, path: YamlPath, value: Any, category: Any) -> tuple[ButtonSpec, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not value:
            self.at(path, "buttons: a list of {quick_reply: payload}, {url: value name} or "
                          "{copy_code: value name}")
            return ()
        out = []
        for index, item in enumerate(value):
            here = (*path, index)
            if not (isinstance(item, dict) and len(item) == 1 and next(iter(item)) in _BUTTONS
                    and isinstance(next(iter(item.values())), str)):
                self.at(here, "a button is {quick_reply: payload}, {url: value name} or "
                              "{copy_code: value name}")
                continue
            kind, given = next(iter(item.items()))
            if kind != "quick_reply" and not _VALUE_NAME.match(given):
                self.at((*here, kind), f"{kind}: names the value that fills it (lower case "
                                       "letters, digits and _)")
                continue
            if (kind == "copy_code") != (category == "authentication"):
                self.at(here, "a copy_code button goes with category authentication, and "
                              "an authentication template has one", key=True)
                continue
            out.append(ButtonSpec(kind, given))
        if len(out) > 10:
            self.at(path, f"buttons: WhatsApp allows 10, got {len(out)}")
        if sum(b.kind == "url" for b in out) > 2:
            self.at(path, "buttons: WhatsApp allows 2 URL buttons")
        return tuple(out)

    def consistent(self, path: YamlPath, template: RegisteredTemplate) -> None:
        if template.category == "authentication":
            if template.parameters or template.header:
                self.at(path, "an authentication template has no parameters or header: "
                              "its copy_code value fills body and button", key=True)
            if not any(b.kind == "copy_code" for b in template.buttons):
                self.at(path, "an authentication template needs a copy_code button",
                        key=True)
        names = template.value_names
        seen = set()
        for name in names:
            if name in seen:
                self.at(path, f"the value {name!r} is named twice (parameters and buttons "
                              "name distinct values)", key=True)
            seen.add(name)
        for found in _PLACEHOLDER.findall(template.text):
            if found not in names or found == "header":
                self.at((*path, "text"), f"text: {{{{{found}}}}} is not a value of the "
                                         f"template (values: {', '.join(names) or 'none'})")


def read_templates(paths: Iterable[PathLike]) -> tuple[list[RegisteredTemplate],
                                                         list[FlowProblem]]:
    """Every template of the files, and every problem (file by file, in file order);
    a name defined twice is a problem at the second."""
    templates: list[RegisteredTemplate] = []
    problems: list[FlowProblem] = []
    first: dict[str, str] = {}
    for path in paths:
        source = _read(path)
        reader = _Reader(source)
        for template in reader.templates():
            if template.name in first:
                reader.at(("templates", template.name), f"template {template.name!r} is "
                          f"already defined at {first[template.name]}", key=True)
                continue
            first[template.name] = template.where
            templates.append(template)
        problems += sorted(source.problems, key=lambda p: (p.line, p.column))
    return templates, problems
