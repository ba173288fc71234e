"""Production messaging rules: opt-outs, the customer-care window, keyword answers.

The internal API the outbound paths use (every one of them goes through it):

* ``bot.policy.gate(replies, conversation, now=...)`` -> :class:`Gated`: which replies go
  out (fallback templates in place of what the closed window refuses, with decision
  ``notes`` for the sandbox) and which are held back (``held``: :class:`~botkit.errors.OptedOut`,
  :class:`~botkit.errors.WindowClosed`). Pure: reads and reports nothing. For a turn,
  whose conversation was loaded with its opt-out flag.
* ``await bot.policy.settle(gated, key, event=...)``: count (``opted_out``,
  ``window_closed``, ``window_fallback``) and report each held message to
  ``@bot.on_error``; a :class:`WindowClosed` handler's template answer joins
  ``gated.replies``.
* ``await bot.policy.gate_key(replies, key)``: both, outside a turn (one store read per
  call: the conversation with its opt-out flag and window time). ``bot.queue`` uses it,
  and with it ``bot.send``.
* ``await bot.store.opted_out(keys)`` -> the set of keys on the list, one read for many
  (broadcasts); ``opted_out_at(keys)`` -> when each opted out (the sender asks it for a
  message that waited in the queue, :mod:`botkit.compliance.queued`); ``opt_out(key,
  at=, via=)``, ``opt_in(key)``, ``opt_outs(after=, limit=)``.
* :func:`window_of` (a channel's :class:`~botkit.channels.base.CareWindow`),
  :func:`is_open`, :func:`last_inbound`, :func:`note_inbound`, :func:`passes_closed`.
* ``await bot.keyword_desk.answer(event, conversation)`` -> :class:`KeywordTurn` or None:
  STOP/START/HELP, run by the worker before anything else in a turn.
"""

from __future__ import annotations

from botkit.compliance.keywords import KeywordDesk, KeywordTurn
from botkit.compliance.policy import Gated, OutboundPolicy
from botkit.compliance.window import (
    LAST_IN_KEY,
    is_open,
    last_inbound,
    note_inbound,
    passes_closed,
    window_of,
)

__all__ = [
    "LAST_IN_KEY",
    "Gated",
    "KeywordDesk",
    "KeywordTurn",
    "OutboundPolicy",
    "is_open",
    "last_inbound",
    "note_inbound",
    "passes_closed",
    "window_of",
]
