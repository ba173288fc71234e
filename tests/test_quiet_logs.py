"""botkit is quiet by default: what it logs for unhandled events, the sandbox notice, and
its log lines when the application configured no logging (``uvicorn mybot:app``)."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from botkit import Bot
from botkit.logs import LineFormatter, log_by_default
from botkit.testing import BotTestClient

from .serving import wait_until_serving

ROOT = Path(__file__).resolve().parents[1]


async def test_statuses_without_a_handler_log_at_debug_only(
    make_bot: Callable[..., Bot], caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot()
    with caplog.at_level(logging.DEBUG, logger="botkit"):
        async with BotTestClient(bot) as client:
            for status in ("submitted", "delivered", "read"):
                await client.status("11111111-1111-4111-8111-111111111111", status,
                                    channel="whatsapp")
    unhandled = [r for r in caplog.records if "no handler" in r.getMessage()]
    assert len(unhandled) == 3
    assert {r.levelno for r in unhandled} == {logging.DEBUG}
    assert bot.metrics["unhandled"] == 3


async def test_the_hint_for_an_unhandled_message_is_given_once_per_kind(
    make_bot: Callable[..., Bot], caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot()
    with caplog.at_level(logging.DEBUG, logger="botkit"):
        async with BotTestClient(bot) as client:
            await client.send("hello")
            await client.send("anyone?")
            await client.tap("confirm_yes", title="Yes")
            await client.tap("confirm_no", title="No")
    hints = [r for r in caplog.records if r.levelno >= logging.INFO and "add:" in r.getMessage()]
    assert [("on_text" in r.getMessage(), "on_button" in r.getMessage()) for r in hints] == [
        (True, False), (False, True)]
    assert "further unhandled text messages are logged at debug level" in hints[0].getMessage()
    quiet = [r for r in caplog.records if r.levelno == logging.DEBUG
             and "no handler took" in r.getMessage()]
    assert len(quiet) == 2


def test_a_logging_configuration_is_left_alone() -> None:
    own = logging.getLogger("botkit")
    before = (list(own.handlers), own.level)
    # pytest's capture handler sits on the root logger: logging is configured.
    assert logging.getLogger().handlers
    assert log_by_default() is False
    assert (list(own.handlers), own.level) == before


def _line(name: str, msg: str, *args: object) -> str:
    record = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)
    return LineFormatter().format(record)


def test_a_log_line_names_botkit_once() -> None:
    assert _line("botkit", "botkit: %s -> %d message", "sms:1", 1) == (
        "INFO botkit: sms:1 -> 1 message")
    assert _line("botkit.flows", "botkit: reloaded flow %r", "pizza") == (
        "INFO botkit: reloaded flow 'pizza'")
    # a line without botkit's prefix, or another library's, keeps its logger's name
    assert _line("botkit", "hello from a worker") == "INFO botkit: hello from a worker"
    assert _line("botkit.sandbox", "sandbox: PATCH") == "INFO botkit.sandbox: sandbox: PATCH"
    assert _line("uvicorn.error", "botkit: x") == "INFO uvicorn.error: botkit: x"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _serve(command: list[str], tmp_path: Path) -> str:
    """Start ``command`` (a server on $PORT), send it one message, stop it; its output."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VONAGE_")}
    env["BOTKIT_STORE"] = f"sqlite:///{tmp_path / 'bot.db'}"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    process = subprocess.Popen(
        [part.replace("$PORT", str(port)) for part in command],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)  # read what is there, never wait
    output = b""
    try:
        deadline = time.monotonic() + 30
        wait_until_serving(process, base)
        sent = httpx.post(f"{base}/sandbox/send", headers={"origin": base},
                          json={"channel": "sms", "type": "text", "text": "hi"}, timeout=10)
        assert sent.status_code == 200, sent.text
        while b"-> 1 message " not in output and time.monotonic() < deadline:
            output += process.stdout.read() or b""
            time.sleep(0.1)
    finally:
        process.terminate()
        rest, _ = process.communicate(timeout=10)
    return (output + (rest or b"")).decode()


def test_uvicorn_shows_botkits_log_lines_when_nothing_configured_logging(
    tmp_path: Path,
) -> None:
    output = _serve([sys.executable, "-m", "uvicorn", "--app-dir", "examples", "echo:app",
                     "--port", "$PORT"], tmp_path)
    assert output.count("sandbox mode") == 1, output
    assert "INFO botkit: sms:" in output and "-> 1 message " in output, output
    assert "botkit: botkit:" not in output, output


def test_botkit_run_says_sandbox_mode_once(tmp_path: Path) -> None:
    output = _serve([sys.executable, "-m", "botkit.cli", "run", "examples/echo.py:bot",
                     "--port", "$PORT"], tmp_path)
    assert output.count("sandbox mode") == 1, output
    assert "/sandbox" in output and "-> 1 message " in output, output
    assert "INFO botkit: sms:" in output and "botkit: botkit:" not in output, output
