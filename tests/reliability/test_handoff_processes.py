"""Human handoff on two real bot processes sharing one Redis store.

The user's webhooks and the agent's requests go to either process at random; the
conversation behaves as with one bot: the handoff, the agent's message reaching the user,
the user's messages relayed with no bot reply, the release, and the bot resuming at the
state the agent named (``tests/handoff/test_done_when.py`` is the same on SQLite, on
every channel).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from botkit.testing import inbound_webhook

from .harness import BotProcess, FakeApi, StoreSpec, bot_env, until

HARD_TIMEOUT = 90
TOKEN = "desk-token-processes"
AUTH = {"authorization": f"Bearer {TOKEN}"}
TARGET = "tests/handoff/bots/desk_process.py:bot"
MENU = "Hi! Type agent to talk to a person."


def to_user(api: FakeApi, user: str) -> list[tuple[str, str]]:
    """What the Messages API took for ``user``: (who, text), who is agent or bot."""
    out = []
    for sent in api.accepted():
        body = sent["body"]
        if body.get("to") == user:
            who = "agent" if str(body.get("client_ref", "")).startswith("agent-") else "bot"
            out.append((who, str(body.get("text"))))
    return out


async def test_a_handoff_across_two_processes(
    redis_store: StoreSpec, fake_api: FakeApi, tmp_path: Path
) -> None:
    env = bot_env(api=fake_api, store=redis_store.url, redis_prefix=redis_store.redis_prefix,
                  BOTKIT_AGENT_TOKEN=TOKEN)
    first = BotProcess(env, tmp_path, target=TARGET, name="desk-a")
    second = BotProcess(env, tmp_path, target=TARGET, name="desk-b")
    try:
        first.start()
        second.start()
        async with httpx.AsyncClient(timeout=10) as http:
            for channel in ("sms", "whatsapp"):
                await one_conversation(http, fake_api, first.url, second.url, channel)
    finally:
        first.close()
        second.close()


async def one_conversation(
    http: httpx.AsyncClient, api: FakeApi, a: str, b: str, channel: str
) -> None:
    user = f"4477009{uuid.uuid4().int % 10**5:05d}"
    path = f"/agent/conversations/{channel}/{user}"
    seen: list[tuple[str, str]] = []

    async def user_says(base: str, text: str) -> None:
        body = inbound_webhook(channel, "text", {"text": text}, user=user, timestamp=time.time())
        response = await http.post(base + "/webhooks/inbound", content=json.dumps(body),
                                   headers={"content-type": "application/json"})
        assert response.status_code == 200, response.text

    async def expect(*said: tuple[str, str]) -> None:
        seen.extend(said)
        await until(lambda: len(to_user(api, user)) >= len(seen), timeout=20,
                    what=f"{channel}: {said}")
        assert to_user(api, user) == seen

    async def agent(method: str, base: str, url: str, body: Any = None) -> Any:
        response = await http.request(method, base + url, headers=AUTH, json=body)
        assert response.status_code in (200, 202), response.text
        return response.json()

    await user_says(a, "hi")
    await expect(("bot", MENU))
    await user_says(b, "I want a human")
    await expect(("bot", "Connecting you to a person."))
    listed = (await agent("GET", a, "/agent/conversations"))["conversations"]
    assert [(c["channel"], c["reason"]) for c in listed if c["user"] == user] == [
        (channel, "support")]

    await agent("POST", b, path + "/messages", {"text": "Hi, I'm Anna. How can I help?"})
    await expect(("agent", "Hi, I'm Anna. How can I help?"))

    for base, text in [(a, "my parcel is late"), (b, "agent"), (a, "hello??")]:
        await user_says(base, text)
    await until(lambda: _users_lines(a, path) >= 3, timeout=20, what="relayed")
    await agent("POST", a, path + "/release", {"state": "anything_else"})
    # Turns run in the order they were accepted: the release came after the three messages,
    # so anything the bot had said to them would be here before its welcome back.
    await expect(("bot", "Welcome back! Anything else?"))
    await user_says(b, "no, thanks")
    await expect(("bot", "Glad to help."), ("bot", MENU))
    transcript = await agent("GET", b, path)
    assert transcript["handed_off"] is False
    assert [(m["from"], m["text"]) for m in transcript["messages"]] == [
        ("user", "hi"), ("bot", MENU), ("user", "I want a human"),
        ("bot", "Connecting you to a person."), ("agent", "Hi, I'm Anna. How can I help?"),
        ("user", "my parcel is late"), ("user", "agent"), ("user", "hello??"),
        ("bot", "Welcome back! Anything else?"), ("user", "no, thanks"),
        ("bot", "Glad to help."), ("bot", MENU)]


def _users_lines(base: str, path: str) -> int:
    """The user's messages in the transcript after the agent's (a blocking read: the bots
    are other processes)."""
    messages = httpx.get(base + path, headers=AUTH, timeout=10).json()["messages"]
    agent_at = max(i for i, m in enumerate(messages) if m["from"] == "agent")
    return sum(1 for m in messages[agent_at:] if m["from"] == "user")
