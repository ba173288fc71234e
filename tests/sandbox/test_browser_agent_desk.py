"""The sandbox's agent desk in a real browser (Debian's Chromium driven by Playwright).

The user asks the help-desk bot for a person on WhatsApp and on SMS; both conversations
appear on the desk. The agent picks the WhatsApp one, reads its transcript and writes; the
WhatsApp pane shows the agent's message as the bot's. The user writes back and the bot
says nothing; the desk shows the user's line. The agent hands back at a state, and the
bot resumes there in the pane; the conversation leaves the desk. The picture goes to
``$BOTKIT_ARTIFACTS`` (default ``test-artifacts/``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from botkit import Settings
from botkit.testing import DEFAULT_USER, inbound_webhook
from tests.handoff.bots.desk import desk_bot

from .browser import TIMEOUT, artifacts, open_page, require_browser, say, serve, unnamed_controls


def _bubbles(page: Any, channel: str) -> Any:
    return page.locator(f"#pane-{channel} .msg--out:not(.msg--reaction):not(.msg--typing)")


def test_an_agent_answers_and_hands_back_from_the_desk(tmp_path: Path) -> None:
    sync_api = require_browser()
    expect = sync_api.expect
    bot = desk_bot(Settings(store=f"sqlite:///{tmp_path / 'desk.db'}"))
    with serve(bot) as base, open_page(sync_api, base) as (page, errors):
        expect(page.locator("#desk-list li")).to_have_count(0)
        for channel in ("whatsapp", "sms"):
            say(page, channel, "hi")
            expect(_bubbles(page, channel).last).to_contain_text("Type agent", timeout=TIMEOUT)
            say(page, channel, "agent please")
            expect(_bubbles(page, channel).last).to_contain_text(
                "Connecting you to a person.", timeout=TIMEOUT)
        items = page.locator("#desk-list .desk__item")
        expect(items).to_have_count(2, timeout=TIMEOUT)

        user = DEFAULT_USER["whatsapp"]
        item = page.locator(f'#desk-list [data-key="whatsapp:{user}"]')
        expect(item).to_contain_text("support")
        item.click()
        expect(item).to_have_attribute("aria-current", "true")
        log = page.locator("#desk-log")
        expect(log.locator(".desk__line")).to_have_count(4, timeout=TIMEOUT)
        expect(log.locator(".desk__line--user").last).to_contain_text("agent please")

        # The agent writes: the WhatsApp pane shows it, as the bot's message.
        box = page.locator("#desk-text")
        box.fill("Hi, I'm Anna from support. How can I help?")
        box.press("Enter")
        expect(_bubbles(page, "whatsapp").last).to_contain_text("I'm Anna", timeout=TIMEOUT)
        expect(log.locator(".desk__line--agent")).to_contain_text("I'm Anna", timeout=TIMEOUT)

        # The user answers: relayed to the desk, and the bot says nothing.
        before = _bubbles(page, "whatsapp").count()
        say(page, "whatsapp", "my parcel never came")
        expect(log.locator(".desk__line--user").last).to_contain_text(
            "my parcel never came", timeout=TIMEOUT)
        page.wait_for_timeout(500)
        assert _bubbles(page, "whatsapp").count() == before
        page.screenshot(path=str(artifacts() / "sandbox-agent-desk.png"))
        assert unnamed_controls(page) == []

        # Hand back at a state: the bot resumes there, and the desk lets the conversation go.
        page.locator("#desk-state").select_option("anything_else")
        page.get_by_role("button", name="Hand back to the bot").click()
        expect(_bubbles(page, "whatsapp").last).to_contain_text(
            "Welcome back! Anything else?", timeout=TIMEOUT)
        expect(items).to_have_count(1, timeout=TIMEOUT)
        expect(page.locator("#desk-who")).to_contain_text("back with the bot", timeout=TIMEOUT)
        expect(page.locator("#desk-send")).to_be_hidden()
        say(page, "whatsapp", "no, thanks")
        expect(_bubbles(page, "whatsapp").last).to_contain_text("Type agent", timeout=TIMEOUT)
        assert errors == []
        timeline = httpx.get(f"{base}/sandbox/messages", timeout=10).json()["messages"]
    agent = [e for e in timeline if (e.get("client_ref") or "").startswith("agent-")]
    assert [(e["channel"], e["body"]["message_type"]) for e in agent] == [("whatsapp", "text")]


def test_the_desk_links_every_attachment_the_user_sent(tmp_path: Path) -> None:
    sync_api = require_browser()
    expect = sync_api.expect
    bot = desk_bot(Settings(store=f"sqlite:///{tmp_path / 'desk.db'}"))
    pictures = ["https://example.com/crack-front.jpg", "https://example.com/crack-back.jpg"]
    with serve(bot) as base, open_page(sync_api, base) as (page, errors):
        say(page, "mms", "hi")
        expect(_bubbles(page, "mms").last).to_contain_text("Type agent", timeout=TIMEOUT)
        say(page, "mms", "agent please")
        expect(_bubbles(page, "mms").last).to_contain_text(
            "Connecting you to a person.", timeout=TIMEOUT)
        # An MMS with two pictures and a clip, as the Messages API posts it.
        content = [{"type": "image", "url": pictures[0], "caption": "front"},
                   {"type": "image", "url": pictures[1]},
                   {"type": "video", "url": "https://example.com/clip.mp4"}]
        body = inbound_webhook("mms", "image", {"image": {"url": pictures[0]},
                                                "content": content}, timestamp=time.time())
        assert httpx.post(f"{base}/webhooks/inbound", json=body, timeout=10).status_code == 200

        page.locator(f'#desk-list [data-key="mms:{DEFAULT_USER["mms"]}"]').click()
        line = page.locator("#desk-log .desk__line--user").last
        links = line.locator(".desk__media a")
        expect(links).to_have_count(3, timeout=TIMEOUT)
        assert [links.nth(i).get_attribute("href") for i in range(3)] == [
            *pictures, "https://example.com/clip.mp4"]
        expect(links.first).to_have_text("image: front")
        expect(links.last).to_have_text("video: clip.mp4")
        assert errors == []
