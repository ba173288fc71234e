"""Where the tests find the Vonage reference data: ``tests/fixtures/vonage`` in the repository.

The folder's README names the source of every file, so a fresh clone tests everything.
"""

from __future__ import annotations

from pathlib import Path

VONAGE = Path(__file__).resolve().parent / "fixtures" / "vonage"
"""OpenAPI descriptions, example bodies and SDK fixtures (see its README.md)."""

EXAMPLES = VONAGE / "examples"
"""One body per file, named ``{inbound,status,outbound,response,error}-{v1,v01}-...``."""

CURRENT = VONAGE / "current" / "examples"
"""What the API added since spec 1.4.0, by ``inbound/``, ``outbound/`` and ``status/``."""
