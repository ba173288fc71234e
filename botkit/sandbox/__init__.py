"""Sandbox mode: no Vonage credentials, a fake Messages API and a web chat on every channel.

Without credentials the bot sends through :class:`SandboxRecorder` (a fake Messages API
that checks every body with botkit's strict wire models), and the app serves the sandbox
page at ``/sandbox``: one conversation on SMS, MMS, RCS, WhatsApp, Messenger and Viber
side by side, through the real webhook routes. See :mod:`botkit.sandbox.routes` for the
endpoints.
"""

from __future__ import annotations

from botkit.sandbox.entries import SandboxEntry
from botkit.sandbox.recorder import SandboxRecorder
from botkit.sandbox.routes import sandbox_routes

__all__ = ["SandboxEntry", "SandboxRecorder", "sandbox_routes"]
