"""``botkit run`` targets, sandbox mode, and the auth header each credential pair produces."""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from botkit import Bot, ConfigError, Context, Settings
from botkit.cli import load_target, main
from botkit.testing import BotTestClient

from .serving import wait_until_serving

ROOT = Path(__file__).resolve().parents[1]


def test_load_target_by_path_and_by_module() -> None:
    bot = load_target(str(ROOT / "examples" / "echo.py") + ":bot")
    assert isinstance(bot, Bot)
    assert isinstance(load_target("tests.bots.stuck:bot"), Bot)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("examples/echo.py", "must look like"),
        ("missing/file.py:bot", "no such file"),
        ("no_such_module_here:bot", "cannot import module"),
        (str(ROOT / "examples" / "echo.py") + ":nope", "has no attribute 'nope'"),
    ],
)
def test_bad_targets_are_clear_errors(target: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_target(target)


def test_cli_reports_errors_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "missing/file.py:bot"]) == 2
    assert "botkit: error: no such file" in capsys.readouterr().err


async def test_sandbox_mode_records_instead_of_sending(tmp_path: Path) -> None:
    bot = Bot(Settings(store=f"sqlite:///{tmp_path / 'b.db'}"))

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        await ctx.reply("recorded")

    app = bot.asgi()
    async with bot.running():
        assert bot.sandbox is not None
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            from botkit.testing import inbound_webhook

            body = inbound_webhook("sms", "text", {"text": "hi"}, timestamp=time.time())
            assert (await http.post("/webhooks/inbound", json=body)).status_code == 200
            await bot.idle()
        [recorded] = list(bot.sandbox.messages)
    assert recorded["body"]["text"] == "recorded"
    assert recorded["message_uuid"]


def _rsa_pem() -> tuple[str, object]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, key.public_key()


async def test_application_jwt_is_sent_when_configured(make_bot: Callable[..., Bot]) -> None:
    pem, public = _rsa_pem()
    bot = make_bot(application_id="aaaaaaaa-bbbb-cccc-dddd-0123456789ab", private_key=pem)

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        await ctx.reply("hi")

    async with BotTestClient(bot) as client:
        await client.send("x")
    scheme, token = client.api.requests[0].headers["authorization"].split(" ")
    assert scheme == "Bearer"
    claims = jwt.decode(token, public, algorithms=["RS256"], options={"verify_exp": False})  # type: ignore[arg-type]
    assert claims["application_id"] == "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"


async def test_basic_auth_is_sent_when_configured(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(api_key="key", api_secret="secret")

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        await ctx.reply("hi")

    async with BotTestClient(bot) as client:
        await client.send("x")
    expected = "Basic " + base64.b64encode(b"key:secret").decode()
    assert client.api.requests[0].headers["authorization"] == expected


def test_botkit_run_serves_the_echo_example(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VONAGE_")}
    env["BOTKIT_STORE"] = f"sqlite:///{tmp_path / 'echo.db'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "botkit.cli", "run", "examples/echo.py:bot", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        health = wait_until_serving(process, f"http://127.0.0.1:{port}")
        assert health.json()["sandbox"] is True
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert b"sandbox mode" in output


def _replies_doc_example() -> str:
    """The several replies docs/replies.md shows in one block ("Replies as data")."""
    text = (ROOT / "docs" / "replies.md").read_text(encoding="utf-8")
    [block] = re.findall(r"^### Replies as data\n.*?^```yaml\n(.*?)^```$", text,
                         flags=re.MULTILINE | re.DOTALL)
    assert block.count("\n---\n") >= 2
    return block


def test_botkit_preview_takes_the_docs_block_of_several_replies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replies = tmp_path / "replies.yaml"
    block = _replies_doc_example()
    replies.write_text(block)
    count = block.count("\n---\n") + 1
    assert main(["preview", str(replies), "--channel", "whatsapp"]) == 0
    out = capsys.readouterr().out
    assert "-- message 1 of " in out and "What size?" in out and "Your table is ready" in out
    assert out.count("-- message ") >= count


def test_botkit_preview_takes_a_list_of_replies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replies = tmp_path / "replies.yaml"
    replies.write_text("- Hello!\n- text: What size?\n  buttons: [Small, Large]\n")
    assert main(["preview", str(replies), "--channel", "sms"]) == 0
    out = capsys.readouterr().out
    assert "-- message 1 of 2 --" in out and "-- message 2 of 2 --" in out
    assert "1. Small" in out
    replies.write_text("---\n# nothing here\n")
    assert main(["preview", str(replies)]) == 1
    assert "holds no reply" in capsys.readouterr().err


def test_botkit_preview_prints_every_channel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = tmp_path / "reply.yaml"
    reply.write_text(
        "text: Size?\nbuttons:\n  - {title: Small, payload: S}\n  - {title: Large, payload: L}\n"
    )
    assert main(["preview", str(reply)]) == 0
    out = capsys.readouterr().out
    for name in ("SMS", "MMS", "WhatsApp", "Messenger", "Viber"):
        assert f"=== {name}" in out
    assert "1. Small" in out and '"type": "button"' in out
    assert main(["preview", str(reply), "--channel", "sms"]) == 0
    assert "WhatsApp" not in capsys.readouterr().out
