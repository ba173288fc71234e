"""Handoff fixtures: the flow tests' inline flows serve here too."""

from __future__ import annotations

from tests.flows.runtime.conftest import flow_bot

__all__ = ["flow_bot"]
