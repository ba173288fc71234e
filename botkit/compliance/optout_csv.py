"""``botkit optouts export FILE`` and ``botkit optouts import FILE``: the opt-out list as CSV.

Columns: ``channel``, ``user``, ``number`` (ours), ``opted_out_at`` (ISO 8601; empty on
import: now) and ``via`` (the word the user sent; empty on import: ``import``). An
import checks every row first and writes nothing when one is wrong, naming each bad row
by its line; a user already on the list keeps their first record.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botkit.errors import ConfigError
from botkit.store.base import ConversationKey, Store
from botkit.store.optouts import OptOut

__all__ = ["COLUMNS", "add_optouts_parser", "export_optouts", "import_optouts", "read_rows"]

COLUMNS = ("channel", "user", "number", "opted_out_at", "via")
_PAGE = 1000


async def export_optouts(store: Store, path: Path) -> int:
    """Write the whole list to ``path``; returns how many rows."""
    count, after = 0, None
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        while page := await store.opt_outs(after=after, limit=_PAGE):
            for o in page:
                at = datetime.fromtimestamp(o.at, UTC).isoformat().replace("+00:00", "Z")
                writer.writerow((o.key.channel, o.key.user, o.key.bot, at, o.via))
            count += len(page)
            after = page[-1].key
    return count


def read_rows(path: Path, *, now: float) -> list[OptOut]:
    """The file's rows, checked.

    Raises:
        ConfigError: with every bad row as ``FILE:LINE: problem``; nothing is returned.
    """
    from botkit.channels import CHANNELS

    rows, problems = [], []
    with path.open(newline="", encoding="utf-8-sig") as given:
        reader = csv.DictReader(given)
        missing = [c for c in COLUMNS[:3] if c not in (reader.fieldnames or ())]
        if missing:
            raise ConfigError(f"{path}:1: the header needs the columns {', '.join(missing)} "
                              f"(columns: {', '.join(COLUMNS)})")
        for row in _numbered(reader):
            line, fields = row
            channel, user, number = (str(fields.get(c) or "").strip()
                                     for c in ("channel", "user", "number"))
            if channel not in CHANNELS:
                problems.append(f"{path}:{line}: unknown channel {channel!r}; channels are "
                                f"{', '.join(CHANNELS)}")
                continue
            if not user or not number:
                problems.append(f"{path}:{line}: user and number must not be empty")
                continue
            at = str(fields.get("opted_out_at") or "").strip()
            try:
                when = now if not at else datetime.fromisoformat(at).timestamp()
            except ValueError:
                problems.append(f"{path}:{line}: opted_out_at {at!r} is not an ISO 8601 time")
                continue
            via = str(fields.get("via") or "").strip() or "import"
            rows.append(OptOut(ConversationKey(channel, user, number), when, via))
    if problems:
        raise ConfigError("the file has bad rows; nothing was imported:\n  "
                          + "\n  ".join(problems))
    return rows


def _numbered(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for fields in reader:
        yield reader.line_num, fields


async def import_optouts(store: Store, rows: list[OptOut]) -> int:
    """Put each row's user on the list; returns how many were not on it already."""
    added = 0
    for row in rows:
        added += await store.opt_out(row.key, at=row.at, via=row.via)
    return added


def _command(args: argparse.Namespace) -> int:
    from botkit.settings import Settings
    from botkit.store import open_store

    store = open_store(Settings.from_env().store)
    path = Path(args.file)
    rows = read_rows(path, now=time.time()) if args.action == "import" else []

    async def run() -> int:
        await store.open()
        try:
            if args.action == "export":
                return await export_optouts(store, path)
            return await import_optouts(store, rows)
        finally:
            await store.close()

    count = asyncio.run(run())
    if args.action == "export":
        print(f"botkit: exported {count} opt-outs to {path}")
    else:
        print(f"botkit: imported {len(rows)} opt-outs from {path} "
              f"({count} new, {len(rows) - count} on the list already)", file=sys.stdout)
    return 0


def add_optouts_parser(commands: Any) -> None:
    """``botkit optouts export|import FILE`` on the CLI's subcommands."""
    optouts = commands.add_parser(
        "optouts", help="export or import the opt-out list (BOTKIT_STORE) as CSV")
    optouts.add_argument("action", choices=("export", "import"))
    optouts.add_argument("file", help="the CSV file (columns: " + ", ".join(COLUMNS) + ")")
    optouts.set_defaults(handler=_command)
