"""The sandbox page in a real browser: Debian's Chromium driven by Playwright, no download.

The pizza bot is served by uvicorn on an ephemeral port. On WhatsApp the order is placed
by tapping the reply buttons and list rows; on SMS by typing the menu numbers ("2").
Both follow the flow's own first conversation test (``bots/pizza.test.yaml``), so the
expected replies are the ones its author pinned. A test handler also sends a body that
breaks Viber's limits, which the page must show in red. A screenshot goes to
``$BOTKIT_ARTIFACTS`` (default: ``test-artifacts/`` in the checkout).

Without Chromium or Playwright the test skips and says why; under ``CI=true`` it fails.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from botkit import Bot, Context, Settings
from botkit.convtest.spec import ReplyExpectation, load_test_file

from .conftest import ROOT, bot_for

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]
BROKEN = "send a broken message"
TIMEOUT = 15_000  # ms, for one expected reply


def _require_browser() -> Any:
    """``playwright.sync_api``, or skip (fail under CI) saying what is missing."""
    problem = None
    try:
        from playwright import sync_api
    except ImportError:
        problem = "Playwright for Python is not installed (pip install playwright)"
    if problem is None and not Path(CHROMIUM).exists():
        problem = f"Chromium is not at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run in CI: {problem}")
        pytest.skip(problem)
    return sync_api


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

    return bot


# --- the server -------------------------------------------------------------------------

@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    import uvicorn

    flow = ROOT / "bots" / "pizza.yaml"
    if not flow.is_file():
        flow = ROOT / "tests" / "flows" / "good" / "pizza.yaml"
    bot = _pizza_bot(tmp_path)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(bot.asgi(), log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield base, flow
    finally:
        if bot.sandbox is not None:
            bot.sandbox.closing = True  # as botkit run does on Ctrl+C: end the live stream
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _artifacts() -> Path:
    folder = Path(os.environ.get("BOTKIT_ARTIFACTS") or ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- driving the page ---------------------------------------------------------------------

def _say(page: Any, channel: str, text: str) -> None:
    box = page.locator(f"#text-{channel}")
    box.fill(text)
    box.press("Enter")


def _tap(page: Any, channel: str, title: str) -> None:
    """WhatsApp: tap the reply button or list row; elsewhere: type the menu's number."""
    pane = page.locator(f"#pane-{channel}")
    if channel == "whatsapp":
        message = pane.locator(".msg--out").filter(has=page.locator(".choice")).last
        opener = message.locator(".choice[aria-expanded='false']")
        if opener.count():
            opener.click()
        choice = message.locator(".choice").filter(
            has_text=re.compile(rf"^\W*{re.escape(title)}"))
        choice.first.click()
        return
    text = pane.locator(".msg--out .bubble").last.inner_text()
    label = re.search(rf"^([0-9]+|[A-Z]+)\. {re.escape(title)}$", text, re.M)
    assert label, f"no menu line for {title!r} in {text!r}"
    _say(page, channel, label.group(1))


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
            _say(page, channel, step.user)
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
    sync_api = _require_browser()
    base, flow = served
    steps = _script(flow)
    started = time.monotonic()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1680, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/sandbox")
            page.wait_for_selector("body[data-ready=true]")
            expect = sync_api.expect

            _hold(page, expect, "whatsapp", steps)
            _hold(page, expect, "sms", steps)
            _say(page, "viber_service", "こんにちは、ピザはありますか")  # CJK renders
            _say(page, "viber_service", BROKEN)
            for channel in ("mms", "messenger"):
                _say(page, channel, steps[0].user or "pizza")

            whatsapp, sms = page.locator("#pane-whatsapp"), page.locator("#pane-sms")
            viber = page.locator("#pane-viber_service")
            # WhatsApp: native reply buttons, taps sent as replies, read ticks.
            assert whatsapp.locator(".choice").count() >= 3
            expect(whatsapp.locator(".msg--in").filter(has_text="tapped").first).to_be_visible()
            expect(whatsapp.locator(".ticks--read").first).to_be_visible(timeout=TIMEOUT)
            # SMS: numbered text menus, no buttons, delivered ticks only (no read receipts).
            assert sms.locator(".choice").count() == 0
            expect(sms.locator(".msg--out").filter(has_text=re.compile(r"\n1\. ")).first
                   ).to_be_visible()
            expect(sms.locator(".ticks--delivered").first).to_be_visible(timeout=TIMEOUT)
            assert sms.locator(".ticks--read").count() == 0
            # Both orders went through to the flow's last pinned reply.
            for pane in (whatsapp, sms):
                expect(pane.locator(".msg--out").last).to_contain_text(
                    steps[-1].expect[-1] if steps[-1].expect else "", timeout=TIMEOUT)
            # Viber: the body the test bot broke is red, with the reason.
            bad = viber.locator(".msg--violation")
            expect(bad).to_be_visible(timeout=TIMEOUT)
            expect(bad.locator(".violation")).to_contain_text("viber_service.action.text")
            assert bad.evaluate("e => getComputedStyle(e.querySelector('.bubble'))"
                                ".outlineColor") == "rgb(180, 35, 24)"
            # A reply opens to its exact body and the renderer's decisions.
            menu = sms.locator(".msg--out").filter(has_text=re.compile(r"\n1\. ")).first
            menu.locator("summary").click()
            expect(menu.locator(".inspect__body")).to_contain_text("numbered text menu")
            expect(menu.locator(".inspect__body pre")).to_contain_text('"client_ref"')
            for channel in ("mms", "messenger"):
                expect(page.locator(f"#pane-{channel} .msg--out").first).to_be_visible(
                    timeout=TIMEOUT)
            # Every control has an accessible name; every input has a label.
            unnamed = page.evaluate("""() => [...document.querySelectorAll('button, input')]
                .filter(e => !e.closest('[hidden]'))
                .filter(e => !(e.getAttribute('aria-label') || e.innerText.trim()
                               || (e.labels && e.labels.length)))
                .map(e => e.outerHTML)""")
            assert unnamed == []
            # One channel at a time, then all five again.
            page.get_by_role("button", name="WhatsApp", exact=True).click()
            assert page.locator(".pane:not([hidden])").count() == 1
            page.get_by_role("button", name="All five side by side").click()
            assert page.locator(".pane:not([hidden])").count() == 6  # every channel, RCS included
            page.wait_for_timeout(1500)  # the last read ticks
            shot = _artifacts() / "sandbox.png"
            page.screenshot(path=str(shot))
            assert errors == []
        finally:
            browser.close()
    # The page's JSON agrees: the WhatsApp taps were native reply webhooks.
    timeline = httpx.get(f"{base}/sandbox/messages", timeout=10).json()["messages"]
    taps = [e for e in timeline if e["direction"] == "in" and e["channel"] == "whatsapp"
            and e["body"].get("message_type") == "reply"]
    assert len(taps) == len([s for s in steps if s.tap])
    assert shot.stat().st_size > 20_000
    print(f"browser test: {time.monotonic() - started:.1f} s; screenshot {shot}")
