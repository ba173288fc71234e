"""Loading flow files: every problem at its line and column, all at once, nothing but FlowError."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botkit.errors import FlowError, FlowProblem
from botkit.flows import (
    FlowSpec,
    check,
    find_flow_files,
    load_flow,
    load_flows,
    main_check,
    parse_flow,
)

HERE = Path(__file__).parent
GOOD = HERE / "good"
BROKEN = HERE / "broken"
ACTIONS = ["log_choice", "place_order"]
CONDITIONS = ["is_open"]
FLOWS = ["support"]
INTERNAL = "could not check this part of the file"

# Every broken file with every problem it must report, in file order, as "line:column:
# message". An entry ending in "..." pins the position and the start of the message only:
# the rest is worded by botkit.replies or Jinja, not by the loader.
EXPECTED: dict[str, list[str]] = {
    "aliases.yaml": [
        "4:6: an alias refers to a value that contains it",
        "8:6: the YAML tag 'tag:yaml.org,2002:set' is not supported in flow files",
        "10:10: the YAML tag '!custom' is not supported in flow files",
    ],
    "asks.yaml": [
        "5:23: type choice needs choices: a list of answers shown as buttons",
        "8:52: min goes with type number, not text",
        "11:55: min (10) is larger than max (1)",
        "14:67: choices: ...",
        "17:17: slot: slot name '2nd' must start with a letter or _ and use only letters, "
        "digits and _",
    ],
    "duplicates.yaml": [
        "10:5: duplicate key 'say' (first written at line 8)",
        "11:3: duplicate state 'welcome' (first defined at line 4)",
    ],
    "durations.yaml": [
        "7:22: after: '10 minutes' is not a duration; write it like 30s, 10m, 2h, 1d or 1h30m",
        "11:22: after: '0s' is zero; a duration must be longer than that",
        "15:22: after: '1.5h' is not a duration; write it like 30s, 10m, 2h, 1d or 1h30m",
        "19:22: after: write a duration with a unit, like 30s, 10m, 2h, 1d or 1h30m; got 600",
    ],
    "empty.yaml": [
        "1:1: the file is empty; a flow needs flow, start and states",
    ],
    "five_errors.yaml": [
        "9:15: goto: unknown state 'adress': did you mean 'address'? "
        "(states: welcome, address, done)",
        "10:16: unknown key 'sya': did you mean 'say'?",
        "11:22: after: 'soon' is not a duration; write it like 30s, 10m, 2h, 1d or 1h30m",
        "13:71: retries: expected a whole number, got 'many'",
        "16:10: say: template error: unexpected '}'",
    ],
    "missing_keys.yaml": [
        "1:1: missing required key 'start'",
        "4:5: missing required key 'slot'",
        "4:5: missing required key 'prompt'",
        "7:11: call needs then (the state to go on at), resume: true or end: true",
        "9:14: a timeout has after (a duration) or at (a time), one of the two",
    ],
    "names.yaml": [
        "1:7: flow: flow name 'my flow' must start with a letter or _ and use only letters, "
        "digits and _",
        "5:5: state name 'start state' must start with a letter or _ and use only letters, "
        "digits and _",
        "7:27: slot name 'first name' must start with a letter or _ and use only letters, "
        "digits and _",
        "8:3: state 'done' is empty; give it say, on, ask, next, call, handoff or final",
    ],
    "not_a_mapping.yaml": [
        "1:1: a flow file is a mapping with flow, start and states; got a list",
    ],
    "not_utf8.yaml": [
        "5:14: the file is not UTF-8 text (byte 0xe9)",
    ],
    "regexes.yaml": [
        "3:17: text: bad regular expression: missing ), unterminated subpattern at position 9",
        "5:19: text: bad regular expression: unterminated character set at position 0",
        "10:15: text: bad regular expression: nothing to repeat at position 0",
    ],
    "replies.yaml": [
        "7:47: say: buttons[1]: ...",
        "8:30: say: location: latitude: ...",
        "9:9: say: unknown reply key(s) 'txt'...",
        "10:16: say: image: url: ...",
        "11:9: say: ...",
    ],
    "rules.yaml": [
        "4:5: a global rule needs a matcher: button, text, kind or location",
        "5:5: unknown key 'else' (global rules cannot use else: it would take every message)",
        "7:32: resume goes back to the interrupted state, so it cannot have goto",
        "11:9: a rule needs a matcher: button, text, kind, location or else",
        "13:9: 'text' is written beside match; put every matcher under match, or none",
        "16:9: 'goto' is written both inside else and beside it; use one",
        "17:9: else takes every message; it cannot have other matchers",
        "19:21: unknown key 'resume' (resume is for global rules; use goto to enter a state "
        "again)",
        "20:19: location: only true makes sense here; leave the key out instead",
    ],
    "structure.yaml": [
        "7:5: 'on' cannot be used with final (the flow ends here)",
        "11:5: 'next' cannot be used with call (another flow runs, then this one goes on as the "
        "call says)",
        "13:5: ask needs next: the state to go to once the answer is stored",
        "17:5: 'on' cannot be used with next alone: the state moves on at once, so its rules "
        "would never run (use goto in the rules instead)",
        "25:9: else cannot be used in a state with ask: it would take every answer",
        "28:5: 'ask' cannot be used with handoff (the conversation waits for a person)",
    ],
    "syntax_colon.yaml": [
        "5:14: YAML syntax error: ': ' cannot start a key here; check the indentation, "
        "or put a value that contains ': ' in quotes",
    ],
    # A rule without its "- ": blamed on its own line (8), not on the next one (9).
    "syntax_dash.yaml": [
        "8:7: YAML syntax error: line 9 is indented deeper than this one, as if this line "
        "started a list item; if it starts a rule (or any item of a list), put '- ' before "
        "it, else indent line 9 like this one",
    ],
    "syntax_dash_later.yaml": [
        "10:7: YAML syntax error: a key (name: value) at this indentation does not fit the "
        "list that starts at 8:7; if this line starts a new item (a rule), put '- ' before "
        "it, else check its indentation",
    ],
    "syntax_indent.yaml": [
        "6:4: YAML syntax error: a key (name: value) at this indentation does not fit the "
        "mapping (key: value lines) that starts at 4:3; check the indentation of this line",
    ],
    "syntax_quote.yaml": [
        "7:1: YAML syntax error: the file ends inside the quoted text that starts at 5:10; "
        "a quote is not closed",
    ],
    "syntax_tab.yaml": [
        "5:1: YAML syntax error: a tab character; indent with spaces, not tabs",
    ],
    "jinja.yaml": [
        "5:10: say: template error: unexpected end of template...",
        "8:21: set: template error: expected token 'name'...",
        "14:15: prompt: template error: Unexpected end of template...",
        "15:16: invalid: template error: Missing end of comment tag",
        "20:15: say: template error: unexpected '}'",
    ],
    "unknown_keys.yaml": [
        "1:1: missing required key 'start'",
        "2:1: unknown key 'strat': did you mean 'start'?",
        "8:9: unknown key 'gotoo': did you mean 'goto'?",
        "9:20: unknown key 'tpye': did you mean 'type'?",
        "13:5: unknown key 'colour' (expected one of: say, on, ask, next, timeout, final, call, "
        "handoff, fallback)",
    ],
    "unknown_names.yaml": [
        "8:15: when: unknown condition 'is_opn': did you mean 'is_open'? (conditions: is_open)",
        "9:26: do: unknown action 'place_ordr': did you mean 'place_order'? "
        "(actions: log_choice, place_order)",
        "11:50: validate: unknown condition 'valid_code' (conditions: is_open)",
        "14:18: flow: unknown flow 'suport': did you mean 'support'? (flows: support)",
    ],
    "unknown_states.yaml": [
        "2:8: start: unknown state 'welcom': did you mean 'welcome'? "
        "(states: welcome, address, helpdesk, done)",
        "6:28: goto: unknown state 'adress': did you mean 'address'? "
        "(states: welcome, address, helpdesk, done)",
        "7:32: goto: unknown state 'welcom': did you mean 'welcome'? "
        "(states: welcome, address, helpdesk, done)",
        "9:58: on_exhausted: unknown state 'don': did you mean 'done'? "
        "(states: welcome, address, helpdesk, done)",
        "10:11: next: unknown state 'confirm' (states: welcome, address, helpdesk, done)",
        "12:33: then: unknown state 'welcme': did you mean 'welcome'? "
        "(states: welcome, address, helpdesk, done)",
    ],
    "wrong_types.yaml": [
        "6:7: on: expected a list, got a mapping; start each item on its own line with '- '",
        "12:16: retries: expected a whole number, got 'many'",
        "16:12: final: expected true or false, got 'yes please'",
        '19:21: button: expected text, got the number 5; to use it as text, put it in quotes: '
        '"5"',
        "21:15: kind: expected one of 'text', 'image', 'audio', 'video', 'file', 'location', "
        "'contact', 'button', 'sticker', 'order', 'reaction', 'flow_reply', 'unsupported' or "
        "'media', got 'picture'",
    ],
}


def _load_broken(name: str) -> list[FlowProblem]:
    with pytest.raises(FlowError) as caught:
        load_flow(BROKEN / name, actions=ACTIONS, conditions=CONDITIONS, flows=FLOWS)
    return caught.value.problems


def _matches(problem: FlowProblem, expected: str) -> bool:
    shown = f"{problem.line}:{problem.column}: {problem.message}"
    if expected.endswith("..."):
        return shown.startswith(expected[:-3])
    return shown == expected


# --- good files ---------------------------------------------------------------------------

def test_the_pizza_flow_loads_with_everything_checked() -> None:
    flows = load_flows(GOOD / "pizza.yaml", GOOD / "support.yaml", actions=ACTIONS,
                       conditions=CONDITIONS)
    assert list(flows) == ["pizza", "support"]
    pizza = flows["pizza"]
    assert pizza.warnings == ()
    assert pizza.path == str(GOOD / "pizza.yaml")
    assert pizza.start == "welcome"
    assert list(pizza.states) == ["welcome", "how_many", "crust", "address", "confirm",
                                  "helpdesk", "done", "cancelled"]
    assert pizza.trigger is not None and pizza.trigger.text == "(?i)pizza|order"
    stop, help_ = pizza.global_
    assert (stop.text, stop.goto, stop.resume) == ("(?i)^(stop|cancel)$", "cancelled", False)
    assert (help_.text, help_.goto, help_.resume) == ("(?i)^help$", None, True)


def test_every_good_file_loads_alone_when_names_are_not_checked() -> None:
    for path in sorted(GOOD.glob("*.yaml")):
        assert isinstance(load_flow(path), FlowSpec), path


def test_positions_of_a_loaded_flow_point_into_the_file() -> None:
    spec = load_flow(GOOD / "pizza.yaml")
    assert spec.position("states", "welcome", "say") == (17, 7)
    assert spec.position("states", "confirm", "on", 1, "goto") == (70, 67)
    # A path that was not written falls back to its nearest written parent.
    assert spec.position("states", "crust", "ask", "invalid") == (46, 7)


def test_warnings_are_returned_on_the_spec_and_do_not_stop_loading() -> None:
    spec = load_flow(GOOD / "with_warnings.yaml")
    shown = [f"{w.line}:{w.column}: {w.message}" for w in spec.warnings]
    assert shown == [
        "9:9: this rule never runs: an earlier else takes every message",
        "12:40: retries has no effect without on_exhausted (the question is asked until the "
        "answer fits)",
        "14:3: state 'stuck' is a dead end: nothing leads out of it and it is not final (add "
        "goto, next, ask, call or final: true)",
        "16:3: state 'lonely' is unreachable: nothing leads to it from the start state 'menu'",
    ]
    assert {w.severity for w in spec.warnings} == {"warning"}
    assert str(spec.warnings[0]).startswith(f"{GOOD / 'with_warnings.yaml'}:9:9: warning: ")


def test_global_rules_make_their_targets_reachable() -> None:
    spec = parse_flow(
        "flow: g\nstart: a\nglobal:\n  - {text: stop, goto: bye}\n"
        "states:\n  a:\n    on:\n      - {kind: text, goto: a2}\n  a2:\n    next: a\n"
        "  bye:\n    final: true\n"
    )
    assert spec.warnings == ()


# --- broken files -------------------------------------------------------------------------

def test_there_are_at_least_twelve_broken_files_and_each_is_pinned() -> None:
    names = sorted(path.name for path in BROKEN.glob("*.yaml"))
    assert len(names) >= 12
    assert names == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_broken_file_reports_every_problem_at_its_position(name: str) -> None:
    problems = _load_broken(name)
    expected = EXPECTED[name]
    shown = [f"{p.line}:{p.column}: {p.message}" for p in problems]
    assert len(problems) == len(expected), shown
    for problem, wanted in zip(problems, expected, strict=True):
        assert _matches(problem, wanted), (problem, wanted)
        assert problem.path == str(BROKEN / name)
        assert problem.severity == "error"
    assert [(p.line, p.column) for p in problems] == sorted((p.line, p.column) for p in problems)


def test_five_seeded_errors_are_all_reported_at_once() -> None:
    problems = _load_broken("five_errors.yaml")
    assert len(problems) == 5
    assert [p.line for p in problems] == [9, 10, 11, 13, 16]


def test_flow_error_prints_one_path_line_column_message_per_problem() -> None:
    with pytest.raises(FlowError) as caught:
        load_flow(BROKEN / "duplicates.yaml")
    path = BROKEN / "duplicates.yaml"
    assert str(caught.value).splitlines() == [
        f"{path}:10:5: duplicate key 'say' (first written at line 8)",
        f"{path}:11:3: duplicate state 'welcome' (first defined at line 4)",
    ]


def test_names_are_only_checked_when_they_are_given() -> None:
    spec = load_flow(BROKEN / "unknown_names.yaml")
    assert spec.states["a"].on[0].do == ("log_choice", "place_ordr")
    with pytest.raises(FlowError) as caught:
        load_flow(BROKEN / "unknown_names.yaml", actions=[])
    assert [p.message for p in caught.value.problems] == [
        "do: unknown action 'log_choice' (no actions are registered)",
        "do: unknown action 'place_ordr' (no actions are registered)",
    ]


def test_a_duplicate_key_keeps_the_first_value_unlike_safe_load() -> None:
    # yaml.safe_load would silently keep the second `welcome`; here it is an error, and the
    # rest of the file is still checked against the first one.
    with pytest.raises(FlowError) as caught:
        parse_flow("flow: d\nstart: a\nstates:\n  a:\n    next: b\n  a:\n    final: true\n"
                   "  b: {final: true, next: a}\n")
    assert [str(p) for p in caught.value.problems] == [
        "<string>:6:3: duplicate state 'a' (first defined at line 4)",
        "<string>:8:20: 'next' cannot be used with final (the flow ends here)",
    ]


def test_missing_top_level_keys_are_reported_at_the_first_key() -> None:
    with pytest.raises(FlowError) as caught:
        parse_flow("# no name, no states\nstart: a\n")
    assert [str(p) for p in caught.value.problems] == [
        "<string>:2:1: missing required key 'flow'",
        "<string>:2:1: missing required key 'states'",
    ]


def test_keys_in_the_wrong_place_get_a_hint() -> None:
    with pytest.raises(FlowError) as caught:
        parse_flow("flow: h\nstart: a\nstates:\n  a:\n    goto: b\n    on:\n"
                   "      - {kind: text, next: b}\n  b: {final: true}\n")
    assert [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems] == [
        "5:5: unknown key 'goto' (goto goes in a rule under on, or in timeout; next moves on "
        "at once)",
        "7:22: unknown key 'next' (a rule moves on with goto; next belongs to the state)",
    ]


def test_an_empty_value_is_an_error_at_its_key() -> None:
    with pytest.raises(FlowError) as caught:
        parse_flow("flow: e\nstart: a\nstates:\n  a:\n    say: Hi\n    next:\n  b:\n"
                   "    final: true\n")
    assert [str(p) for p in caught.value.problems] == [
        "<string>:6:5: next: has no value; write one or leave the key out",
    ]


def test_files_that_cannot_be_read_are_flow_errors(tmp_path: Path) -> None:
    with pytest.raises(FlowError) as caught:
        load_flow(tmp_path / "missing.yaml")
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (1, 1)
    assert problem.message.startswith("cannot read the file: ")
    with pytest.raises(FlowError):
        load_flow(tmp_path)  # a directory


def test_a_byte_order_mark_does_not_shift_columns(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfflow: bom\nstart: nowhere\nstates: {a: {final: true}}\n")
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    assert (caught.value.problems[0].line, caught.value.problems[0].column) == (2, 8)


NASTY = [
    "", "---", "...", "~", "[", "]", "{", "a: *b", "&a [*a]", "- - - -", "flow", ": :",
    "flow: !!python/object/apply:os.system [echo]", "flow: x\n---\nflow: y\n",
    "\x00", "\ufeff", "flow: \x85", "'", '"\\u12"', "? [a]\n: b", "a: !!int abc",
    "a: !!float x", "a: !!binary AAA", "a: 0x", "a: " + "9" * 5000, "a: 1e99999",
    "[" * 200 + "]" * 200, "[" * 20_000 + "]" * 20_000, "- " * 20_000 + "x",
    "a: &a [x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
    "flow: x\nstart: a\nstates:\n  a:\n    say: {text: '{{' }\n",
    "flow: x\nstart: a\nstates:\n  a:\n    on: [{text: 'a{99999999999999999999}'}]\n",
    "flow: x\nstart: a\nstates:\n  a:\n    say: '" + "{{ (" * 500 + "'\n",
    "flow: x\nstart: a\nstates:\n  a:\n    timeout: {after: 99999999999999999999d, goto: a}\n",
    "flow: x\nstart: a\nstates:\n  a:\n    ask: {slot: s, type: number, prompt: p, "
    "min: .nan, max: .inf}\n    next: a\n",
]


@pytest.mark.parametrize("text", NASTY, ids=range(len(NASTY)))
def test_nasty_input_raises_only_flow_errors_with_positions(text: str) -> None:
    try:
        parse_flow(text)
    except FlowError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.line >= 1 and problem.column >= 1
            assert INTERNAL not in problem.message


# --- mutations of valid files (reliability G5) --------------------------------------------

SOURCES = [path.read_text() for path in sorted(GOOD.glob("*.yaml"))]
CHARACTERS = [*":-#{}[]'\"&*!|>%@`,? \t\n\\", "x", "0", "é", "\u2028", "{{", "}}", "{%"]
VALUES = ["42", "true", "null", "~", "[]", "{}", "'x'", "- a", "1.5", "-1", "&a x", "*a",
          "10m", "0s", "{{ x", "(?i", "yes", "[a, b]", "{say: x}", "!!str 1", "|\n  text"]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(SOURCES)).split("\n")
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(
            ["delete", "duplicate", "swap", "char", "retype", "indent", "dedent"]))
        line = lines[i]
        if operation == "delete":
            del lines[i]
        elif operation == "duplicate":
            lines.insert(i, line)
        elif operation == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif operation == "char":
            at = draw(st.integers(0, len(line)))
            cut = draw(st.integers(0, 1))
            lines[i] = line[:at] + draw(st.sampled_from(CHARACTERS)) + line[at + cut:]
        elif operation == "retype" and ": " in line:
            lines[i] = line.split(": ", 1)[0] + ": " + draw(st.sampled_from(VALUES))
        elif operation == "indent":
            lines[i] = "  " + line
        elif operation == "dedent":
            lines[i] = line.removeprefix("  ")
    return "\n".join(lines)


@settings(max_examples=int(os.environ.get("BOTKIT_FLOW_MUTATIONS", "300")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_flows_load_or_raise_flow_error_with_positions(text: str) -> None:
    lines = text.count("\n") + 1
    try:
        spec = parse_flow(text, actions=ACTIONS, conditions=CONDITIONS, flows=["pizza", *FLOWS])
    except FlowError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert 1 <= problem.line <= lines + 1, problem
            assert problem.column >= 1, problem
            assert problem.severity == "error"
            assert INTERNAL not in problem.message, problem
    else:
        for warning in spec.warnings:
            assert 1 <= warning.line <= lines and warning.column >= 1


# --- several files, check and main_check -------------------------------------------------

def test_calls_are_checked_against_the_flows_loaded_together(tmp_path: Path) -> None:
    (tmp_path / "pizza.yaml").write_text((GOOD / "pizza.yaml").read_text())
    with pytest.raises(FlowError) as caught:
        load_flows(tmp_path)
    [problem] = caught.value.problems
    assert problem.message == "flow: unknown flow 'support' (flows: pizza)"
    assert (problem.line, problem.column) == (75, 18)
    assert "pizza" in load_flows(tmp_path, flows=["support"])


def test_two_files_with_one_flow_name_are_an_error(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("flow: same\nstart: x\nstates: {x: {final: true}}\n")
    with pytest.raises(FlowError) as caught:
        load_flows(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / 'b.yaml'}:1:7: flow 'same' is already defined in {tmp_path / 'a.yaml'}",
    ]


def test_directories_are_searched_for_flows_but_not_tests_or_hidden_folders(
    tmp_path: Path,
) -> None:
    for name in ("a.yaml", "b.yml", "a.test.yaml", "notes.txt", "sub/c.yaml",
                 ".github/workflows/ci.yml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    found = [path.relative_to(tmp_path).as_posix() for path in find_flow_files([tmp_path])]
    assert found == ["a.yaml", "b.yml", "sub/c.yaml"]


def test_check_counts_problems_and_files_with_errors() -> None:
    problems, failed = check([GOOD, BROKEN / "five_errors.yaml"], actions=ACTIONS,
                             conditions=CONDITIONS)
    assert failed == 1
    assert [p.severity for p in problems].count("warning") == 4
    assert [p for p in problems if p.severity == "error"] == _load_broken("five_errors.yaml")
    good_only, none_failed = check(GOOD / "pizza.yaml", flows=FLOWS)
    assert (good_only, none_failed) == ([], 0)


def test_main_check_prints_problems_and_fails_on_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main_check([str(BROKEN / "duplicates.yaml"), str(GOOD / "with_warnings.yaml")]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == (f"{BROKEN / 'duplicates.yaml'}:10:5: duplicate key 'say' (first "
                        f"written at line 8)")
    assert lines[2].startswith(f"{GOOD / 'with_warnings.yaml'}:9:9: warning: this rule never")
    assert len(lines) == 6
    assert "2 error(s), 4 warning(s)" in err


def test_main_check_passes_with_warnings_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main_check([str(GOOD)]) == 0
    out, _ = capsys.readouterr()
    assert out.count(": warning: ") == 4


def test_main_check_without_flow_files_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main_check([str(tmp_path)]) == 2
    assert "no flow files" in capsys.readouterr().err


# --- speed --------------------------------------------------------------------------------

def thirty_states() -> str:
    """A 30-state flow: every state says a templated menu and has three rules and a timeout."""
    lines = ["flow: big", "start: s0", "global:", '  - {text: "(?i)^stop$", say: Bye, goto: s29}',
             "states:"]
    for i in range(29):
        lines += [
            f"  s{i}:",
            "    say:",
            f"      - text: \"Step {i}, {{{{ event.profile_name or 'you' }}}}: go on?\"",
            "        buttons: [{title: Yes, payload: y}, {title: No, payload: n}]",
            "    on:",
            f'      - {{button: y, set: {{a{i}: "{{{{ event.text }}}}"}}, goto: s{i + 1}}}',
            f"      - {{button: n, goto: s{(i + 2) % 29}}}",
            '      - else: {say: "Please answer yes or no."}',
            '    timeout: {after: 10m, say: "Still there?", goto: s0}',
        ]
    lines += ["  s29:", "    say: Done", "    final: true"]
    return "\n".join(lines) + "\n"


def test_a_thirty_state_flow_loads_in_a_few_milliseconds() -> None:
    text = thirty_states()
    spec = parse_flow(text)
    assert len(spec.states) == 30 and spec.warnings == ()
    best = min(_timed(lambda: parse_flow(text)) for _ in range(5))
    # About 5 ms on the development machine; the bound leaves room for slow CI machines.
    assert best < 0.1, f"loading took {best * 1000:.1f} ms"


def _timed(action: object) -> float:
    assert callable(action)
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
