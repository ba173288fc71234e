"""Absolute timer times (``timeout: {at: ...}``): written, checked and resolved from slots."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from botkit.errors import FlowError
from botkit.flows import load_flow
from botkit.flows.absolute import resolve_at


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("{{ visit }}", "2023-11-20 10:00"),
        ("{{ visit - 1 day }}", "2023-11-19 10:00"),
        ("{{ visit + 2 hours }}", "2023-11-20 12:00"),
        ("{{visit-90m}}", "2023-11-20 08:30"),
        ("{{ visit - 1 week }}", "2023-11-13 10:00"),
        ("{{ day }}T09:30", "2023-11-20 09:30"),
        ("2023-12-01", "2023-12-01 00:00"),
        ("{{ visit_paris }}", "2023-11-20 09:00"),  # 10:00 at UTC+1
    ],
)
def test_at_resolves_from_the_slots(at: str, expected: str) -> None:
    slots = {"visit": "2023-11-20T10:00", "day": "2023-11-20",
             "visit_paris": "2023-11-20T10:00+01:00"}
    assert resolve_at(at, slots) == ts(expected)


def test_a_value_that_is_no_time_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match=r"'soon' .* is not a date and time"):
        resolve_at("{{ when - 1 day }}", {"when": "soon"})


def test_a_timeout_has_after_or_at_and_at_must_parse(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(
        "flow: f\nstart: a\nstates:\n"
        "  a:\n    timeout: {at: \"{{ x - 1 day }}\", say: hi}\n"
        "  b:\n    timeout: {at: \"{{ x -\", say: hi}\n"
        "  c:\n    timeout: {after: 1d, at: \"{{ x }}\", say: hi}\n"
    )
    with pytest.raises(FlowError) as error:
        load_flow(path)
    messages = [(p.line, p.message) for p in error.value.problems]
    assert len(messages) == 2
    assert messages[0][0] == 7 and "the template does not parse" in messages[0][1]
    assert messages[1] == (9, "a timeout has after (a duration) or at (a time), one of the two")
