"""Broadcasts in process: the campaign and recipients files checked whole, a run sending each
recipient once through the bot's gates, resuming after a stop, deferring out of quiet
hours, and a report filled from status webhooks through the real routes."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from botkit import Bot, FakeClock, Settings
from botkit.broadcast import BroadcastRunner, CampaignError, load_campaign, read_recipients
from botkit.broadcast.cli import report_text
from botkit.broadcast.dry_run import plan, plan_text
from botkit.cli import main
from botkit.store import ConversationKey
from botkit.store.campaigns import CampaignReport
from botkit.testing import BotTestClient
from botkit.testing.webhooks import status_webhook

CAMPAIGN = """\
name: spring-sale
from: {sms: "447700900000", whatsapp: "447700900001"}
messages:
  whatsapp:
    template: {name: spring_sale, locale: en_GB, parameters: ["{{ name }}"],
               fallback_text: "Hi {{1}}, 20% off all weekend."}
  sms: "Hi {{ name }}, 20% off all weekend. Reply STOP to opt out."
prices: {sms: 0.0079, whatsapp: 0.0147}
currency: EUR
"""

LONDON = [f"4479111{n:05d}" for n in range(100)]  # UK mobiles: Europe/London
NEW_YORK = [f"1212555{n:04d}" for n in range(100)]  # area code 212: America/New_York


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def write(tmp_path: Path, campaign: str, rows: list[tuple[str, str, str]]) -> tuple[Path, Path]:
    campaign_path = tmp_path / "campaign.yaml"
    campaign_path.write_text(campaign)
    csv_path = tmp_path / "recipients.csv"
    csv_path.write_text("channel,to,name\n" + "".join(f"{c},{t},{n}\n" for c, t, n in rows))
    return campaign_path, csv_path


def test_a_campaign_file_reports_every_problem_at_its_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text('name: "spring sale!"\nfrom: {fax: "1"}\nmessage: "Hi"\ncolour: red\n')
    with pytest.raises(CampaignError) as error:
        load_campaign(path)
    assert error.value.problems == [
        f"{path}:4:1: unknown key 'colour'; keys are bot, currency, flow, from, message, "
        "messages, name, prices, required, state",
        f"{path}:1:7: name: letters, digits, '.', '_' and '-', at most 64",
        f"{path}:2:8: unknown channel 'fax'; channels are sms, mms, rcs, whatsapp, messenger, "
        "viber_service",
    ]


def test_bad_rows_are_listed_with_their_lines_and_nothing_is_read(tmp_path: Path) -> None:
    campaign_path, csv_path = write(tmp_path, CAMPAIGN, [
        ("sms", "447911123456", "Ann"),
        ("fax", "447911123457", "Bo"),
        ("sms", "12", "Cy"),
        ("whatsapp", "447911123458", ""),
        ("sms", "+44 7911 123456", "Ann again"),
    ])
    with pytest.raises(CampaignError) as error:
        read_recipients(csv_path, load_campaign(campaign_path))
    assert error.value.problems == [
        f"{csv_path}:3: unknown channel 'fax': the campaign sends on sms, whatsapp",
        f"{csv_path}:4: '12' is not a valid phone number (international, with the country code)",
        f"{csv_path}:5: missing parameter 'name'",
        f"{csv_path}:6: 447911123456 on sms is listed already, on line 2",
    ]
    assert main(["broadcast", "run", str(campaign_path), "--to", str(csv_path)]) == 2


def test_the_dry_run_shows_each_channel_its_segments_and_cost(tmp_path: Path) -> None:
    long_name = "Zoë" + "e" * 60  # UCS-2 and long: two segments
    campaign_path, csv_path = write(tmp_path, CAMPAIGN, [
        ("sms", LONDON[0], "Ann"), ("sms", LONDON[1], long_name), ("whatsapp", LONDON[2], "Bo"),
    ])
    campaign = load_campaign(campaign_path)
    sms, whatsapp = plan(campaign, read_recipients(csv_path, campaign))
    assert (sms.recipients, sms.messages, sms.segments) == (2, 2, 3)
    assert sms.encodings == Counter({"GSM-7": 1, "UCS-2": 1})
    assert sms.cost == pytest.approx(3 * 0.0079)
    assert (whatsapp.messages, whatsapp.cost) == (1, pytest.approx(0.0147))
    text = plan_text(campaign, [sms, whatsapp])
    assert "Hi Ann, 20% off all weekend. Reply STOP to opt out." in text
    assert "[template spring_sale] Bo" in text
    assert "Estimated total: 0.0384 EUR" in text
    assert "== sms (from 447700900000): 2 recipients, 2 messages" in text
    assert "== whatsapp (from 447700900001): 1 recipient, 1 message\n" in text


def test_the_dry_run_counts_segments_in_the_encoding_the_message_forces(
    tmp_path: Path,
) -> None:
    # 71 GSM-7 characters: one segment as GSM-7, two as UCS-2 (70 a segment).
    forced = CAMPAIGN.replace(
        '  sms: "Hi {{ name }}, 20% off all weekend. Reply STOP to opt out."',
        '  sms: {text: "Hi {{ name }}, 20% off all weekend. Reply STOP to opt out. '
        'See you there!!", options: {encoding_type: unicode}}')
    campaign_path, csv_path = write(tmp_path, forced, [("sms", LONDON[0], "Annabel")])
    campaign = load_campaign(campaign_path)
    [sms] = plan(campaign, read_recipients(csv_path, campaign))
    assert (sms.messages, sms.segments) == (1, 2)
    assert sms.encodings == Counter({"UCS-2": 1})


def make_bot(tmp_path: Path, clock: FakeClock, **settings: Any) -> Bot:
    return Bot(Settings(store=f"sqlite:///{tmp_path / 'bot.db'}", **settings), clock=clock)


async def run_campaign(bot: Bot, campaign_path: Path, csv_path: Path, **kwargs: Any
                       ) -> CampaignReport:
    campaign = load_campaign(campaign_path)
    runner = BroadcastRunner(bot, campaign, client=bot.client, limiter=bot.sender.limiter,
                             **kwargs)
    await runner.prepare(read_recipients(csv_path, campaign))
    return await runner.run()


async def test_every_recipient_gets_their_message_once(tmp_path: Path) -> None:
    clock = FakeClock(at("2026-01-15 12:00"))
    rows = [("sms" if n % 2 else "whatsapp", LONDON[n], f"N{n}") for n in range(40)]
    campaign_path, csv_path = write(tmp_path, CAMPAIGN, rows)
    bot = make_bot(tmp_path, clock, rate=20)
    async with BotTestClient(bot) as client:
        report = await run_campaign(bot, campaign_path, csv_path, chunk=7)
        sent = client.api.bodies
        assert Counter(b["to"] for b in sent) == Counter({to: 1 for _, to, _ in rows})
        first = next(b for b in sent if b["to"] == LONDON[1])
        assert (first["from"], first["text"]) == (
            "447700900000", "Hi N1, 20% off all weekend. Reply STOP to opt out.")
        assert first["client_ref"] == "bc:spring-sale:3:0"  # line 3 of the file
        template = next(b for b in sent if b["to"] == LONDON[0])
        assert (template["from"], template["template"]["name"]) == (
            "447700900001", "spring_sale")
        # Paced at 20 a second from each of the two numbers: never more in a second.
        for number in ("447700900000", "447700900001"):
            times = sorted(t for b, t in zip(sent, client.api.accepted_times, strict=True)
                           if b["from"] == number)
            assert max(sum(1 for u in times if t <= u < t + 1) for t in times) == 20
    assert (report.total, report.sent, report.failed, report.done) == (40, 40, {}, True)
    assert report.interrupted == 0


async def test_a_stopped_run_resumes_and_counts_what_was_in_flight(tmp_path: Path) -> None:
    clock = FakeClock(at("2026-01-15 12:00"))
    rows = [("sms", LONDON[n], f"N{n}") for n in range(30)]
    campaign_path, csv_path = write(tmp_path, CAMPAIGN, rows)
    campaign = load_campaign(campaign_path)
    bot = make_bot(tmp_path, clock)
    async with BotTestClient(bot) as client:
        runner = BroadcastRunner(bot, campaign, client=bot.client, limiter=None)
        assert await runner.prepare(read_recipients(csv_path, campaign))
        # A run that took 5 recipients and died before sending them.
        await bot.store.campaign_take("spring-sale", now=clock.now(), lease=60, limit=5)
        again = BroadcastRunner(bot, campaign, client=bot.client, limiter=None)
        assert not await again.prepare(read_recipients(csv_path, campaign))  # resumes
        report = await again.run()
        assert (report.sent, report.interrupted) == (30, 5)
        assert len(client.api.bodies) == 30
        assert "interrupted  5" in report_text(report)
        # Another file under the same name is refused, not mixed in.
        csv_path.write_text("channel,to,name\nsms,447911123456,Someone else\n")
        with pytest.raises(CampaignError, match="started from other files"):
            await again.prepare(read_recipients(csv_path, campaign))


async def test_quiet_hours_defer_recipients_to_their_morning(tmp_path: Path) -> None:
    clock = FakeClock(at("2026-01-15 22:30"))  # 22:30 in London, 17:30 in New York
    rows = [("sms", LONDON[0], "Ann"), ("sms", NEW_YORK[0], "Bo")]
    campaign_path, csv_path = write(tmp_path, CAMPAIGN, rows)
    bot = make_bot(tmp_path, clock, quiet_hours="21:00-08:00")
    async with BotTestClient(bot) as client:
        report = await run_campaign(bot, campaign_path, csv_path)
        assert [b["to"] for b in client.api.bodies] == [NEW_YORK[0], LONDON[0]]
        assert client.api.accepted_times[1] >= at("2026-01-16 08:00")
    assert (report.sent, report.deferred, report.done) == (2, 1, True)


async def test_status_webhooks_fill_the_report(tmp_path: Path, capsys: Any) -> None:
    clock = FakeClock(at("2026-01-15 12:00"))
    rows = [("sms", LONDON[n], f"N{n}") for n in range(4)]
    campaign_path, csv_path = write(tmp_path, CAMPAIGN, rows)
    bot = make_bot(tmp_path, clock)
    async with BotTestClient(bot) as client:
        await run_campaign(bot, campaign_path, csv_path)
        bodies = client.api.bodies

        async def status(n: int, what: str, error: dict[str, Any] | None = None) -> None:
            body = bodies[[b["to"] for b in bodies].index(LONDON[n])]
            webhook = status_webhook("sms", f"uuid-{n}", what, user=LONDON[n],
                                     bot="447700900000", timestamp=clock.now(), error=error)
            webhook["client_ref"] = body["client_ref"]
            await client.deliver(webhook, status=True)

        await status(0, "delivered")
        await status(1, "delivered")
        await status(1, "read")
        await status(2, "rejected", {"type": "https://developer.vonage.com/api-errors",
                                     "title": "1320", "detail": "Unroutable"})
        report = await bot.store.campaign_report("spring-sale")
        assert report is not None
        assert (report.sent, report.delivered, report.read) == (4, 1, 1)
        assert sum(report.failed.values()) == 1
    monkey_env = {"BOTKIT_STORE": f"sqlite:///{tmp_path / 'bot.db'}"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in monkey_env.items():
            patch.setenv(name, value)
        # The command runs its own event loop: off this one.
        assert await asyncio.to_thread(main, ["broadcast", "status", "spring-sale"]) == 0
        assert await asyncio.to_thread(main, ["broadcast", "status", "nothing"]) == 2
    out = capsys.readouterr().out
    assert "delivered    1" in out and "read         1" in out


async def test_opted_out_recipients_get_nothing_and_the_window_holds_free_text(
    tmp_path: Path,
) -> None:
    clock = FakeClock(at("2026-01-15 12:00"))
    text_everywhere = (
        'name: spring-sale\nfrom: {sms: "447700900000", whatsapp: "447700900001"}\n'
        'message: "Hi {{ name }}, 20% off all weekend."\n'
    )
    rows = [("sms", LONDON[0], "Ann"), ("sms", LONDON[1], "Bo"), ("whatsapp", LONDON[2], "Cy")]
    campaign_path, csv_path = write(tmp_path, text_everywhere, rows)
    bot = make_bot(tmp_path, clock)
    errors: list[str] = []

    @bot.on_error(Exception)
    async def seen(ctx: Any) -> None:
        errors.append(type(ctx.error).__name__)

    async with BotTestClient(bot) as client:
        await bot.store.opt_out(ConversationKey("sms", LONDON[1], "447700900000"),
                                at=clock.now(), via="test")
        report = await run_campaign(bot, campaign_path, csv_path)
        # Bo opted out; Cy never wrote on WhatsApp, so free text may not go to them.
        assert [b["to"] for b in client.api.bodies] == [LONDON[0]]
    assert (report.sent, report.opted_out, report.failed) == (1, 1, {"window closed": 1})
    assert sorted(errors) == ["OptedOut", "WindowClosed"]
    assert (bot.metrics["opted_out"], bot.metrics["window_closed"]) == (1, 1)


SURVEY = """\
flow: survey
start: ask
states:
  ask:
    say: "Hi {{ name }}! How was order {{ order }}? Reply 1-5."
    on:
      - {text: "^[1-5]$", goto: thanks}
  thanks:
    say: "Thank you!"
    final: true
"""


async def test_a_flow_campaign_starts_the_flow_for_each_recipient(tmp_path: Path) -> None:
    clock = FakeClock(at("2026-01-15 12:00"))
    (tmp_path / "survey.yaml").write_text(SURVEY)
    campaign_path = tmp_path / "campaign.yaml"
    campaign_path.write_text('name: survey-jan\nfrom: {sms: "447700900000"}\nflow: survey\n'
                             "required: [name, order]\n")
    csv_path = tmp_path / "recipients.csv"
    csv_path.write_text("channel,to,name,order\n"
                        f"sms,{LONDON[0]},Ann,A-1\nsms,{LONDON[1]},Bo,A-2\n")
    bot = make_bot(tmp_path, clock)
    bot.add_flow(tmp_path / "survey.yaml")
    async with BotTestClient(bot) as client:
        report = await run_campaign(bot, campaign_path, csv_path)
        assert (report.sent, report.done) == (2, True)
        asked = await client.advance(0)  # the bot's timer pass starts them
        assert sorted((r["to"], r["text"]) for r in asked) == [
            (LONDON[0], "Hi Ann! How was order A-1? Reply 1-5."),
            (LONDON[1], "Hi Bo! How was order A-2? Reply 1-5."),
        ]
        # The flow's first message carries the campaign's reference: its statuses count.
        assert sorted(r["client_ref"] for r in asked) == ["bc:survey-jan:2:0",
                                                          "bc:survey-jan:3:0"]
        first = next(r for r in asked if r["to"] == LONDON[0])
        webhook = status_webhook("sms", "uuid-0", "delivered", user=LONDON[0],
                                 bot="447700900000", timestamp=clock.now())
        webhook["client_ref"] = first["client_ref"]
        await client.deliver(webhook, status=True)
        report = await bot.store.campaign_report("survey-jan")
        assert report is not None and report.delivered == 1
        # The user's answer is the conversation's, not the campaign's.
        [thanks] = await client.send("5", user=LONDON[0])
        assert not str(thanks["client_ref"]).startswith("bc:")
    # A row without an order is refused before anything is stored.
    csv_path.write_text(f"channel,to,name,order\nsms,{LONDON[2]},Cy,\n")
    with pytest.raises(CampaignError, match="missing parameter 'order'"):
        read_recipients(csv_path, load_campaign(campaign_path))
