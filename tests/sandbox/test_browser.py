"""The sandbox page in a real browser: Debian's Chromium driven by Playwright, no download.

The pizza bot is served by uvicorn on an ephemeral port. On WhatsApp (and RCS, where the
buttons are chips) the order is placed by tapping; on SMS by typing the menu numbers
("2"). All follow the flow's own first conversation test (``bots/pizza.test.yaml``), so
the expected replies are the ones its author pinned. Test handlers also send a body that
breaks Viber's limits, which the page must show in red, and an MMS album (two pictures in
one message).

The RCS pane is then driven on its own: a bot sends the reference's RCS bodies (a chip of
every type, a vertical and a horizontal card, a carousel, image, video and file), and the
test taps chips and checks the webhooks they sent. Screenshots go to ``$BOTKIT_ARTIFACTS``
(default: ``test-artifacts/`` in the checkout).

Without Chromium or Playwright the tests skip and say why; under ``CI=true`` they fail.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from botkit import (
    Bot,
    Button,
    Buttons,
    Card,
    Carousel,
    Context,
    Image,
    MediaGroup,
    Settings,
    Video,
)
from botkit.convtest.spec import ReplyExpectation, load_test_file

from ..reference import CURRENT
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
from .conftest import ROOT, bot_for

BROKEN = "send a broken message"
ALBUM = "send an album"


# --- the conversation to hold ---------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    user: str | None = None
    tap: str | None = None
    expect: tuple[str | re.Pattern[str], ...] = ()


def _expected(reply: ReplyExpectation) -> str | re.Pattern[str]:
    if reply.text is not None:
        return " ".join(reply.text.split())
    assert reply.match is not None
    return re.compile(reply.match, re.M)  # a bubble shows its time on a line below


def _script(flow: Path) -> list[Step]:
    """The first case of the flow's conversation tests, or the test flow's own order."""
    tests = flow.with_name(flow.stem + ".test.yaml")
    if tests.is_file():
        case = load_test_file(tests).cases[0]
        return [Step(t.user, t.tap, tuple(_expected(r) for r in t.bot or ()))
                for t in case.turns if t.user is not None or t.tap is not None]
    return [Step(user="pizza", expect=("What size?",)), Step(tap="Medium"),
            Step(user="2", expect=("Which crust?",)), Step(tap="Classic"),
            Step(user="1 Main St"), Step(tap="Yes", expect=("Thanks!",))]


def _pizza_bot(tmp: Path) -> Bot:
    folder = ROOT / "bots" if (ROOT / "bots" / "pizza.yaml").is_file() else \
        ROOT / "tests" / "flows" / "good"
    bot = bot_for(folder / "pizza.yaml", Settings(store=f"sqlite:///{tmp / 'pizza.db'}"))

    @bot.on_text(rf"(?i)^{BROKEN}$")
    async def broken(ctx: Context) -> None:
        # A body no renderer would make: Viber's action button text is at most 30.
        body = {"to": ctx.event.sender, "from": ctx.event.recipient,
                "channel": "viber_service", "message_type": "text", "text": "Track it",
                "viber_service": {"action": {"url": "https://example.com/track",
                                             "text": "Track your parcel in real time now"}}}
        await ctx.bot.client.send(body)

    @bot.on_text(rf"(?i)^{ALBUM}$")
    async def album(ctx: Context) -> None:
        await ctx.reply(MediaGroup([Image("https://example.com/front.jpg", "Front"),
                                    Image("https://example.com/back.jpg", "Back")]))

    return bot


# --- the server -------------------------------------------------------------------------

@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    flow = ROOT / "bots" / "pizza.yaml"
    if not flow.is_file():
        flow = ROOT / "tests" / "flows" / "good" / "pizza.yaml"
    with serve(_pizza_bot(tmp_path)) as base:
        yield base, flow


# --- driving the page ---------------------------------------------------------------------

def _tap(page: Any, channel: str, title: str) -> None:
    """Type the number of a text menu's line, else tap the button, list row or chip."""
    pane = page.locator(f"#pane-{channel}")
    text = pane.locator(".msg--out .bubble").last.inner_text()
    label = re.search(rf"^([0-9]+|[A-Z]+)\. {re.escape(title)}$", text, re.M)
    if label:
        say(page, channel, label.group(1))
        return
    message = pane.locator(".msg--out").filter(has=page.locator(".choice, .chip")).last
    assert message.count(), f"{channel}: no menu line and no button for {title!r} in {text!r}"
    opener = message.locator(".choice[aria-expanded='false']")
    if opener.count():  # a WhatsApp list: open it first
        opener.click()
    choice = message.locator(".choice, .chip").filter(
        has_text=re.compile(rf"^\W*{re.escape(title)}"))
    choice.first.click()


def _shows(text: str, wanted: str | re.Pattern[str]) -> bool:
    if isinstance(wanted, re.Pattern):
        return wanted.search(text) is not None
    return wanted in " ".join(text.split())


def _hold(page: Any, expect: Any, channel: str, steps: list[Step]) -> None:
    """Take each step in ``channel``'s pane and wait for the replies it expects."""
    replies = page.locator(f"#pane-{channel} .msg--out .bubble")
    for step in steps:
        before = replies.count()
        if step.user is not None:
            say(page, channel, step.user)
        else:
            assert step.tap is not None
            _tap(page, channel, step.tap)
        expect(replies.nth(before + max(1, len(step.expect)) - 1)).to_be_visible(
            timeout=TIMEOUT)
        deadline = time.monotonic() + TIMEOUT / 1000
        for wanted in step.expect:
            while not any(_shows(text, wanted) for text in replies.all_inner_texts()[before:]):
                assert time.monotonic() < deadline, f"{channel}: no reply shows {wanted!r}"
                page.wait_for_timeout(100)


def test_order_on_whatsapp_and_sms_in_chromium(served: tuple[str, Path]) -> None:
    sync_api = require_browser()
    base, flow = served
    steps = _script(flow)
    started = time.monotonic()
    with open_page(sync_api, base) as (page, errors):
        expect = sync_api.expect
        serve_example_com(page)

        _hold(page, expect, "whatsapp", steps)
        _hold(page, expect, "sms", steps)
        _hold(page, expect, "rcs", steps)
        say(page, "viber_service", "こんにちは、ピザはありますか")  # CJK renders
        say(page, "viber_service", BROKEN)
        say(page, "mms", ALBUM)  # before the flow starts there, which would take it
        for channel in ("mms", "messenger"):
            say(page, channel, steps[0].user or "pizza")

        whatsapp, sms = page.locator("#pane-whatsapp"), page.locator("#pane-sms")
        viber = page.locator("#pane-viber_service")
        # WhatsApp: native reply buttons, taps sent as replies, read ticks.
        assert whatsapp.locator(".choice").count() >= 3
        expect(whatsapp.locator(".msg--in").filter(has_text="tapped").first).to_be_visible()
        expect(whatsapp.locator(".ticks--read").first).to_be_visible(timeout=TIMEOUT)
        # RCS: the same choices as suggestion chips, taps sent as replies, read ticks.
        rcs = page.locator("#pane-rcs")
        assert rcs.locator(".chip--reply").count() >= 3
        expect(rcs.locator(".msg--in").filter(has_text="tapped").first).to_be_visible()
        expect(rcs.locator(".ticks--read").first).to_be_visible(timeout=TIMEOUT)
        # SMS: numbered text menus, no buttons, delivered ticks only (no read receipts).
        assert sms.locator(".choice").count() == 0
        expect(sms.locator(".msg--out").filter(has_text=re.compile(r"\n1\. ")).first
               ).to_be_visible()
        expect(sms.locator(".ticks--delivered").first).to_be_visible(timeout=TIMEOUT)
        assert sms.locator(".ticks--read").count() == 0
        # Both orders went through to the flow's last pinned reply.
        for pane in (whatsapp, sms, rcs):
            expect(pane.locator(".msg--out").last).to_contain_text(
                steps[-1].expect[-1] if steps[-1].expect else "", timeout=TIMEOUT)
        # Viber: the body the test bot broke is red, with the reason.
        bad = viber.locator(".msg--violation")
        expect(bad).to_be_visible(timeout=TIMEOUT)
        expect(bad.locator(".violation")).to_contain_text("viber_service.action.text")
        assert bad.evaluate("e => getComputedStyle(e.querySelector('.bubble'))"
                            ".outlineColor") == "rgb(180, 35, 24)"
        # Each pane wears its channel's theme (from /sandbox/config, no channel CSS).
        style = "(e, p) => getComputedStyle(e)[p]"
        assert bad.locator(".action-button").evaluate(style, "color") == "rgb(255, 255, 255)"
        assert whatsapp.locator(".pane__head").evaluate(style, "backgroundColor") == \
            "rgb(0, 128, 105)"
        assert viber.locator(".send").evaluate(style, "backgroundColor") == "rgb(115, 96, 242)"
        assert page.locator("#pane-rcs .msg--in .bubble").first.evaluate(
            style, "backgroundColor") == "rgb(11, 87, 208)"
        assert "linear-gradient" in page.locator("#pane-messenger .msg--in .bubble").first \
            .evaluate(style, "backgroundImage")
        # A reply opens to its exact body and the renderer's decisions.
        menu = sms.locator(".msg--out").filter(has_text=re.compile(r"\n1\. ")).first
        menu.locator("summary").click()
        expect(menu.locator(".inspect__body")).to_contain_text("numbered text menu")
        expect(menu.locator(".inspect__body pre")).to_contain_text('"client_ref"')
        for channel in ("mms", "messenger"):
            expect(page.locator(f"#pane-{channel} .msg--out").first).to_be_visible(
                timeout=TIMEOUT)
        # MMS: two pictures in one message (a media group), each drawn with its caption.
        group = page.locator("#pane-mms .msg--out[data-kind=content]")
        expect(group.locator("img.media")).to_have_count(2, timeout=TIMEOUT)
        expect(group.locator(".bubble")).to_contain_text("Front")
        expect(group.locator(".bubble")).to_contain_text("Back")
        # Every control has an accessible name; every input has a label.
        assert unnamed_controls(page) == []
        # One channel at a time, then all of them again.
        page.get_by_role("button", name="WhatsApp", exact=True).click()
        assert page.locator(".pane:not([hidden])").count() == 1
        page.get_by_role("button", name="All channels side by side").click()
        assert page.locator(".pane:not([hidden])").count() == 6  # every channel, RCS included
        page.wait_for_timeout(1500)  # the last read ticks
        shot = artifacts() / "sandbox.png"
        page.screenshot(path=str(shot))
        assert errors == []
    # The page's JSON agrees: the WhatsApp and RCS taps were native reply webhooks.
    timeline = httpx.get(f"{base}/sandbox/messages", timeout=10).json()["messages"]
    for channel in ("whatsapp", "rcs"):
        taps = [e for e in timeline if e["direction"] == "in" and e["channel"] == channel
                and e["body"].get("message_type") == "reply"]
        assert len(taps) == len([s for s in steps if s.tap]), channel
    assert shot.stat().st_size > 20_000
    print(f"browser test: {time.monotonic() - started:.1f} s; screenshot {shot}")


# --- the RCS pane: chips, rich cards, a carousel --------------------------------------------

RCS_BODIES = CURRENT / "outbound" / "rcs"


def _rcs_body(name: str, ctx: Context) -> dict[str, Any]:
    """An example body of the reference, addressed from the bot to the user."""
    body: dict[str, Any] = json.loads((RCS_BODIES / f"{name}.json").read_text())
    body.update(to=ctx.event.sender, **{"from": ctx.event.recipient})
    return body


def _long_carousel(ctx: Context) -> dict[str, Any]:
    """The reference carousel with five cards, so that it scrolls in a pane."""
    body = _rcs_body("carousel", ctx)
    first = body["carousel"]["cards"][0]
    for n in range(3, 6):
        card = json.loads(json.dumps(first))
        card.update(title=f"Option {n}: Photo", text=f"Or photo {n}?")
        card["suggestions"][0].update(text=f"Option {n}", postback_data=f"card_{n}")
        body["carousel"]["cards"].append(card)
    body["suggestions"] = [{"type": "reply", "text": "None of them", "postback_data": "none"}]
    return body


def _rcs_bot(tmp: Path) -> Bot:
    """A bot that replies Buttons, a Card and a Carousel, sends the reference's RCS bodies
    (``show chips``, ...), and says which chip reached it."""
    bot = Bot(Settings(store=f"sqlite:///{tmp / 'rcs.db'}"))
    pizzas = [("Margherita", "Tomato, mozzarella, basil", Image), ("Diavola", "Spicy salami",
              Video), ("Funghi", "Mushrooms", Image), ("Marinara", "Garlic, oregano", Image)]
    cards = [Card(name, f"{text}. {9 + n}.50", media(f"https://example.com/{name.lower()}."
                                                     + ("mp4" if media is Video else "jpg")),
                  [Button("Order", f"order:{name.lower()}")])
             for n, (name, text, media) in enumerate(pizzas)]

    @bot.on_text(r"(?i)^menu$")
    async def menu(ctx: Context) -> None:
        await ctx.reply(Buttons("What size?", [Button("Small", "S"), Button("Large", "L"),
                                               Button("Our menu", url="https://example.com/menu")]))

    @bot.on_text(r"(?i)^special$")
    async def special(ctx: Context) -> None:
        await ctx.reply(Card("Pizza of the day", "Quattro stagioni. 12.50",
                             Image("https://example.com/day.jpg"),
                             [Button("Order", "order:day"), Button("Later", "later")]))

    @bot.on_text(r"(?i)^specials$")
    async def specials(ctx: Context) -> None:
        await ctx.reply(Carousel(cards))
    shows = {
        "chips": lambda ctx: [_rcs_body("text-suggestions-all-types", ctx)],
        "cards": lambda ctx: [_rcs_body("card-vertical", ctx), _rcs_body("card-horizontal", ctx)],
        "carousel": lambda ctx: [_long_carousel(ctx)],
        "media": lambda ctx: [_rcs_body(name, ctx) for name in ("image", "video", "file")],
    }

    @bot.on_text(r"(?i)^show (\w+)$")
    async def show(ctx: Context) -> None:
        for body in shows[ctx.match["match"].group(1)](ctx):
            await ctx.bot.client.send(body)

    @bot.on_button()
    async def tapped(ctx: Context) -> None:
        assert ctx.event.button is not None
        await ctx.reply(f"button event: {ctx.event.button.payload} ({ctx.event.button.title})")

    @bot.on_location()
    async def located(ctx: Context) -> None:
        assert ctx.event.location is not None
        await ctx.reply(f"location event: {ctx.event.location.name}")

    return bot


def _last_reply(page: Any, expect: Any, text: str) -> None:
    expect(page.locator("#pane-rcs .msg--out .bubble").last).to_contain_text(
        text, timeout=TIMEOUT)


def test_the_rcs_pane_draws_chips_cards_and_a_carousel(tmp_path: Path) -> None:
    sync_api = require_browser()
    with serve(_rcs_bot(tmp_path)) as base:
        _hold_rcs(sync_api, base)
        timeline = httpx.get(f"{base}/sandbox/messages", timeout=10).json()["messages"]
    taps = [e["body"] for e in timeline if e["direction"] == "in"
            and e["body"].get("message_type") in ("reply", "button")]
    assert [(t["message_type"], t[t["message_type"]]) for t in taps] == [
        ("reply", {"id": "L", "title": "Large"}),
        ("reply", {"id": "order:day", "title": "Order"}),
        ("reply", {"id": "order:funghi", "title": "Order"}),
        ("reply", {"id": "agent", "title": "Talk to an agent"}),
        ("button", {"payload": "postback_data_1234", "text": "Call now!"}),
        ("button", {"payload": "postback_data_1234", "text": "Open product page"}),
        ("button", {"payload": "postback_data_1234", "text": "Share your location"}),
        ("reply", {"id": "suggestion_2", "title": "I love it!"}),
        ("reply", {"id": "card_5", "title": "Option 5"}),
        ("reply", {"id": "none", "title": "None of them"}),
    ]
    assert all(t["channel"] == "rcs" for t in taps)


def _hold_rcs(sync_api: Any, base: str) -> None:
    with open_page(sync_api, base) as (page, errors):
        expect = sync_api.expect
        serve_example_com(page)  # media and opened links, with no network
        page.get_by_role("button", name="RCS", exact=True).click()
        pane = page.locator("#pane-rcs")

        # The bot's own replies: Buttons become chips, a Card a rich card, a Carousel a
        # strip of cards; each tap reaches the bot as a button event.
        say(page, "rcs", "menu")
        menu = pane.locator(".msg--out").filter(has=page.locator(".chip")).last
        expect(menu.locator(".chip")).to_have_count(3, timeout=TIMEOUT)
        assert menu.locator(".chip--action[data-type=open_url]").count() == 1
        menu.get_by_role("button", name="Large").click()
        _last_reply(page, expect, "button event: L (Large)")
        say(page, "rcs", "special")
        card = pane.locator(".msg--card").last.locator(".rich-card")
        expect(card.locator(".rich-card__title")).to_have_text("Pizza of the day",
                                                                timeout=TIMEOUT)
        expect(card.locator(".rich-card__media img")).to_have_js_property("complete", True)
        card.get_by_role("button", name="Order").click()
        _last_reply(page, expect, "button event: order:day (Order)")
        say(page, "rcs", "specials")
        strip = pane.locator(".carousel").last
        expect(strip.locator(".rich-card")).to_have_count(4, timeout=TIMEOUT)
        assert strip.evaluate("c => c.scrollWidth > c.clientWidth")
        strip.locator(".rich-card").nth(2).get_by_role("button", name="Order").click()
        _last_reply(page, expect, "button event: order:funghi (Order)")

        # A text with one chip of each type: reply chips plain, action chips with an icon.
        say(page, "rcs", "show chips")
        message = pane.locator(".msg--out").filter(has=page.locator(".chip")).last
        expect(message.locator(".chip")).to_have_count(7, timeout=TIMEOUT)
        chips = message.locator(".chip")
        assert [chips.nth(i).get_attribute("data-type") for i in range(7)] == [
            "reply", "dial", "view_location", "share_location", "open_url",
            "open_url_in_webview", "create_calendar_event"]
        assert message.locator(".chip--reply svg").count() == 0
        assert message.locator(".chip--action svg").count() == 6
        assert chips.nth(1).get_attribute("title") == "Call 447900000000"
        assert "Vonage API Product Launch" in (chips.nth(6).get_attribute("title") or "")

        # A reply chip sends reply{id: postback_data, title}; an action chip button{...}.
        message.get_by_role("button", name="Talk to an agent").click()
        _last_reply(page, expect, "button event: agent (Talk to an agent)")
        message.get_by_role("button", name="Call now!").click()
        _last_reply(page, expect, "button event: postback_data_1234 (Call now!)")
        # An open-URL chip also opens its link, in a new tab (closed again: a page in the
        # background gets no animation frames, and Playwright waits for them).
        with page.context.expect_page() as opened:
            message.get_by_role("button", name="Open product page").click()
        opened.value.wait_for_load_state()
        assert opened.value.url == "http://example.com/"
        opened.value.close()
        page.bring_to_front()
        _last_reply(page, expect, "button event: postback_data_1234 (Open product page)")
        expect(pane.locator(".msg--in").filter(has_text="tapped").last).to_contain_text(
            "Open product page")
        # Share location: the tap is a button event, then the pane's location form opens.
        message.get_by_role("button", name="Share your location").click()
        _last_reply(page, expect, "(Share your location)")
        form = pane.locator(".extra--location")
        expect(form).to_be_visible()
        form.get_by_role("button", name="Share location").click()
        _last_reply(page, expect, "location event: Trafalgar Square")

        # A standalone card, vertical and horizontal (media on the right), with its chips.
        say(page, "rcs", "show cards")
        cards = pane.locator(".msg--card")
        expect(cards).to_have_count(3, timeout=TIMEOUT)  # the bot's own card came first
        vertical, horizontal = cards.nth(1).locator(".rich-card--vertical"), cards.nth(2).locator(
            ".rich-card--horizontal")
        expect(vertical.locator(".rich-card__title")).to_have_text("Your order has shipped")
        expect(vertical.locator(".rich-card__media img")).to_have_js_property("complete", True)
        assert vertical.locator(".rich-card__media img").evaluate("i => i.naturalWidth") == 320
        assert vertical.locator(".rich-card__media").evaluate(
            "m => m.getBoundingClientRect().height") == 168  # MEDIUM
        assert "rich-card--media-right" in (horizontal.get_attribute("class") or "")
        # Measured in one go: a status tick may redraw the message between two calls.
        assert horizontal.evaluate("""c => {
            const box = (s) => c.querySelector(s).getBoundingClientRect();
            return box('.rich-card__media').left >= box('.rich-card__body').right - 1; }""")
        expect(vertical.locator(".chip")).to_have_count(2)
        horizontal.get_by_role("button", name="I love it!").click()
        _last_reply(page, expect, "button event: suggestion_2 (I love it!)")

        # A carousel of five small cards scrolls sideways; its chips and the cards' work.
        say(page, "rcs", "show carousel")
        strip = pane.locator(".carousel").last
        expect(strip.locator(".rich-card")).to_have_count(5, timeout=TIMEOUT)
        strip.scroll_into_view_if_needed()
        assert strip.evaluate("c => c.scrollWidth > c.clientWidth + 100")
        strip.evaluate("c => { c.style.scrollBehavior = 'auto'; c.scrollLeft = c.scrollWidth; }")
        assert strip.evaluate("c => c.scrollLeft") > 0
        # Its read tick redraws the message, and the strip stays where the user left it.
        carousel_message = pane.locator(".msg--carousel").last
        expect(carousel_message.locator(".ticks--read")).to_have_count(1, timeout=TIMEOUT)
        assert carousel_message.locator(".carousel").evaluate("c => c.scrollLeft") > 0
        expect(strip.locator(".rich-card").nth(1).locator(".rich-card__play")).to_have_count(1)
        strip.get_by_role("button", name="Option 5").click()
        _last_reply(page, expect, "button event: card_5 (Option 5)")
        pane.get_by_role("button", name="None of them").click()
        _last_reply(page, expect, "button event: none (None of them)")

        # Image, video and file; then every message of the bot reaches the read tick.
        say(page, "rcs", "show media")
        expect(pane.locator(".msg--out[data-kind=file]")).to_have_count(1, timeout=TIMEOUT)
        expect(pane.locator(".msg--out[data-kind=image] img")).to_have_js_property(
            "complete", True)
        expect(pane.locator(".msg--out[data-kind=video] a")).to_have_attribute(
            "href", re.compile(r"\.mp4$"))
        expect(pane.locator(".ticks--read").first).to_be_visible(timeout=TIMEOUT)
        assert unnamed_controls(page) == []
        page.wait_for_timeout(500)
        # The picture: the bot's own card and carousel at the top of the pane.
        pane.locator(".log").evaluate("""log => {
            const card = log.querySelector('.msg--card');
            log.style.scrollBehavior = 'auto';
            log.scrollTop += card.getBoundingClientRect().top
                - log.getBoundingClientRect().top - 8; }""")
        pane.screenshot(path=str(artifacts() / "sandbox-rcs.png"))
        assert errors == []
