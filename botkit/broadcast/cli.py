"""``botkit broadcast run CAMPAIGN.yaml --to RECIPIENTS.csv [--dry-run]`` and
``botkit broadcast status NAME``.

``run`` checks both files whole (every bad row listed with its line; nothing is sent
until the file is clean), stores the campaign (or finds it stored: a run resumes where a
stopped one left off), sends with a live progress bar (rate and time left) and prints the
report at the end. ``status`` prints a campaign's report from the store at any time,
delivered and read counts included as status webhooks reach the bot.

Exit codes: 0 done, 1 some recipients failed, 2 a file or setting is wrong (nothing sent).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from botkit.broadcast.campaign import Campaign, load_campaign
from botkit.broadcast.recipients import read_recipients
from botkit.errors import ConfigError
from botkit.settings import Settings
from botkit.store.campaigns import CampaignReport

if TYPE_CHECKING:
    from botkit.bot import Bot
    from botkit.broadcast.runner import Progress as RunProgress

__all__ = ["add_broadcast_parser", "report_text"]


def add_broadcast_parser(commands: Any) -> None:
    """Add ``broadcast run`` and ``broadcast status`` to the ``botkit`` command."""
    broadcast = commands.add_parser("broadcast", help="send a campaign to a list of recipients")
    sub = broadcast.add_subparsers(dest="broadcast_command", required=True)
    run = sub.add_parser("run", help="send (or resume) a campaign")
    run.add_argument("campaign", help="the campaign file (YAML)")
    run.add_argument("--to", required=True, dest="recipients",
                     help="the recipients file (CSV: channel, to, then parameters)")
    run.add_argument("--dry-run", action="store_true",
                     help="show what each channel gets, SMS segments and cost; send nothing")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(handler=_run)
    status = sub.add_parser("status", help="a campaign's report from the store")
    status.add_argument("name", help="the campaign's name")
    status.set_defaults(handler=_status)


def report_text(report: CampaignReport) -> str:
    """A campaign's report as the terminal shows it."""
    created = datetime.fromtimestamp(report.created_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    state = "done" if report.done else "under way"
    lines = [
        f"Campaign {report.name} (created {created}): {state}",
        f"  queued       {report.total}",
        f"  sent         {report.sent}",
        f"  delivered    {report.delivered}",
        f"  read         {report.read}",
        f"  failed       {report.failed_total}",
    ]
    for reason, count in sorted(report.failed.items(), key=lambda item: -item[1]):
        lines.append(f"    {count:>6}  {reason}")
    lines += [
        f"  opted out    {report.opted_out}",
        f"  deferred     {report.deferred}  (quiet hours; {report.waiting} still waiting)",
        f"  in flight    {report.sending}",
        f"  interrupted  {report.interrupted}  (in flight when a run stopped: each may "
        "have had the message twice)",
    ]
    if report.waiting and report.next_due:
        due = datetime.fromtimestamp(report.next_due, UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"  next due     {due}")
    return "\n".join(lines)


def _bot_for(campaign: Campaign, settings: Settings) -> Bot:
    """The bot whose flows, gates and store the campaign uses."""
    from botkit.bot import Bot

    if campaign.bot is None:
        return Bot(settings)
    from botkit.cli import is_flow_target, load_target

    if is_flow_target(campaign.bot):
        from botkit.flows import bot_for_flow

        return bot_for_flow(campaign.bot)
    found = load_target(campaign.bot)
    if not isinstance(found, Bot):
        raise ConfigError(f"bot: {campaign.bot} is a {type(found).__name__}, not a Bot")
    return found


def _run(args: argparse.Namespace) -> int:
    campaign = load_campaign(args.campaign)
    recipients = read_recipients(args.recipients, campaign)
    if args.dry_run:
        from botkit.broadcast.dry_run import plan, plan_text

        settings = Settings.from_env()
        print(plan_text(campaign, plan(campaign, recipients, api_version=settings.api_version,
                                       locale=settings.locale)))
        return 0
    bot = _bot_for(campaign, Settings.from_env())
    if not bot.settings.has_credentials:
        raise ConfigError("a broadcast sends for real: set VONAGE_APPLICATION_ID and "
                          "VONAGE_PRIVATE_KEY (or VONAGE_API_KEY and VONAGE_API_SECRET); "
                          "--dry-run shows what would be sent")
    if campaign.flow is not None:
        bot.flow(campaign.flow)  # a flow the bot does not have: refused before anything
    report = asyncio.run(_send(bot, campaign, recipients, progress=not args.no_progress))
    print(report_text(report))
    return 1 if report.failed_total else 0


async def _send(bot: Bot, campaign: Campaign, recipients: Any, *, progress: bool
                ) -> CampaignReport:
    from botkit.auth import auth_from_settings
    from botkit.broadcast.runner import BroadcastRunner
    from botkit.client import MessagesClient
    from botkit.ratelimit import rate_limiter_for
    from botkit.transports import make_transport

    settings = bot.settings
    console = Console(stderr=True)
    await bot.store.open()
    client = MessagesClient(auth=auth_from_settings(settings, bot.clock),
                            url=settings.messages_url,
                            transport=make_transport(settings.http_transport), clock=bot.clock)
    try:
        limiter = None if settings.rate is None else rate_limiter_for(
            bot.store, settings.rate, clock=bot.clock, sleep=bot.sleep)
        bar = _Bar(console, campaign.name) if progress else None
        runner = BroadcastRunner(bot, campaign, client=client, limiter=limiter,
                                 on_progress=None if bar is None else bar.update)
        if not await runner.prepare(recipients):
            console.print(f"Resuming campaign {campaign.name} from the store.")
        if bar is None:
            return await runner.run()
        with bar.progress:
            return await runner.run()
    finally:
        await client.aclose()
        await bot.store.close()


class _Bar:
    """The live progress bar: recipients settled of all, rate, time left."""

    def __init__(self, console: Console, name: str) -> None:
        self.progress = Progress(
            TextColumn(f"[bold]{name}"), BarColumn(), MofNCompleteColumn(),
            TaskProgressColumn(), TextColumn("{task.fields[rate]:>8.1f} msg/s"),
            TimeRemainingColumn(), TextColumn("{task.fields[note]}"),
            console=console, transient=False,
        )
        self.task = self.progress.add_task(name, total=None, rate=0.0, note="")
        self._start: tuple[float, int] | None = None

    def update(self, run: RunProgress) -> None:
        now = time.monotonic()
        if self._start is None:
            self._start = (now, run.done)
        elapsed = now - self._start[0]
        rate = (run.done - self._start[1]) / elapsed if elapsed > 0 else 0.0
        note = ""
        if run.counts.get("deferred"):
            note = f"{run.counts['deferred']} deferred (quiet hours)"
        self.progress.update(self.task, total=run.total, completed=run.done, rate=rate,
                             note=note)


def _status(args: argparse.Namespace) -> int:
    settings = Settings.from_env()

    async def read() -> CampaignReport | None:
        from botkit.store import open_store

        store = open_store(settings.store)
        await store.open()
        try:
            return await store.campaign_report(args.name)
        finally:
            await store.close()

    report = asyncio.run(read())
    if report is None:
        print(f"botkit: no campaign named {args.name!r} in {settings.store}", file=sys.stderr)
        return 2
    print(report_text(report))
    return 0
