"""botkit's log lines when the application set up no logging of its own.

``botkit run`` configures logging; ``uvicorn mybot:app`` does not (uvicorn sets up only its
own loggers), and Python would then drop every INFO line botkit writes. The app's
lifespan calls :func:`log_by_default`, which shows them the same way, unless the
application configured logging itself.
"""

from __future__ import annotations

import logging

__all__ = ["LOG_FORMAT", "LineFormatter", "log_by_default"]

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
"""How ``botkit run`` (and botkit's own handler) formats a line (see :class:`LineFormatter`)."""

_OWN_PREFIX = "botkit: "


class LineFormatter(logging.Formatter):
    """:data:`LOG_FORMAT`, naming the logger once.

    botkit's messages start with ``botkit: `` so they read well in any format; with the
    logger's name in front as well a line would say it twice (``INFO botkit: botkit: ...``).
    Such a line shows as ``INFO botkit: ...``; every other line (another library's, or a
    botkit message without the prefix) keeps the logger's name.
    """

    def __init__(self) -> None:
        super().__init__(LOG_FORMAT)
        self._bare = logging.Formatter("%(levelname)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if (record.name == "botkit" or record.name.startswith("botkit.")) and str(
            record.msg
        ).startswith(_OWN_PREFIX):
            return self._bare.format(record)
        return super().format(record)


def log_by_default() -> bool:
    """Show botkit's INFO lines on stderr if nothing configured logging; True if it did.

    Any configuration is left alone: a handler on the root logger (``basicConfig``,
    ``dictConfig``, pytest's capture) or on the ``botkit`` logger, or a level set on it.
    """
    own = logging.getLogger("botkit")
    if logging.getLogger().handlers or own.handlers or own.level != logging.NOTSET:
        return False
    handler = logging.StreamHandler()
    handler.setFormatter(LineFormatter())
    own.addHandler(handler)
    own.setLevel(logging.INFO)
    return True
