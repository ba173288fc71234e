"""botkit's log lines when the application set up no logging of its own.

``botkit run`` configures logging; ``uvicorn mybot:app`` does not (uvicorn sets up only its
own loggers), and Python would then drop every INFO line botkit writes. The app's
lifespan calls :func:`log_by_default`, which shows them the same way, unless the
application configured logging itself.
"""

from __future__ import annotations

import logging

__all__ = ["LOG_FORMAT", "log_by_default"]

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
"""How ``botkit run`` (and botkit's own handler) formats a line."""


def log_by_default() -> bool:
    """Show botkit's INFO lines on stderr if nothing configured logging; True if it did.

    Any configuration is left alone: a handler on the root logger (``basicConfig``,
    ``dictConfig``, pytest's capture) or on the ``botkit`` logger, or a level set on it.
    """
    own = logging.getLogger("botkit")
    if logging.getLogger().handlers or own.handlers or own.level != logging.NOTSET:
        return False
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    own.addHandler(handler)
    own.setLevel(logging.INFO)
    return True
