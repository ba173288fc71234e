"""The recipients file of a broadcast (``RECIPIENTS.csv``), read and checked whole.

Columns: ``channel``, ``to``, then one per template parameter or flow data item
(``name``, ``appointment_at``, ...), named in a header row. Every row is checked before
anything is sent: the channel is one the campaign sends on, the number is a valid one
(``phonenumbers``; a Messenger id only needs to be there), every column the channel's
message uses is filled, the message renders, and no one is listed twice on a channel.
Each bad row is reported with its line number, all at once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import phonenumbers

from botkit.broadcast.campaign import Campaign, CampaignError
from botkit.flows.templating import render_data
from botkit.quiet_hours import PHONE_CHANNELS
from botkit.replies import reply_from_data
from botkit.store.campaigns import Recipient

__all__ = ["RecipientsFile", "normalise_number", "read_recipients"]

_FIXED = ("channel", "to")


@dataclass(frozen=True, slots=True)
class RecipientsFile:
    """A checked recipients file: its rows as recipients, and its bytes (for the
    campaign's fingerprint)."""

    recipients: list[Recipient]
    content: bytes


def normalise_number(text: str) -> str | None:
    """``+44 7911 123456`` as ``447911123456``; None when it is not a valid number."""
    digits = text.strip()
    if not digits:
        return None
    try:
        number = phonenumbers.parse(digits if digits.startswith("+") else "+" + digits)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


def read_recipients(path: str | Path, campaign: Campaign) -> RecipientsFile:
    """Read ``path`` and check every row against ``campaign``.

    Raises:
        CampaignError: every bad row, as ``path:line: message``; nothing is returned.
    """
    path = Path(path)
    try:
        content = path.read_bytes()
        text = content.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignError([f"{path}: cannot read the recipients file ({exc})"]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[str] = []
    header = next(reader, None)
    if header is None:
        raise CampaignError([f"{path}:1: the file is empty; the first row names the columns "
                             "(channel,to,...)"])
    header = [h.strip() for h in header]
    missing = [c for c in _FIXED if c not in header]
    if missing:
        raise CampaignError([f"{path}:1: the header has no {' or '.join(missing)} column "
                             f"(it has: {', '.join(header)})"])
    if len(set(header)) != len(header):
        raise CampaignError([f"{path}:1: a column name appears twice in the header"])
    recipients: list[Recipient] = []
    seen: dict[tuple[str, str], int] = {}
    line = reader.line_num
    for row in reader:
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # blank lines are no one
        where = f"{path}:{start}"
        if len(row) != len(header):
            problems.append(f"{where}: {len(row)} cells where the header has {len(header)}")
            continue
        cells = {name: cell.strip() for name, cell in zip(header, row, strict=True)}
        found = _check_row(cells, campaign)
        if isinstance(found, str):
            problems.append(f"{where}: {found}")
            continue
        channel, to = found
        earlier = seen.setdefault((channel, to), start)
        if earlier != start:
            problems.append(f"{where}: {to} on {channel} is listed already, on line {earlier}")
            continue
        data = {k: v for k, v in cells.items() if k not in _FIXED}
        recipients.append(Recipient(start, channel, to, data))
    if problems:
        raise CampaignError(problems)
    if not recipients:
        raise CampaignError([f"{path}: no recipients (only a header)"])
    return RecipientsFile(recipients, content)


def _check_row(cells: dict[str, str], campaign: Campaign) -> tuple[str, str] | str:
    """``(channel, to)`` for a good row, else what is wrong with it."""
    channel = cells["channel"]
    if channel not in campaign.senders:
        sends_on = ", ".join(campaign.channels)
        return f"unknown channel {channel!r}: the campaign sends on {sends_on}"
    raw = cells["to"]
    if channel in PHONE_CHANNELS:
        to = normalise_number(raw)
        if to is None:
            return f"{raw!r} is not a valid phone number (international, with the country code)"
    else:
        to = raw
        if not to:
            return "to: empty"
    missing = sorted(c for c in campaign.columns.get(channel, ()) if not cells.get(c))
    if missing:
        names = ", ".join(repr(m) for m in missing)
        return f"missing parameter{'s' if len(missing) > 1 else ''} {names}"
    message = campaign.messages.get(channel)
    if message is not None:
        try:
            reply_from_data(render_data(message, cells))
        except Exception as exc:  # a template error, or a reply the channel cannot take
            return f"the message does not render: {exc}"
    return channel, to
