"""A template registry and flows that use it, written to a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

REGISTRY = """\
templates:
  appointment_reminder:
    language: en_GB
    category: utility
    parameters:
      name: text
      when: date_time
    buttons:
      - quick_reply: confirm
      - quick_reply: change
    text: "Hi {{name}}, a reminder of your appointment on {{when}}."
  order_total:
    language: en
    category: utility
    parameters:
      total: {type: currency, currency: EUR}
      items: number
    header: image
    buttons: [{url: order}]
    text: "{{items}} items, {{total}}: see example.com/o/{{order}}"
  come_back:
    language: en
    category: marketing
    parameters:
      name: {type: text, default: there}
    text: "Hi {{name}}, we have news for you. Reply to see it."
  login_code:
    language: en
    category: authentication
    buttons: [{copy_code: code}]
    text: "Your code is {{code}}"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with ``templates.yaml`` (the registry above)."""
    (tmp_path / "templates.yaml").write_text(REGISTRY, encoding="utf-8")
    return tmp_path
