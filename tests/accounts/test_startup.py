"""At ``botkit run``: the linked accounts are logged once, in the background, and a channel
the bot answers on without a linked account is warned about; a failure is one warning."""

from __future__ import annotations

import asyncio
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

from botkit import Bot, Context, Router, Settings
from botkit.accounts import ExternalAccount
from botkit.accounts.startup import accounts_check, check_linked_accounts, describe_links
from botkit.cli import _collect_for_serving, served_app
from botkit.routing import CHANNELS

from ..serving import wait_until_serving
from .conftest import APP, OTHER_APP
from .fake_api import FakeAccountsApi

ROOT = Path(__file__).resolve().parents[2]
INFO, WARNING = logging.INFO, logging.WARNING

WHATSAPP = ExternalAccount("whatsapp", "447700900000", "Pizza Co", (APP,))
MESSENGER = ExternalAccount("messenger", "112233445566", "Pizza page", (OTHER_APP,))
VIBER = ExternalAccount("viber_service_msg", "16273", None, ())


def botkit_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "botkit"]


# -- what is said -----------------------------------------------------------------------------


def test_each_account_and_whether_this_application_is_linked() -> None:
    assert describe_links([WHATSAPP, MESSENGER, VIBER], APP, CHANNELS) == [
        (INFO, "whatsapp account 447700900000 (Pizza Co): linked to this application"),
        (
            INFO,
            f"messenger account 112233445566 (Pizza page): linked to application {OTHER_APP}, "
            "not to this one",
        ),
        (INFO, "viber_service account 16273: not linked to any application"),
        (
            WARNING,
            f"no messenger or viber_service account is linked to this application ({APP}): "
            "users of those channels cannot reach this bot (botkit accounts list; botkit "
            "accounts link PROVIDER EXTERNAL_ID)",
        ),
    ]


def test_only_the_channels_the_bot_answers_on_are_warned_about() -> None:
    lines = describe_links([WHATSAPP, MESSENGER], APP, {"sms", "whatsapp"})
    assert [level for level, _ in lines] == [INFO, INFO]
    [(level, warning)] = describe_links([WHATSAPP], APP, {"messenger", "whatsapp"})[1:]
    assert level == WARNING
    assert warning.startswith(f"no messenger account is linked to this application ({APP}): ")
    assert "users of that channel cannot reach this bot" in warning


def test_with_basic_auth_any_linked_application_counts() -> None:
    lines = describe_links([WHATSAPP, MESSENGER, VIBER], None, CHANNELS)
    assert lines[0] == (
        INFO,
        f"whatsapp account 447700900000 (Pizza Co): linked to application {APP}",
    )
    assert lines[-1][0] == WARNING
    assert lines[-1][1].startswith("no viber_service account is linked to an application: ")


def test_no_accounts_at_all() -> None:
    assert describe_links([], APP, {"sms"}) == [
        (INFO, "these credentials own no Messenger, Viber or WhatsApp account")
    ]
    assert describe_links([], APP, CHANNELS)[-1][1].startswith(
        "no messenger, viber_service or whatsapp account is linked"
    )


def test_the_channels_a_bot_answers_on() -> None:
    bot_like = Router()
    assert bot_like.channels_used() == frozenset()

    @bot_like.on_text(channel="whatsapp")
    async def a(ctx: Context) -> None: ...

    inner = Router()

    @inner.on_button("x", channel=["sms", "messenger"])
    async def b(ctx: Context) -> None: ...

    bot_like.include_router(inner)
    assert bot_like.channels_used() == {"whatsapp", "sms", "messenger"}

    @inner.on_message()  # no filter: every channel
    async def c(ctx: Context) -> None: ...

    assert bot_like.channels_used() == frozenset(CHANNELS)


# -- the check against the fake API ------------------------------------------------------------


async def test_the_check_logs_what_the_api_says(
    fake: FakeAccountsApi, api_url: str, pem: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="botkit")
    fake.page_size = 20
    settings = Settings(application_id=APP, private_key=pem, accounts_url=api_url)
    await check_linked_accounts(settings, {"whatsapp", "viber_service"})
    assert botkit_lines(caplog) == [
        (INFO, "botkit: whatsapp account 447700900000 (Pizza Co): linked to this application"),
        (
            INFO,
            f"botkit: messenger account 112233445566 (Pizza page): linked to application "
            f"{OTHER_APP}, not to this one",
        ),
        (INFO, "botkit: viber_service account 16273 (Pizza Viber): not linked to any application"),
        (
            WARNING,
            f"botkit: no viber_service account is linked to this application ({APP}): users of "
            "that channel cannot reach this bot (botkit accounts list; botkit accounts link "
            "PROVIDER EXTERNAL_ID)",
        ),
    ]
    [request] = fake.requests  # one call
    assert request.headers["Authorization"].startswith("Bearer ")


async def test_a_refusal_is_one_warning_and_no_retry(
    fake: FakeAccountsApi, api_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="botkit")
    fake.fail_next(503, {"title": "Service Unavailable"})
    settings = Settings(api_key="key", api_secret="secret", accounts_url=api_url)
    await check_linked_accounts(settings, CHANNELS)
    assert botkit_lines(caplog) == [
        (
            WARNING,
            "botkit: linked accounts not checked: External Accounts API answered 503: "
            "Service Unavailable",
        )
    ]
    assert len(fake.requests) == 1


async def test_refused_credentials(
    fake: FakeAccountsApi, api_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(api_key="key", api_secret="wrong", accounts_url=api_url)
    await check_linked_accounts(settings, CHANNELS)
    [(level, line)] = botkit_lines(caplog)
    assert level == WARNING
    assert line.startswith(
        "botkit: linked accounts not checked: External Accounts API answered 401"
    )


async def test_no_answer_in_time(
    fake: FakeAccountsApi, api_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake.delay = 10
    settings = Settings(api_key="key", api_secret="secret", accounts_url=api_url)
    await check_linked_accounts(settings, CHANNELS, timeout=0.3)
    assert botkit_lines(caplog) == [
        (WARNING, f"botkit: linked accounts not checked: no answer from {api_url} within 0.3 s")
    ]


# -- in the running bot ----------------------------------------------------------------------


async def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def fake_messages_api() -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(202, json={"message_uuid": "u"}))


def live_bot(accounts_url: str, pem: str, tmp_path: Path) -> Bot:
    """A bot with JWT credentials (not the sandbox), its Messages API faked."""
    settings = Settings(
        application_id=APP,
        private_key=pem,
        accounts_url=accounts_url,
        store=f"sqlite:///{tmp_path / 'bot.db'}",
    )
    return Bot(settings, transport=fake_messages_api())


async def test_the_bot_takes_webhooks_before_the_check_answers(
    fake: FakeAccountsApi, api_url: str, pem: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="botkit")
    fake.delay = 0.5
    bot = live_bot(api_url, pem, tmp_path)
    settings = bot.settings

    @bot.on_text(channel="whatsapp")
    async def echo(ctx: Context) -> None: ...

    bot.startup_tasks.append(accounts_check(settings, bot.channels_used()))
    async with bot.running():
        assert bot.accepting
        assert not any("account" in line for _, line in botkit_lines(caplog))
        await wait_for(lambda: any("whatsapp account" in line for _, line in botkit_lines(caplog)))
    lines = botkit_lines(caplog)
    assert (
        INFO,
        "botkit: whatsapp account 447700900000 (Pizza Co): linked to this application",
    ) in lines
    assert not [line for level, line in lines if level >= WARNING]  # whatsapp is served


async def test_stopping_the_bot_ends_a_check_still_waiting(
    fake: FakeAccountsApi, api_url: str, pem: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.delay = 30
    bot = live_bot(api_url, pem, tmp_path)
    settings = bot.settings
    bot.startup_tasks.append(accounts_check(settings, CHANNELS))
    started = time.monotonic()
    async with bot.running():
        await wait_for(lambda: len(fake.requests) == 1)
    assert time.monotonic() - started < 10
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_failing_startup_task_is_logged_and_the_bot_runs_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot = Bot(Settings(store=f"sqlite:///{tmp_path / 'bot.db'}"), transport=fake_messages_api())

    async def broken() -> None:
        raise RuntimeError("boom")

    bot.startup_tasks.append(broken)
    async with bot.running():
        await wait_for(lambda: any("broken" in line for _, line in botkit_lines(caplog)))
        assert bot.accepting
    assert (logging.ERROR, "botkit: the startup task broken failed") in botkit_lines(caplog)


def test_botkit_run_adds_the_check_only_when_sending_for_real(
    monkeypatch: pytest.MonkeyPatch, pem: str, tmp_path: Path
) -> None:
    for name in list(os.environ):
        if name.startswith(("VONAGE_", "BOTKIT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BOTKIT_STORE", f"sqlite:///{tmp_path / 'bot.db'}")
    sandboxed = served_app(str(ROOT / "bots" / "pizza.yaml")).state.bot
    assert sandboxed.startup_tasks == [_collect_for_serving]  # served, with no accounts check
    monkeypatch.setenv("VONAGE_APPLICATION_ID", APP)
    monkeypatch.setenv("VONAGE_PRIVATE_KEY", pem)
    live = served_app(str(ROOT / "bots" / "pizza.yaml")).state.bot
    [collect, check] = live.startup_tasks
    assert collect is _collect_for_serving and check is not _collect_for_serving


def test_botkit_run_logs_the_linked_accounts(
    fake: FakeAccountsApi, api_url: str, pem: str, tmp_path: Path
) -> None:
    fake.page_size = 20
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VONAGE_", "BOTKIT_"))}
    env.update(
        VONAGE_APPLICATION_ID=APP,
        VONAGE_PRIVATE_KEY=pem,
        VONAGE_ACCOUNTS_URL=api_url,
        BOTKIT_STORE=f"sqlite:///{tmp_path / 'pizza.db'}",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "botkit.cli", "run", "bots/pizza.yaml", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        health = wait_until_serving(process, f"http://127.0.0.1:{port}")
        assert health.json()["sandbox"] is False
        while not fake.requests:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)  # the answer, then the log lines
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    assert len(fake.requests) == 1  # one call at start

    def logged(level: str, text: str) -> bool:
        return any(line.startswith(level) and text in line for line in output.splitlines())

    assert logged("INFO", "whatsapp account 447700900000 (Pizza Co): linked to this application")
    assert logged(
        "INFO", "viber_service account 16273 (Pizza Viber): not linked to any application"
    )
    assert logged(
        "WARNING", f"no messenger or viber_service account is linked to this application ({APP})"
    )
