"""The renderer's parts; :mod:`botkit.render` is the public entry point.

* :mod:`.output`: :class:`~.output.Rendered` and the accumulator that writes wire bodies
  (v1 flat or v0.1 nested), splits long text and records decisions.
* :mod:`.text`: shortening titles (unique after shortening) and splitting text.
* :mod:`.hints`: the localised strings a downgraded menu shows (``Reply 1-3``).
* :mod:`.buttons`: :class:`~botkit.replies.Buttons` (reply buttons, lists, text menus, links).
* :mod:`.content`: location, contact (and the MMS vCard), media and templates.

Every choice between native and downgraded reads :mod:`botkit.capabilities` only.
"""

from __future__ import annotations

__all__: list[str] = []
