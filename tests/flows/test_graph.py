"""``botkit graph``: a flow drawn as a Mermaid state diagram."""

from __future__ import annotations

from pathlib import Path

import pytest

from botkit.flows import load_flow, main_graph, mermaid, parse_flow

GOOD = Path(__file__).parent / "good"

PIZZA = """\
stateDiagram-v2
    [*] --> welcome
    how_many : ask count (number)
    crust : ask crust (choice)
    address : ask address (text)
    helpdesk : call support
    welcome --> how_many : button S, M, L if is_open
    welcome --> cancelled : button S, M, L
    how_many --> crust : answer (count)
    crust --> address : answer (crust)
    crust --> helpdesk : no valid answer
    address --> confirm : answer (address)
    address --> helpdesk : no valid answer
    address --> cancelled : after 1h30m
    confirm --> done : button yes
    confirm --> welcome : button no
    confirm --> helpdesk : text /(?i)agent|person|human/
    helpdesk --> confirm : after flow support
    state "any state" as any_state
    any_state --> cancelled : text /(?i)^(stop|cancel)$/
    done --> [*]
    cancelled --> [*]
"""


def test_the_pizza_flow_as_a_state_diagram() -> None:
    assert mermaid(load_flow(GOOD / "pizza.yaml")) == PIZZA


def test_handoff_timeout_and_next_edges() -> None:
    diagram = mermaid(load_flow(GOOD / "support.yaml"))
    assert diagram.splitlines() == [
        "stateDiagram-v2",
        "    [*] --> topic",
        "    topic : ask topic (choice)",
        "    person : handoff to a person",
        "    topic --> person : answer (topic)",
        "    person --> back : after 2h",
        "    person --> back : handed back",
        "    back --> [*]",
    ]
    moves_on = parse_flow("flow: m\nstart: a\nstates:\n  a: {say: Hi, next: b}\n"
                          "  b: {final: true}\n")
    assert "    a --> b : next" in mermaid(moves_on).splitlines()


def test_state_names_that_are_mermaid_keywords_get_an_alias() -> None:
    spec = parse_flow("flow: k\nstart: state\nstates:\n  state: {next: end}\n"
                      "  end: {final: true}\n")
    assert mermaid(spec).splitlines() == [
        "stateDiagram-v2",
        '    state "state" as state_state',
        '    state "end" as end_state',
        "    [*] --> state_state",
        "    state_state --> end_state : next",
        "    end_state --> [*]",
    ]


def test_labels_cannot_break_the_diagram() -> None:
    spec = parse_flow(
        "flow: l\nstart: any_state\nglobal:\n"
        "  - {text: 'a;b#c<d>\"e\" %% f', goto: any_state}\n"
        "states:\n  any_state:\n    on:\n"
        "      - {text: 'a very long regular expression that goes on and on and on', "
        "goto: any_state}\n"
    )
    lines = mermaid(spec).splitlines()
    # A state called any_state pushes the global-rules node aside.
    assert '    state "any state" as any_state_' in lines
    assert ("    any_state_ --> any_state : text /a#59;b#35;c#lt;d#gt;#quot;e#quot; #37;#37; f/"
            in lines)
    assert "    any_state --> any_state : text /a very long regular expression that goe..." in lines


def test_main_graph_prints_the_diagram_or_the_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main_graph(str(GOOD / "pizza.yaml")) == 0
    assert capsys.readouterr().out == PIZZA
    broken = tmp_path / "broken.yaml"
    broken.write_text("flow: b\nstart: nowhere\nstates: {a: {final: true}}\n")
    assert main_graph(str(broken)) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{broken}:2:8: start: unknown state 'nowhere'")
