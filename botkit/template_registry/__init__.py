"""Templates as data: the WhatsApp templates a bot may send, in a registry file.

A registry file (``templates.yaml`` beside the flows, ``BOTKIT_TEMPLATES``, or
``bot.add_templates(path)``) names each approved template with its language, category,
typed parameters, media header, buttons and the fallback text other channels get
(:mod:`botkit.template_registry.load` shows the format). ``botkit check`` checks the file
and every use of it in flows; the bot checks them when it starts.

The API (for handlers, broadcasts, anything that fills templates from data):

* ``bot.templates`` -> :class:`TemplateRegistry`, a mapping of name to
  :class:`RegisteredTemplate`;
* ``bot.templates.render(name, values=None, /, ignore_unknown=False, **values)`` -> a
  :class:`~botkit.Template` reply, native on WhatsApp and its ``text:`` elsewhere;
  raises :class:`~botkit.errors.TemplateError` (``.problems`` by value name);
* ``bot.templates[name].required`` (the values without a default), ``.value_names``,
  ``.payloads`` (its quick replies), ``.problems(values, ignore_unknown=True)`` -> ``{}``
  when the values fit (a CSV row, checked without raising);
* :func:`load_templates` (files or folders) for use without a bot.
"""

from __future__ import annotations

from botkit.template_registry.entry import (
    ButtonSpec,
    HeaderSpec,
    ParameterSpec,
    RegisteredTemplate,
)
from botkit.template_registry.registry import (
    REGISTRY_FILES,
    TemplateRegistry,
    find_template_files,
    is_registry_file,
    load_templates,
)

__all__ = [
    "REGISTRY_FILES",
    "ButtonSpec",
    "HeaderSpec",
    "ParameterSpec",
    "RegisteredTemplate",
    "TemplateRegistry",
    "find_template_files",
    "is_registry_file",
    "load_templates",
]
