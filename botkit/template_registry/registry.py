"""The bot's templates by name: :class:`TemplateRegistry` (``bot.templates``), and where
registry files are found."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from botkit._templates import Template
from botkit.errors import FlowError, TemplateError
from botkit.flows.source import PathLike
from botkit.template_registry.entry import RegisteredTemplate
from botkit.template_registry.load import read_templates

__all__ = ["REGISTRY_FILES", "TemplateRegistry", "find_template_files", "load_templates"]

REGISTRY_FILES = ("templates.yaml", "templates.yml")
"""The names a registry file has: beside the flows, it is found without being named."""


def is_registry_file(path: Path) -> bool:
    """Whether ``path`` is named as a template registry (not a flow)."""
    return path.name in REGISTRY_FILES


def find_template_files(paths: Iterable[PathLike]) -> list[Path]:
    """The registry files for ``paths``: each registry file given, those in each folder
    (recursively, hidden folders left out), and the one beside each flow file given."""
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            candidates = [c for c in sorted(path.rglob("templates.y*ml"))
                          if is_registry_file(c) and not any(
                              p.startswith(".") for p in c.relative_to(path).parts)]
        elif is_registry_file(path):
            candidates = [path]
        else:
            candidates = [path.parent / name for name in REGISTRY_FILES]
        for candidate in candidates:
            if candidate.is_file() and candidate.resolve() not in {f.resolve() for f in found}:
                found.append(candidate)
    return found


class TemplateRegistry(Mapping[str, RegisteredTemplate]):
    """Registered WhatsApp templates by name: ``bot.templates``.

    Example:
        reply = bot.templates.render("appointment_reminder", name="Ana", when=day)
        reminder = bot.templates["appointment_reminder"]    # its RegisteredTemplate
        reminder.required                                   # ("name", "when")
        reminder.problems(csv_row, ignore_unknown=True)     # {} when the row fits
    """

    def __init__(self, templates: Iterable[RegisteredTemplate] = ()) -> None:
        self._by_name: dict[str, RegisteredTemplate] = {}
        self.files: list[Path] = []
        """The registry files loaded, in order."""
        for template in templates:
            self.add(template)

    def __getitem__(self, name: str) -> RegisteredTemplate:
        found = self._by_name.get(name)
        if found is None:  # a TemplateError (a ValueError), as every mistake of its use
            raise TemplateError(self.unknown(name), template=name)
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def unknown(self, name: str) -> str:
        """``unknown template 'remnder': did you mean 'reminder'? (templates: ...)``."""
        known = list(self._by_name)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f": did you mean {close[0]!r}?" if close else ""
        listing = f"templates: {', '.join(known)}" if known else (
            "no template registry is loaded: templates.yaml beside the flows, "
            "BOTKIT_TEMPLATES or bot.add_templates(path)")
        return f"unknown template {name!r}{hint} ({listing})"

    def add(self, template: RegisteredTemplate) -> None:
        """Register ``template`` (a name may be registered once)."""
        if template.name in self._by_name:
            raise TemplateError(f"template {template.name!r} is registered twice: "
                                f"{self._by_name[template.name].where} and {template.where}",
                                template=template.name)
        self._by_name[template.name] = template

    def add_file(self, path: PathLike) -> None:
        """Load a registry file and register its templates; all of them or none.

        Raises:
            FlowError: every problem of the file as ``file:line:column: message``.
            TemplateError: a template is already registered from another file.
        """
        templates, problems = read_templates([path])
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise FlowError(errors)
        for template in templates:
            if template.name in self._by_name:
                self.add(template)  # raises, naming both places
        for template in templates:
            self.add(template)
        self.files.append(Path(path))

    def render(self, name: str, values: Mapping[str, object] | None = None, /, *,
               ignore_unknown: bool = False, **more: object) -> Template:
        """The :class:`~botkit.Template` reply of template ``name`` with these values
        (see :meth:`RegisteredTemplate.render`).

        Raises:
            TemplateError: no such template, or values that do not fit it.
        """
        return self[name].render(values, ignore_unknown=ignore_unknown, **more)


def load_templates(*paths: PathLike) -> TemplateRegistry:
    """A registry of the templates in ``paths`` (files, or folders searched for
    ``templates.yaml``).

    Raises:
        FlowError: every problem of every file as ``file:line:column: message``.
    """
    registry = TemplateRegistry()
    for path in find_template_files(paths) if paths else []:
        registry.add_file(path)
    return registry
