"""A process killed after acknowledging webhooks: the next process handles them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from botkit import Bot, Context, FakeClock, Settings
from botkit.testing import BotTestClient, inbound_webhook

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stuck_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    db = tmp_path / "bot.db"
    port = free_port()
    env = {**os.environ, "BOTKIT_STORE": f"sqlite:///{db}", "PYTHONPATH": str(ROOT)}
    for name in (
        "VONAGE_API_KEY",
        "VONAGE_API_SECRET",
        "VONAGE_APPLICATION_ID",
        "VONAGE_PRIVATE_KEY",
        "VONAGE_SIGNATURE_SECRET",
    ):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "botkit.cli", "run", "tests/bots/stuck.py:bot", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"the bot server did not start: {err.decode()[-2000:]}")
        time.sleep(0.1)
    try:
        yield url, process, db
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


async def test_events_acknowledged_by_a_killed_process_are_handled_after_restart(
    stuck_server: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    url, process, db = stuck_server
    clock = FakeClock(time.time())
    sent = []
    async with httpx.AsyncClient(base_url=url) as http:
        for i, user in enumerate(["447700900001", "447700900002", "447700900001"]):
            body = inbound_webhook(
                "sms", "text", {"text": f"m{i}"}, user=user, timestamp=clock.now()
            )
            response = await http.post(
                "/webhooks/inbound",
                content=json.dumps(body),
                headers={"content-type": "application/json"},
            )
            assert response.status_code == 200
            sent.append(body)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)

    bot = Bot(Settings(store=f"sqlite:///{db}"), clock=clock)
    handled: list[str] = []

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        handled.append(ctx.message.message_uuid)
        await ctx.reply(f"late {ctx.message.text}")

    async with BotTestClient(bot) as client:
        await bot.idle()
        assert sorted(handled) == sorted(b["message_uuid"] for b in sent)
        # one conversation's events keep their acceptance order
        first_user = [u for u in handled if u in (sent[0]["message_uuid"], sent[2]["message_uuid"])]
        assert first_user == [sent[0]["message_uuid"], sent[2]["message_uuid"]]
        assert sorted(r["text"] for r in client.replies) == ["late m0", "late m1", "late m2"]
        # a redelivery of an event the dead process acknowledged is still a duplicate
        assert (await client.post("/webhooks/inbound", sent[0])).status_code == 200
        await bot.idle()
        assert len(handled) == 3
