"""Registered templates in flows: ``say: {template: NAME, parameters: {...}}`` and a state's
``fallback:``, checked against the registry and turned into replies when the flow runs.

A use names a template of the registry (``templates.yaml`` beside the flows) and gives
its values under ``parameters``, each a Jinja template rendered from the conversation's
slots when the state is entered. ``botkit check`` finds unknown templates, missing and
unknown values, and literal values that do not fit their type; values with ``{{ }}`` are
checked when they are rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botkit.flows.templating import render_data

if TYPE_CHECKING:
    from botkit._templates import Template
    from botkit.template_registry import RegisteredTemplate

__all__ = ["is_template_use", "render_use", "use_problem"]

_USE_KEYS = ("template", "parameters", "options", "failover")


def is_template_use(value: Any) -> bool:
    """Whether reply data names a registered template (``template:`` is a name)."""
    return isinstance(value, Mapping) and isinstance(value.get("template"), str)


def _literal(value: Any) -> bool:
    return not (isinstance(value, str) and ("{{" in value or "{%" in value))


def use_problem(
    value: Any, templates: Mapping[str, RegisteredTemplate] | None,
) -> tuple[tuple[str | int, ...], str] | None:
    """The problems of a use, or None: the path in the use of the first, and a message
    naming them all (``needs 'order' (values: ...); items: expected ...``).

    ``value`` is a mapping with ``template`` (a name) and ``parameters``, or a bare name
    (a ``fallback:``, whose values come from the slots of the same names). ``templates``
    None leaves names and values unchecked (the shape is always checked).
    """
    if isinstance(value, str):
        value = {"template": value}
        bare = True
    else:
        bare = False
    if not isinstance(value, Mapping):
        return (), "expected a template name, or {template: name, parameters: {...}}"
    for key in value:
        if key not in _USE_KEYS:
            return (key,), (f"unknown key {key!r} (a registered template takes template, "
                            "parameters, options, failover)")
    name = value.get("template")
    if not isinstance(name, str) or not name.strip():
        return ("template",), "template: the name of a template of the registry"
    parameters = value.get("parameters", {})
    if not isinstance(parameters, Mapping):
        return ("parameters",), "parameters: a mapping of value name: value"
    if templates is None:
        return None
    if name not in templates:
        from botkit.template_registry import TemplateRegistry

        known = TemplateRegistry(templates.values())
        return ("template",), f"template: {known.unknown(name)}"
    if bare:
        return None  # the slots are only known when it runs
    # Every problem of the use at once (at the first one's place), so that an author
    # fixes them in one go instead of one per run of ``botkit check``.
    template = templates[name]
    literal = {k: v for k, v in parameters.items() if _literal(v)}
    problems: list[tuple[tuple[str | int, ...], str]] = []
    given = set(parameters)
    missing = [n for n in template.required if n not in given]
    if missing:
        where = ("parameters",) if "parameters" in value else ("template",)
        named = [repr(n) for n in missing]
        needs = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
        problems.append((where, f"template {name!r} needs {needs} (values: "
                                f"{', '.join(template.value_names)})"))
    problems += [(("parameters", key), f"{key}: {why}")
                 for key, why in template.problems(literal).items()
                 if key in literal]  # a value with {{ }} is checked once rendered
    if not problems:
        return None
    return problems[0][0], "; ".join(message for _, message in problems)


def render_use(value: Any, variables: Mapping[str, Any],
               templates: Mapping[str, RegisteredTemplate]) -> Template:
    """The :class:`~botkit.Template` of a use, its values rendered from ``variables``.

    A bare name takes its values from the variables of the same names (the slots).

    Raises:
        TemplateError: unknown template, or a value that does not fit when rendered.
    """
    from botkit.template_registry import TemplateRegistry

    registry = templates if isinstance(templates, TemplateRegistry) else TemplateRegistry(
        templates.values())
    if isinstance(value, str):
        template = registry[value]
        values = {n: variables[n] for n in template.value_names
                  if variables.get(n) not in (None, "")}
        return template.render(values)
    values = render_data(dict(value.get("parameters") or {}), variables)
    reply = registry[value["template"]].render(values)
    envelope = {k: value[k] for k in ("options", "failover") if k in value}
    if envelope:
        reply = type(reply).model_validate({**reply.model_dump(exclude_unset=True),
                                            **envelope})
    return reply
