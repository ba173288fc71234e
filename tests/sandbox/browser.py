"""Running the sandbox page in a real browser: Debian's Chromium driven by Playwright.

A bot in sandbox mode is served by uvicorn on an ephemeral port; the page is opened in a
headless Chromium with every page error and console error collected. Without Chromium or
Playwright a test skips and says why; under ``CI=true`` it fails.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from botkit import Bot

from .conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]
TIMEOUT = 15_000  # ms, for one expected reply
PICTURE = (b'<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200">'
           b'<rect width="320" height="200" fill="#f4b400"/><circle cx="160" cy="100" r="60" '
           b'fill="#db4437"/></svg>')
"""What every image on example.com is, in the browser tests (an SVG, 320 x 200)."""


def require_browser() -> Any:
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


@contextmanager
def serve(bot: Bot) -> Iterator[str]:
    """Serve ``bot`` (in sandbox mode) with uvicorn on a free port; yields its base URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(bot.asgi(), log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        if bot.sandbox is not None:
            bot.sandbox.closing = True  # as botkit run does on Ctrl+C: end the live stream
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@contextmanager
def open_page(sync_api: Any, base: str, **options: Any) -> Iterator[tuple[Any, list[str]]]:
    """The sandbox page in headless Chromium, ready; yields it and the errors it reports."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1000}, **options)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/sandbox")
            page.wait_for_selector("body[data-ready=true]")
            yield page, errors
        finally:
            browser.close()


def serve_example_com(page: Any) -> None:
    """Answer example.com in the page's browser context: images are :data:`PICTURE`, other
    pages a bare HTML page. The tests have no network, and a failed load is a console
    error."""
    page.context.route("**://example.com/**", lambda route: route.fulfill(
        status=200, body=PICTURE, content_type="image/svg+xml")
        if route.request.resource_type == "image" else route.fulfill(
        status=200, body="<title>Example</title>", content_type="text/html"))


def artifacts() -> Path:
    """Where screenshots go: ``$BOTKIT_ARTIFACTS``, default ``test-artifacts/``."""
    folder = Path(os.environ.get("BOTKIT_ARTIFACTS") or ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def say(page: Any, channel: str, text: str) -> None:
    """Type ``text`` in the channel's pane and send it."""
    box = page.locator(f"#text-{channel}")
    box.fill(text)
    box.press("Enter")


def unnamed_controls(page: Any) -> list[str]:
    """Visible buttons and inputs with no accessible name (should be none)."""
    found: list[str] = page.evaluate("""() => [...document.querySelectorAll('button, input')]
        .filter(e => !e.closest('[hidden]'))
        .filter(e => !(e.getAttribute('aria-label') || e.innerText.trim()
                       || (e.labels && e.labels.length)))
        .map(e => e.outerHTML)""")
    return found
