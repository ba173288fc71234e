"""The sandbox's endpoints, driven with httpx against the ASGI app (no browser)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from botkit import Bot, Button, Buttons, Context, Location, Settings
from botkit.errors import MessagesApiError
from botkit.routing import CHANNELS
from botkit.sandbox import routes as sandbox_routes
from botkit.sandbox.routes import sse_events

from .conftest import SECRET, act, page, timeline

BROKEN_VIBER = {
    "to": "447700900001", "from": "16273", "channel": "viber_service", "message_type": "text",
    "text": "Track your parcel",
    "viber_service": {"action": {"url": "https://example.com/t/1",
                                 "text": "Track your parcel in real time, right now"}},
}


def _echo(bot: Bot) -> None:
    @bot.on_text(r"(?i)^size$")
    async def size(ctx: Context) -> None:
        await ctx.reply(Buttons("What size?", [Button("Small", "S"), Button("Medium", "M"),
                                               Button("Large", "L")]))

    @bot.on_button("S", "M", "L")
    async def chosen(ctx: Context) -> None:
        assert ctx.event.button is not None
        await ctx.reply(f"{ctx.event.button.title} via {ctx.event.button.via}")

    @bot.on_location()
    async def where(ctx: Context) -> None:
        assert ctx.event.location is not None
        await ctx.reply(f"You are at {ctx.event.location.name}",
                        Location(51.5072, -0.1276, "Our shop"))

    @bot.on_media("image")
    async def photo(ctx: Context) -> None:
        assert ctx.event.media is not None
        await ctx.reply(f"Nice photo: {ctx.event.media.caption}")

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        await ctx.reply(f"{ctx.event.channel}: {ctx.event.text}")


async def test_the_sandbox_is_not_served_with_credentials(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(api_key="key", api_secret="secret")
    async with page(bot) as http:
        for path in ("/sandbox", "/sandbox/messages", "/sandbox/config", "/sandbox/events",
                     "/sandbox/static/app.js"):
            assert (await http.get(path)).status_code == 404, path
        assert (await http.post("/sandbox/send", json={})).status_code == 404
    assert bot.sandbox is None


async def test_the_page_and_its_files_are_served(sandbox_bot: Callable[..., Bot]) -> None:
    bot = sandbox_bot()
    async with page(bot) as http:
        html = await http.get("/sandbox")
        assert html.status_code == 200 and "<title>botkit sandbox</title>" in html.text
        assert "default-src 'self'" in html.headers["content-security-policy"]
        assert 'src="http' not in html.text and 'href="http' not in html.text  # no CDN
        for name, kind in (("app.js", "javascript"), ("render.js", "javascript"),
                           ("dom.js", "javascript"), ("rich.js", "javascript"),
                           ("template.js", "javascript"), ("threads.js", "javascript"),
                           ("sandbox.css", "text/css"), ("icon.svg", "image/svg+xml")):
            found = await http.get(f"/sandbox/static/{name}")
            assert found.status_code == 200 and kind in found.headers["content-type"], name
            assert "//cdn" not in found.text and "googleapis" not in found.text
        config = (await http.get("/sandbox/config")).json()
    assert [c["id"] for c in config["channels"]] == list(CHANNELS)
    whatsapp = next(c for c in config["channels"] if c["id"] == "whatsapp")
    assert {"reply", "location", "image"} <= set(whatsapp["sends"])
    assert config["channels"][0]["sends"] == ["text"]  # an SMS user can only type
    rcs = next(c for c in config["channels"] if c["id"] == "rcs")
    assert {"reply", "button", "location", "image"} <= set(rcs["sends"])
    assert rcs["read_receipts"] is True
    assert whatsapp["quotes"] is True and "reaction" in whatsapp["sends"]
    assert not any(c["fails"] for c in config["channels"])  # every channel delivers
    for channel in config["channels"]:  # each pane's colours come from its channel's theme
        assert {"head-bg", "bot-bg", "user-bg", "accent", "avatar"} <= set(channel["theme"])


def test_the_stylesheet_gives_no_channel_its_colours() -> None:
    # The theme (SandboxLook.theme) colours each pane, so a new channel needs no rule; the
    # rules that do name a channel only add texture (WhatsApp's wallpaper, soft shadows).
    css = (sandbox_routes.STATIC_DIR / "sandbox.css").read_text(encoding="utf-8")
    texture = {"background-image", "background-size", "box-shadow"}
    named = 0
    for selector, block in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        if not any(f"--{channel}" in selector for channel in CHANNELS):
            continue
        named += 1
        properties = {d.split(":")[0].strip() for d in block.split(";") if d.strip()}
        assert properties <= texture, f"{selector.strip()} sets {properties - texture}"
    assert named <= 3
    for channel in ("sms", "mms", "rcs", "messenger"):
        assert f"--{channel}" not in css


@pytest.mark.parametrize("channel", CHANNELS)
async def test_each_pane_reaches_the_bot_through_the_signed_webhook_route(
    sandbox_bot: Callable[..., Bot], channel: str
) -> None:
    bot = sandbox_bot(signature_secret=SECRET, signature_strict=True)
    _echo(bot)
    async with page(bot) as http:
        sent = await act(http, bot, channel=channel, type="text", text="hello there")
        entries = await timeline(http)
    assert sent["direction"] == "in" and sent["status"] == "accepted" and sent["answer"] == 200
    assert sent["body"]["channel"] == channel and sent["body"]["text"] == "hello there"
    [reply] = [e for e in entries if e["direction"] == "out"]
    assert reply["channel"] == channel and reply["user"] == sent["user"]
    assert reply["body"]["text"] == f"{channel}: hello there"
    assert reply["view"] == f"{channel}: hello there"
    assert reply["violations"] == [] and reply["answer"] == 202
    assert [e["id"] for e in entries] == [1, 2]  # the webhook comes before its reply


async def test_unsigned_webhooks_are_refused_so_the_sandbox_must_sign(
    sandbox_bot: Callable[..., Bot],
) -> None:
    # The page's webhooks pass because the server signs them; a bare post is refused.
    bot = sandbox_bot(signature_secret=SECRET, signature_strict=True)
    _echo(bot)
    async with page(bot) as http:
        bare = await http.post("/webhooks/inbound", json={"channel": "sms"})
        signed = await act(http, bot, channel="sms", type="text", text="hi")
    assert bare.status_code == 401
    assert signed["status"] == "accepted"


async def test_the_secret_never_reaches_the_page(sandbox_bot: Callable[..., Bot]) -> None:
    bot = sandbox_bot(signature_secret=SECRET)
    _echo(bot)
    seen: list[str] = []
    async with page(bot) as http:
        sent = await act(http, bot, channel="whatsapp", type="text", text="size")
        seen.append(json.dumps(sent))
        for path in ("/sandbox", "/sandbox/config", "/sandbox/messages",
                     "/sandbox/static/app.js", "/sandbox/static/render.js"):
            response = await http.get(path)
            seen.append(response.text + json.dumps(dict(response.headers)))
        assert bot.sandbox is not None
        events = [e async for e in sse_events(bot.sandbox, 0, lifetime=0.05)]
    seen.extend(events)
    assert len(events) >= 3
    assert not [text for text in seen if SECRET in text]


async def test_a_whatsapp_tap_sends_the_native_reply_webhook(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    _echo(bot)
    async with page(bot) as http:
        await act(http, bot, channel="whatsapp", type="text", text="size")
        menu = (await timeline(http))[-1]
        buttons = menu["body"]["custom"]["interactive"]["action"]["buttons"]
        assert [b["reply"]["title"] for b in buttons] == ["Small", "Medium", "Large"]
        tap = await act(http, bot, channel="whatsapp", type="reply", id="M", title="Medium")
        answer = (await timeline(http))[-1]
    assert tap["body"]["message_type"] == "reply"
    assert tap["body"]["reply"] == {"id": "M", "title": "Medium"}
    assert tap["view"] == "Medium"
    assert answer["body"]["text"] == "Medium via native"


async def test_rcs_chip_taps_send_the_native_reply_and_button_webhooks(
    sandbox_bot: Callable[..., Bot],
) -> None:
    # A reply chip answers reply{id: postback_data, title: text}; an action chip (dial, open
    # a link, ...) button{payload: postback_data, text}. Both reach @bot.on_button.
    bot = sandbox_bot()
    taps: list[tuple[str, str | None, str]] = []

    @bot.on_button()
    async def tapped(ctx: Context) -> None:
        assert ctx.event.button is not None
        answer = ctx.event.button
        taps.append((answer.payload, answer.title, answer.via))
        await ctx.reply(f"got {answer.payload}")

    async with page(bot) as http:
        reply = await act(http, bot, channel="rcs", type="reply", id="M", title="Medium")
        button = await act(http, bot, channel="rcs", type="button",
                           payload="https://example.com/menu", text="See the menu")
        out = [e for e in await timeline(http) if e["direction"] == "out"]
    assert reply["body"]["message_type"] == "reply" and reply["body"]["channel"] == "rcs"
    assert reply["body"]["reply"] == {"id": "M", "title": "Medium"}
    assert button["body"]["message_type"] == "button"
    assert button["body"]["button"] == {"payload": "https://example.com/menu",
                                        "text": "See the menu"}
    assert (reply["view"], button["view"]) == ("Medium", "See the menu")
    assert taps == [("M", "Medium", "native"), ("https://example.com/menu", "See the menu",
                                                 "native")]
    assert [e["body"]["text"] for e in out] == ["got M", "got https://example.com/menu"]
    assert [e["status"] for e in out] == ["read", "read"]  # RCS reports read


async def test_chips_cards_and_carousels_are_listed_for_the_page_by_message_type(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    chip = {"type": "reply", "text": "Yes", "postback_data": "yes"}
    card = {"title": "Margherita", "text": "9.50", "media_url": "https://example.com/m.jpg",
            "media_height": "SHORT", "suggestions": [chip]}
    bodies = [
        {"message_type": "text", "text": "Pick", "suggestions": [chip]},
        {"message_type": "card", "card": card,
         "rcs": {"card_orientation": "HORIZONTAL", "image_alignment": "LEFT"}},
        {"message_type": "carousel", "carousel": {"cards": [card, {**card, "title": "Diavola"}]},
         "suggestions": [chip], "rcs": {"card_width": "SMALL"}},
    ]

    @bot.on_text()
    async def show(ctx: Context) -> None:
        for body in bodies:
            await ctx.bot.client.send({"to": ctx.event.sender, "from": ctx.event.recipient,
                                       "channel": "rcs", **body})

    async with page(bot) as http:
        await act(http, bot, channel="rcs", type="text", text="show")
        text, single, strip = [e for e in await timeline(http) if e["direction"] == "out"]
    assert [e["violations"] for e in (text, single, strip)] == [[], [], []]
    assert text["display"] == {"kind": "text", "content": "Pick", "options": {},
                               "suggestions": [chip]}
    assert single["display"] == {"kind": "card", "content": card, "suggestions": [],
                                 "options": {"rcs": {"card_orientation": "HORIZONTAL",
                                                     "image_alignment": "LEFT"}}}
    assert strip["display"]["kind"] == "carousel"
    assert [c["title"] for c in strip["display"]["content"]["cards"]] == ["Margherita",
                                                                          "Diavola"]
    assert strip["display"]["suggestions"] == [chip]
    assert strip["display"]["options"] == {"rcs": {"card_width": "SMALL"}}


async def test_typing_the_number_of_an_sms_menu_answers_it(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    _echo(bot)
    async with page(bot) as http:
        await act(http, bot, channel="sms", type="text", text="size")
        menu = (await timeline(http))[-1]
        await act(http, bot, channel="sms", type="text", text="2")
        answer = (await timeline(http))[-1]
    assert "1. Small\n2. Medium\n3. Large" in menu["view"]
    assert any("numbered text menu" in d for d in menu["decisions"])
    assert answer["body"]["text"] == "Medium via text"


async def test_a_location_and_an_image_reach_their_handlers(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    _echo(bot)
    async with page(bot) as http:
        shared = await act(http, bot, channel="whatsapp", type="location", lat=51.5,
                           long=-0.12, name="Home", address="1 Road")
        replies = [e for e in await timeline(http) if e["direction"] == "out"]
        image = await act(http, bot, channel="messenger", type="image",
                          url="https://example.com/cat.jpg", caption="my cat")
        last = (await timeline(http))[-1]
    assert shared["body"]["location"] == {"lat": 51.5, "long": -0.12, "name": "Home",
                                          "address": "1 Road"}
    assert [r["display"]["kind"] for r in replies] == ["text", "location"]
    assert replies[0]["body"]["text"] == "You are at Home"
    assert image["body"]["image"] == {"url": "https://example.com/cat.jpg", "caption": "my cat"}
    assert last["body"]["text"] == "Nice photo: my cat"


@pytest.mark.parametrize(
    ("action", "problem"),
    [
        ({"channel": "sms", "type": "image", "url": "https://example.com/a.jpg"},
         "SMS users cannot send image"),
        ({"channel": "viber_service", "type": "location", "lat": 1, "long": 2},
         "Viber users cannot send location"),
        ({"channel": "whatsapp", "type": "location", "lat": 91, "long": 2}, "lat"),
        ({"channel": "whatsapp", "type": "image", "url": "file:///etc/passwd"}, "url"),
        ({"channel": "telegram", "type": "text", "text": "hi"}, "channel"),
        ({"channel": "sms", "type": "text", "text": ""}, "text"),
        ({"channel": "sms", "type": "button", "payload": "p", "text": "Call"},
         "SMS users cannot send button"),
        ({"channel": "sms", "type": "text", "text": "hi", "quote": "abc"},
         "SMS users cannot quote a message"),
        ({"channel": "sms", "type": "reaction", "to": "abc", "emoji": "👍"},
         "SMS users cannot send reaction"),
        ({"channel": "whatsapp", "type": "reaction", "to": "nothing-here", "emoji": "👍"},
         "no message nothing-here in this WhatsApp conversation"),
        ({"channel": "whatsapp", "type": "text", "text": "hi", "quote": "bad uuid!"},
         "quote"),
    ],
)
async def test_actions_a_user_cannot_take_are_refused(
    sandbox_bot: Callable[..., Bot], action: dict[str, Any], problem: str
) -> None:
    bot = sandbox_bot()
    async with page(bot) as http:
        response = await http.post("/sandbox/send", json=action)
        entries = await timeline(http)
    assert response.status_code == 422 and problem in response.json()["detail"]
    assert entries == []


async def test_another_site_cannot_act_as_the_user(sandbox_bot: Callable[..., Bot]) -> None:
    bot = sandbox_bot()
    async with page(bot) as http:
        foreign = await http.post("/sandbox/send", headers={"origin": "https://evil.example"},
                                  json={"channel": "sms", "type": "text", "text": "hi"})
        form = await http.post("/sandbox/send", content=b"channel=sms",
                               headers={"content-type": "application/x-www-form-urlencoded"})
        entries = await timeline(http)
    assert (foreign.status_code, form.status_code) == (403, 415)
    assert entries == []


async def test_status_webhooks_bring_delivered_then_read_ticks(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot(signature_secret=SECRET)
    _echo(bot)
    statuses: list[tuple[str, str]] = []

    @bot.on_status()
    async def tick(ctx: Context) -> None:
        assert ctx.status is not None
        statuses.append((ctx.event.channel, ctx.status.status))

    async with page(bot) as http:
        await act(http, bot, channel="whatsapp", type="text", text="hi")
        await act(http, bot, channel="sms", type="text", text="hi")
        out = [e for e in await timeline(http) if e["direction"] == "out"]
    whatsapp, sms = out
    assert whatsapp["status"] == "read" and whatsapp["statuses"] == ["delivered", "read"]
    assert sms["status"] == "delivered" and sms["statuses"] == ["delivered"]  # no read on SMS
    assert statuses == [("whatsapp", "delivered"), ("whatsapp", "read"), ("sms", "delivered")]


async def test_each_reply_carries_its_own_decisions(sandbox_bot: Callable[..., Bot]) -> None:
    bot = sandbox_bot()

    @bot.on_text()
    async def two(ctx: Context) -> None:
        await ctx.reply("Plain words", Buttons("Pick", [Button(f"Day {i}", str(i))
                                                        for i in range(1, 6)]))

    async with page(bot) as http:
        await act(http, bot, channel="whatsapp", type="text", text="hi")
        await act(http, bot, channel="viber_service", type="text", text="hi")
        out = [e for e in await timeline(http) if e["direction"] == "out"]
    plain_wa, list_wa, plain_viber, menu_viber = out
    assert plain_wa["decisions"] == [] and plain_viber["decisions"] == []
    assert list_wa["decisions"] == ["5 choices > 3 reply buttons -> WhatsApp list"]
    assert list_wa["body"]["custom"]["interactive"]["type"] == "list"
    assert len(menu_viber["decisions"]) == 1 and "numbered text menu" in menu_viber["decisions"][0]


async def test_a_wire_violation_is_refused_and_shown(sandbox_bot: Callable[..., Bot]) -> None:
    bot = sandbox_bot()
    refused: list[MessagesApiError] = []

    @bot.on_text(r"(?i)^break$")
    async def broken(ctx: Context) -> None:
        try:
            await ctx.bot.client.send(BROKEN_VIBER)  # a body no renderer would make
        except MessagesApiError as exc:
            refused.append(exc)
        await ctx.reply("still here")

    async with page(bot) as http:
        await act(http, bot, channel="viber_service", type="text", text="break")
        bad, good = [e for e in await timeline(http) if e["direction"] == "out"]
    assert bad["status"] == "rejected" and bad["answer"] == 422
    assert bad["violations"] == [
        "viber_service.action.text: String should have at most 30 characters"
    ]
    assert bad["decisions"] is None and bad["message_uuid"] is None
    assert refused and refused[0].status_code == 422
    assert good["status"] == "read" and good["violations"] == []


async def test_the_events_stream_sends_each_change_once_in_order(
    sandbox_bot: Callable[..., Bot], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_routes, "_SSE_LIFETIME", 0.2)
    bot = sandbox_bot()
    _echo(bot)
    async with page(bot) as http:
        await act(http, bot, channel="whatsapp", type="text", text="hi")
        stream = await http.get("/sandbox/events")
        resumed = await http.get("/sandbox/events", headers={"last-event-id": "3"})
    assert stream.headers["content-type"].startswith("text/event-stream")
    events = [block for block in stream.text.split("\n\n") if block.startswith("id:")]
    revs = [int(block.split("\n")[0].split(": ")[1]) for block in events]
    assert revs == sorted(revs) and len(set(revs)) == len(revs)
    final = json.loads(events[-1].split("data: ", 1)[1])
    assert final["status"] == "read"
    again = [b for b in resumed.text.split("\n\n") if b.startswith("id:")]
    assert [int(b.split("\n")[0].split(": ")[1]) for b in again] == [r for r in revs if r > 3]


async def test_messages_since_a_revision_lists_only_the_changes(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    _echo(bot)
    async with page(bot) as http:
        await act(http, bot, channel="sms", type="text", text="one")
        first = (await http.get("/sandbox/messages")).json()
        await act(http, bot, channel="sms", type="text", text="two")
        later = (await http.get(f"/sandbox/messages?since={first['rev']}")).json()
    assert [e["view"] for e in later["messages"]] == ["two", "sms: two"]
    assert later["rev"] > first["rev"]


async def test_messages_are_listed_in_the_order_they_happened(
    sandbox_bot: Callable[..., Bot],
) -> None:
    bot = sandbox_bot()
    _echo(bot)
    async with page(bot) as http:
        first = await act(http, bot, channel="whatsapp", type="text", text="one")
        await act(http, bot, channel="whatsapp", type="text", text="two")
        # A late read receipt changes the first message after everything else.
        await bot.client.update(first["message_uuid"], {"status": "read"})
        listed = await timeline(http)
        since = (await http.get("/sandbox/messages?since=0")).json()["messages"]
    assert [e["view"] for e in listed] == ["one", "whatsapp: one", "two", "whatsapp: two"]
    assert listed[0]["read"] is True
    assert [e["id"] for e in since] == [e["id"] for e in listed]


async def test_not_recording_when_the_bot_has_its_own_transport(
    sandbox_bot: Callable[..., Bot],
) -> None:
    from botkit.testing import BotTestClient

    bot = Bot(Settings(store="memory://"))
    async with BotTestClient(bot) as client:
        response = await client.http.get("/sandbox/messages")
        page_html = await client.http.get("/sandbox")
    assert response.status_code == 503 and "not recording" in response.json()["detail"]
    assert page_html.status_code == 200


async def test_restarting_the_bot_keeps_the_timeline(sandbox_bot: Callable[..., Bot]) -> None:
    bot = sandbox_bot()
    _echo(bot)
    async with page(bot) as http:
        await act(http, bot, channel="sms", type="text", text="before")
    async with page(bot) as http:
        await act(http, bot, channel="sms", type="text", text="after")
        views = [e["view"] for e in await timeline(http)]
    assert views == ["before", "sms: before", "after", "sms: after"]


async def test_a_stopping_server_ends_the_live_stream_at_once(
    sandbox_bot: Callable[..., Bot],
) -> None:
    import asyncio
    import time

    bot = sandbox_bot()
    async with page(bot):
        assert bot.sandbox is not None
        recorder = bot.sandbox
        stream = sse_events(recorder, 0, lifetime=30)
        assert await anext(stream) == "retry: 300\n\n"
        started = time.monotonic()
        asyncio.get_running_loop().call_later(0.1, setattr, recorder, "closing", True)
        rest = [event async for event in stream]
    assert rest == [] and time.monotonic() - started < 2


async def test_v01_bodies_are_shown_but_not_checked(sandbox_bot: Callable[..., Bot]) -> None:
    bot = sandbox_bot(api_version="v0.1")
    _echo(bot)
    async with page(bot) as http:
        await act(http, bot, channel="viber_service", type="text", text="size")
        [_, menu] = await timeline(http)
    assert menu["channel"] == "viber_service" and menu["user"] == "447700900001"
    assert menu["body"]["message"]["content"]["type"] == "text"
    assert menu["view"].startswith("What size?\n1. Small")
    assert menu["display"]["kind"] == "text" and menu["violations"] == []
    assert menu["notes"] == ["v0.1 body: the strict models cover the v1 format only"]
    assert menu["status"] == "read"
