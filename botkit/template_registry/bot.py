"""The bot's templates (a mixin of :class:`botkit.Bot`): ``bot.templates``, loaded at first
use from ``BOTKIT_TEMPLATES``, and ``bot.add_templates(path)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botkit.errors import ConfigError
from botkit.flows.source import PathLike
from botkit.template_registry.registry import TemplateRegistry

if TYPE_CHECKING:
    from botkit.settings import Settings

__all__ = ["TemplatesMixin"]


class TemplatesMixin:
    """``bot.templates`` (:class:`TemplateRegistry`) and ``bot.add_templates``."""

    settings: Settings
    _templates: TemplateRegistry | None = None

    @property
    def templates(self) -> TemplateRegistry:
        """The bot's registered templates: ``BOTKIT_TEMPLATES``, ``templates.yaml``
        beside its flows (``botkit run bots/``), and each :meth:`add_templates` file."""
        if self._templates is None:
            registry = TemplateRegistry()
            if self.settings.templates is not None:
                registry.add_file(self.settings.templates)
            self._templates = registry
        return self._templates

    def add_templates(self, path: PathLike) -> TemplateRegistry:
        """Load a template registry file into ``bot.templates`` (all of it or nothing).

        Example:
            bot.add_templates("templates.yaml")
            await ctx.reply(bot.templates.render("order_shipped", order="AB123"))

        Raises:
            FlowError: the file's problems as ``file:line:column: message``.
            TemplateError: a name it registers is registered already.
        """
        registry = self.templates
        if any(path == done or str(path) == str(done) for done in registry.files):
            return registry
        registry.add_file(path)
        return registry

    def check_templates(self) -> None:
        """Check that ``BOTKIT_WINDOW_FALLBACK`` names a registered template (the bot runs
        this when it starts).

        Raises:
            ConfigError: it names no registered template.
        """
        name = self.settings.window_fallback
        if name is not None and name not in self.templates:
            raise ConfigError(f"BOTKIT_WINDOW_FALLBACK: {self.templates.unknown(name)}")
