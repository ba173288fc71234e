"""Reactions, quotes, the typing indicator, revoking, stickers, rich templates and failover
in the sandbox page, in a real browser (Debian's Chromium driven by Playwright).

A test bot on WhatsApp marks the user's message read with its replying indicator, thinks
for a moment, then reacts to the message and answers quoting it; the user reacts to the
bot's answer and quotes it back from the pane's message tools; a rich template's
quick-reply button is tapped. On RCS the pane's "Reject" switch makes the fake API reject
the bot's carousel, whose SMS failover step then arrives in the SMS pane, and "2" typed
there answers its numbered menu; an RCS offer is revoked. The picture goes to
``$BOTKIT_ARTIFACTS`` (default ``test-artifacts/``).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx

from botkit import (
    Bot,
    Button,
    Card,
    Carousel,
    Context,
    Image,
    Reaction,
    Settings,
    Sticker,
    Template,
    TemplateButton,
    TemplateParameter,
)

from .browser import (
    TIMEOUT,
    artifacts,
    open_page,
    require_browser,
    say,
    serve,
    serve_example_com,
    unnamed_controls,
)

THINKING = 3.0  # seconds the bot "types" before it answers


def _bot(tmp: Path) -> Bot:
    bot = Bot(Settings(store=f"sqlite:///{tmp / 'extras.db'}"))

    @bot.on_text(r"(?i)^thanks$")
    async def thanks(ctx: Context) -> None:
        await ctx.bot.client.update(ctx.message.message_uuid, {
            "status": "read", "replying_indicator": {"show": True, "type": "text"}})
        await asyncio.sleep(THINKING)
        await ctx.reply(Reaction("❤️"))
        await ctx.reply("Any time! Anything else?", quote=True)

    @bot.on_text(r"(?i)^template$")
    async def template(ctx: Context) -> None:
        await ctx.reply(Template(
            "dental_appointment",
            [TemplateParameter.text_value("Alex", name="customer_name"),
             TemplateParameter.date_time("Friday 3 May, 10:00", name="appointment_date")],
            "en", header=Image("https://example.com/clinic.jpg"),
            buttons=[TemplateButton.quick_reply("confirm"), TemplateButton.quick_reply("move")],
            fallback_text="{{customer_name}}, see you {{appointment_date}}?"))
        await ctx.reply(Sticker("https://example.com/wave.webp"))

    @bot.on_button("confirm", "move")
    async def appointment(ctx: Context) -> None:
        assert ctx.message.button is not None
        await ctx.reply(f"Appointment: {ctx.message.button.payload} "
                        f"(quoting {'yes' if ctx.message.reply_to else 'no'})")

    @bot.on_text(r"(?i)^menu$")
    async def menu(ctx: Context) -> None:
        await ctx.reply(Carousel([
            Card("Margherita", "9.50", Image("https://example.com/m.jpg"), [Button("Order", "m")]),
            Card("Diavola", "11.00", Image("https://example.com/d.jpg"), [Button("Order", "d")]),
        ], failover=["sms"]))

    @bot.on_button("m", "d")
    async def ordered(ctx: Context) -> None:
        assert ctx.message.button is not None
        await ctx.reply(f"{ctx.message.button.title} ordered on {ctx.key.channel}")

    @bot.on_text(r"(?i)^sale$")
    async def sale(ctx: Context) -> None:
        [uuid] = await ctx.bot.send("rcs", ctx.message.sender, "Sale: 2 for 1 until 6 pm",
                                    sender=ctx.message.recipient)
        await ctx.bot.revoke(uuid)
        await ctx.reply("Sorry, the sale is over.")

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        quoted = " (quoting my message)" if ctx.message.reply_to else ""
        await ctx.reply(f"You said {ctx.message.text}{quoted}")

    @bot.on_message()
    async def other(ctx: Context) -> None:
        reaction = ctx.event.raw.get("reaction") or {}
        await ctx.reply(f"Noted your reaction {reaction.get('emoji', '(removed)')}")

    return bot


def _last(page: Any, channel: str) -> Any:
    bubbles = f"#pane-{channel} .msg--out:not(.msg--reaction):not(.msg--typing) .bubble"
    return page.locator(bubbles).last


def test_reactions_quotes_typing_and_failover_in_chromium(tmp_path: Path) -> None:
    sync_api = require_browser()
    with serve(_bot(tmp_path)) as base:
        with open_page(sync_api, base) as (page, errors):
            expect = sync_api.expect
            serve_example_com(page)
            _whatsapp(page, expect)
            _failover(page, expect)
            assert unnamed_controls(page) == []
            page.wait_for_timeout(1200)  # the last ticks
            shot = artifacts() / "sandbox-extras.png"
            page.screenshot(path=str(shot))
            assert errors == []
        timeline = httpx.get(f"{base}/sandbox/messages", timeout=10).json()["messages"]
    _check_webhooks(timeline)
    assert shot.stat().st_size > 20_000


def _whatsapp(page: Any, expect: Any) -> None:
    pane = page.locator("#pane-whatsapp")
    # Read, then "typing…" while the bot thinks; its reply ends the indicator.
    say(page, "whatsapp", "thanks")
    mine = pane.locator(".msg--in").filter(has_text="thanks").last
    expect(pane.locator(".msg--typing")).to_be_visible(timeout=TIMEOUT)
    expect(pane.locator(".pane__sub")).to_have_text("typing…")
    expect(mine.locator(".ticks--read")).to_be_visible()
    pane.screenshot(path=str(artifacts() / "sandbox-typing.png"))
    answer = pane.locator(".msg--out").filter(has_text="Any time!").last
    expect(answer).to_be_visible(timeout=TIMEOUT)
    expect(pane.locator(".msg--typing")).to_have_count(0)
    # The bot's reaction is a badge on the user's message, not a bubble; its reply quotes it.
    expect(mine.locator(".reaction--out")).to_have_text("❤️")
    assert pane.locator(".msg--reaction").count() == 1  # only its details pill
    expect(answer.locator(".quote")).to_contain_text("thanks")
    # The user reacts to the bot's answer from its tools; the bot hears the webhook.
    answer.get_by_role("button", name="React to this message").click()
    answer.get_by_role("button", name="React with 😂").click()
    expect(answer.locator(".reaction--in")).to_have_text("😂", timeout=TIMEOUT)
    expect(_last(page, "whatsapp")).to_contain_text("Noted your reaction 😂", timeout=TIMEOUT)
    # ... and quotes it in a reply.
    answer.get_by_role("button", name="Reply to this message (quote it)").click()
    expect(pane.locator(".quoting")).to_be_visible()
    expect(pane.locator(".quoting__text")).to_contain_text("Any time!")
    say(page, "whatsapp", "that was quick")
    expect(pane.locator(".quoting")).to_be_hidden()
    quoting = pane.locator(".msg--in").filter(has_text="that was quick").last
    expect(quoting.locator(".quote")).to_contain_text("Any time!", timeout=TIMEOUT)
    expect(_last(page, "whatsapp")).to_contain_text("(quoting my message)", timeout=TIMEOUT)
    pane.screenshot(path=str(artifacts() / "sandbox-reactions-quotes.png"))
    # A rich template: header picture, named values, quick replies tapped as WhatsApp does;
    # then a sticker, drawn without a bubble.
    say(page, "whatsapp", "template")
    template = pane.locator(".msg--out").filter(has_text="dental_appointment").last
    expect(template.locator("img.media")).to_have_js_property("complete", True, timeout=TIMEOUT)
    expect(template.locator(".template__values")).to_contain_text("Friday 3 May, 10:00")
    expect(pane.locator(".msg--sticker img.sticker")).to_be_visible(timeout=TIMEOUT)
    template.get_by_role("button", name="confirm").click()
    expect(_last(page, "whatsapp")).to_contain_text("Appointment: confirm (quoting yes)",
                                                    timeout=TIMEOUT)


def _failover(page: Any, expect: Any) -> None:
    rcs, sms = page.locator("#pane-rcs"), page.locator("#pane-sms")
    reject = rcs.get_by_role("button", name="Reject the bot's RCS messages")
    reject.click()
    expect(reject).to_have_attribute("aria-pressed", "true")
    say(page, "rcs", "menu")
    carousel = rcs.locator(".msg--carousel").last
    expect(carousel.locator(".ticks--rejected")).to_be_visible(timeout=TIMEOUT)
    expect(carousel.locator(".failover-tag")).to_contain_text("SMS")
    carousel.locator("summary").click()
    expect(carousel.locator(".failover-steps")).to_contain_text("2. SMS")
    expect(carousel.locator(".failover-steps")).to_contain_text("1. Margherita")
    carousel.locator("summary").click()  # closed again, for the picture
    # The SMS step arrives in the SMS pane, says what it stands in for, and is answered.
    step = sms.locator(".msg--out").filter(has_text="Failover step 2 of 2").last
    expect(step).to_contain_text("the RCS message was rejected", timeout=TIMEOUT)
    expect(step).to_contain_text(re.compile(r"1\. Margherita\s+2\. Diavola"))
    expect(step.locator(".ticks--delivered")).to_be_visible(timeout=TIMEOUT)
    say(page, "sms", "2")
    expect(_last(page, "sms")).to_contain_text("Diavola ordered on sms", timeout=TIMEOUT)
    reject.click()
    expect(reject).to_have_attribute("aria-pressed", "false")
    # A revoked offer is struck through and labelled.
    say(page, "rcs", "sale")
    offer = rcs.locator(".msg--out").filter(has_text="Sale: 2 for 1").last
    expect(offer).to_have_class(re.compile(r"msg--revoked"), timeout=TIMEOUT)
    expect(offer.locator(".revoked-label")).to_have_text("revoked")
    expect(_last(page, "rcs")).to_contain_text("the sale is over", timeout=TIMEOUT)
    rcs.scroll_into_view_if_needed()


def _check_webhooks(timeline: list[dict[str, Any]]) -> None:
    """The page sent the reference's webhook shapes; the fake API kept the PATCH calls."""
    by_kind = {e["body"].get("message_type"): e for e in timeline if e["direction"] == "in"}
    reaction = by_kind["reaction"]["body"]
    assert reaction["reaction"] == {"action": "react", "emoji": "😂"}
    assert set(reaction["context"]) == {"message_uuid", "message_from"}
    tap = by_kind["button"]["body"]
    assert tap["button"] == {"payload": "confirm", "text": "confirm"}
    assert tap["context_status"] == "available" and "message_uuid" in tap["context"]
    read = [e for e in timeline if e["direction"] == "in" and e["updates"]]
    assert read and read[0]["updates"][0]["body"]["replying_indicator"] == {
        "show": True, "type": "text"}
    revoked = [e for e in timeline if e["revoked"]]
    assert len(revoked) == 1 and revoked[0]["channel"] == "rcs"
    steps = [e for e in timeline if e["step_of"] is not None]
    assert [(s["channel"], s["workflow"]["items_number"]) for s in steps] == [("sms", "2")]
