"""``botkit check`` on a folder with a template registry: the registry and every use of it
in flows, each problem as ``file:line:column: message``; run through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from botkit.cli import main
from botkit.flows.template_use import use_problem
from botkit.template_registry import load_templates

FLOW = """\
flow: remind
start: a
states:
  a:
    say:
      - template: appointment_reminder
        parameters: {name: "{{ event.profile_name }}", when: "{{ day }}"}
      - template: apointment_reminder
      - template: order_total
        parameters: {total: "2", items: "2", header: "https://example.com/a.jpg",
                     order: "A1", colour: red}
      - template: order_total
        parameters: {total: lots, items: "2", header: "https://e.com/a.jpg", order: A1}
      - template: appointment_reminder
        parameters: {name: Ana}
    fallback: come_bak
    next: b
  b:
    fallback: {template: order_total, parameters: {total: "3", items: "x", header: "h"}}
    final: true
"""


def test_check_finds_unknown_templates_values_and_types(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "remind.yaml").write_text(FLOW, encoding="utf-8")
    assert main(["check", str(project)]) == 1
    out, err = capsys.readouterr()
    flow = project / "remind.yaml"
    assert out.splitlines() == [
        f"{flow}:8:19: say: template: unknown template 'apointment_reminder': did you mean "
        "'appointment_reminder'? (templates: appointment_reminder, order_total, come_back, "
        "login_code)",
        f"{flow}:11:43: say: colour: unknown parameter (it takes: total, items, header, "
        "order)",
        f"{flow}:13:29: say: total: expected an amount such as 12.50 (or 12.50 EUR), got "
        "'lots'",
        f"{flow}:15:21: say: template 'appointment_reminder' needs 'when' (values: name, "
        "when)",
        f"{flow}:16:15: fallback: template: unknown template 'come_bak': did you mean "
        "'come_back'? (templates: appointment_reminder, order_total, come_back, login_code)",
        # Every problem of one use on its line, so one run of check shows them all.
        f"{flow}:19:51: fallback: template 'order_total' needs 'order' (values: total, items, "
        "header, order); items: expected a number, got 'x'; header: header must be an "
        "http(s) URL, got 'h'",
    ]
    assert "and 1 template registry file(s)" in err and "6 error(s)" in err


def test_a_clean_project_passes_and_a_broken_registry_fails(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "remind.yaml").write_text(
        "flow: remind\nstart: a\nstates:\n  a:\n    say:\n"
        "      template: come_back\n      parameters: {name: '{{ event.profile_name }}'}\n"
        "    fallback: come_back\n    final: true\n", encoding="utf-8")
    assert main(["check", str(project)]) == 0
    registry = project / "templates.yaml"
    registry.write_text(registry.read_text() + "  broken:\n    language: en\n")
    assert main(["check", str(project)]) == 1
    out = capsys.readouterr().out
    assert f"{registry}:32:3: template 'broken': missing required key 'category'" in out


def test_uses_without_a_registry_are_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "f.yaml").write_text(
        "flow: f\nstart: a\nstates:\n  a:\n    say: {template: hello}\n    final: true\n")
    assert main(["check", str(tmp_path)]) == 1
    assert "unknown template 'hello' (no template registry is loaded: templates.yaml beside " \
           "the flows" in capsys.readouterr().out


def test_a_use_missing_several_values_names_them_all(project: Path) -> None:
    registry = load_templates(project / "templates.yaml")
    assert use_problem({"template": "order_total", "parameters": {"total": "2"}}, registry) == (
        ("parameters",), "template 'order_total' needs 'items', 'header' and 'order' "
        "(values: total, items, header, order)")
    assert use_problem({"template": "order_total", "parameters": {
        "total": "2", "items": "1", "header": "https://e.com/a.jpg", "order": "A1"}},
        registry) is None
