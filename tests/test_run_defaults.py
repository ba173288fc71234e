"""What ``botkit run`` gives by default: the fast server stack, no HTTP access log, and
one log line per turn instead (``--access-log`` brings uvicorn's back)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from botkit.testing import inbound_webhook

from .serving import wait_until_serving

ROOT = Path(__file__).resolve().parents[1]


def test_the_installed_stack_makes_uvicorn_pick_uvloop_and_httptools() -> None:
    # uvicorn[standard] is a dependency; uvicorn's "auto" then takes the fast parts.
    config = uvicorn.Config(Starlette(), loop="auto", http="auto")
    config.load()
    assert config.http_protocol_class.__module__.endswith("httptools_impl")
    import uvloop  # noqa: F401  (the "auto" loop is uvloop when it imports)


def _serve(tmp_path: Path, *flags: str) -> str:
    """Run the echo example, send it one message, and return what it printed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VONAGE_")}
    env["BOTKIT_STORE"] = f"sqlite:///{tmp_path / 'echo.db'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "botkit.cli", "run", "examples/echo.py:bot", "--port",
         str(port), *flags],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        wait_until_serving(process, f"http://127.0.0.1:{port}")
        body = inbound_webhook("sms", "text", {"text": "hello"}, timestamp=time.time())
        answer = httpx.post(f"http://127.0.0.1:{port}/webhooks/inbound",
                            content=json.dumps(body), timeout=5,
                            headers={"content-type": "application/json"})
        assert answer.status_code in (200, 503)  # 503: unsigned, when a secret is set
        time.sleep(1.0)  # the turn runs after the 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    return output.decode()


@pytest.mark.parametrize("flags", [(), ("--access-log",)])
def test_the_access_log_is_off_unless_asked_and_each_turn_logs_one_line(
        tmp_path: Path, flags: tuple[str, ...]) -> None:
    output = _serve(tmp_path, *flags)
    access_lines = [line for line in output.splitlines() if '"POST /webhooks/inbound' in line]
    assert len(access_lines) == (1 if flags else 0), output
    turns = [line for line in output.splitlines() if "sms:" in line and " -> 1 message in "
             in line]
    assert len(turns) == 1, output


async def test_a_served_bot_tunes_the_collector_once_it_has_started(tmp_path: Path) -> None:
    import gc

    from botkit.cli import GC_YOUNG, served_app

    target = tmp_path / "bot.py"
    target.write_text("from botkit import Bot\nbot = Bot()\n")
    app = served_app(f"{target}:bot")
    tasks = app.state.bot.startup_tasks
    threshold = gc.get_threshold()
    assert gc.get_freeze_count() == 0 and threshold[0] != GC_YOUNG
    try:
        for task in tasks[:1]:  # the collector's; the next checks linked accounts
            await task()
        assert gc.get_freeze_count() > 0  # what the start made is never walked again
        assert gc.get_threshold() == (GC_YOUNG, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
