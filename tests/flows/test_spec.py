"""The flow format: durations, YAML scalars, normalised models, and the published schema."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import get_args

import jsonschema
import pytest
from pydantic import ValidationError

from botkit.events import InboundKind
from botkit.flows import (
    Edge,
    FlowSpec,
    flow_json_schema,
    format_duration,
    load_flow,
    parse_duration,
    parse_flow,
)
from botkit.flows.spec import MessageKind, template_problem
from botkit.flows.yamlpos import Position, parse_yaml

HERE = Path(__file__).parent
GOOD = HERE / "good"
SCHEMA_FILE = HERE.parents[1] / "docs" / "flow.schema.json"


# --- durations ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), ("1h30m", 5400),
    ("1h 30m", 5400), ("1d2h3m4s", 93784), ("90m", 5400), ("365d", 365 * 86400),
])
def test_durations_are_read_with_their_units(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", [
    "", "10", "m", "10M", "30m1h", "1.5h", "-5m", "10 minutes", "1h1h", "0s", "0h0m",
    "366d", "9" * 40 + "d",
])
def test_anything_else_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match=r"30s|zero|longer than"):
        parse_duration(text)


def test_durations_are_written_back_the_same_way() -> None:
    assert format_duration(timedelta(seconds=5400)) == "1h30m"
    assert format_duration(timedelta(days=1, seconds=4)) == "1d4s"
    assert format_duration(timedelta(0)) == "0s"
    for text in ("30s", "10m", "2h", "1d", "1h30m", "1d2h3m4s"):
        assert format_duration(parse_duration(text)) == text


# --- YAML as flows read it ----------------------------------------------------------------

def test_yaml_scalars_follow_the_core_schema() -> None:
    data, _, problems = parse_yaml(
        "on: yes\nno: off\ntime: 10:30\nday: 2024-01-01\nflag: true\nFlag: False\n"
        "count: 12\nhex: 0x1f\nratio: 1.5\nnothing: ~\nempty:\nquoted: 'true'\n200: x\n"
    )
    assert problems == []
    assert data == {
        "on": "yes", "no": "off", "time": "10:30", "day": "2024-01-01", "flag": True,
        "Flag": False, "count": 12, "hex": 31, "ratio": 1.5, "nothing": None, "empty": None,
        "quoted": "true", "200": "x",
    }


def test_positions_of_keys_and_values_are_one_based() -> None:
    _, index, _ = parse_yaml("states:\n  welcome:\n    say: [Hi, {text: Yo}]\n")
    where = index.locations[("states", "welcome", "say", 1, "text")]
    assert (where.key, where.value) == (Position(3, 16), Position(3, 22))
    assert index.locations[("states", "welcome", "say")].kind == "sequence"
    # A step past what was written stops at the nearest written value ...
    assert index.resolve(("states", "welcome", "on", 0)) == ("states", "welcome")
    # ... and an index into a value written once (not as a list) is skipped.
    _, index, _ = parse_yaml("say: Hi\n")
    assert index.resolve(("say", 0)) == ("say",)


def test_the_pure_python_reader_gives_the_same_data_and_positions() -> None:
    from botkit.flows import yamlpos

    text = (GOOD / "pizza.yaml").read_text()
    fast = yamlpos._compose(text)
    slow = yamlpos._compose_with(yamlpos._Loader, text)
    assert fast is not None and slow is not None

    def walk(node: object) -> list[object]:
        import yaml

        assert isinstance(node, yaml.Node)
        here: list[object] = [node.tag, node.start_mark.line, node.start_mark.column]
        if isinstance(node, yaml.ScalarNode):
            return [*here, node.value]
        if isinstance(node, yaml.SequenceNode):
            return [*here, *(walk(item) for item in node.value)]
        assert isinstance(node, yaml.MappingNode)
        return [*here, *((walk(k), walk(v)) for k, v in node.value)]

    assert walk(fast) == walk(slow)


# --- models -------------------------------------------------------------------------------

def test_message_kinds_are_the_event_kinds_and_media() -> None:
    assert set(get_args(MessageKind)) == {*get_args(InboundKind), "media"}


def test_one_or_many_values_become_tuples() -> None:
    spec = parse_flow(
        "flow: n\nstart: a\nstates:\n  a:\n    say: Hi\n    on:\n"
        "      - {button: S, kind: button, do: log, say: {text: OK}, goto: b}\n"
        "  b: {say: [One, Two], final: true}\n"
    )
    a = spec.states["a"]
    assert a.say == ("Hi",)
    rule = a.on[0]
    assert (rule.button, rule.kind, rule.do, rule.say) == (("S",), ("button",), ("log",),
                                                           ({"text": "OK"},))
    assert spec.states["b"].say == ("One", "Two")


def test_match_and_else_are_folded_into_the_rule() -> None:
    spec = parse_flow(
        "flow: f\nstart: a\nglobal:\n  - match: {text: stop, kind: text}\n    goto: a\n"
        "states:\n  a:\n    on:\n      - match: {button: [x, y]}\n        when: ok\n"
        "        goto: a\n      - else: {say: Sorry, set: {tries: 1}}\n"
    )
    interrupt = spec.global_[0]
    assert (interrupt.match, interrupt.text, interrupt.kind) == (None, "stop", ("text",))
    matched, other = spec.states["a"].on
    assert (matched.match, matched.button, matched.describe()) == (None, ("x", "y"),
                                                                 "button x, y if ok")
    assert other.else_ is True and other.is_else
    assert (other.say, other.set_, other.goto) == (("Sorry",), {"tries": 1}, None)
    assert other.describe() == "else"


def test_ask_defaults_follow_its_type() -> None:
    spec = load_flow(GOOD / "pizza.yaml")
    how_many, crust, address = (spec.states[n].ask for n in ("how_many", "crust", "address"))
    assert how_many is not None and crust is not None and address is not None
    assert (how_many.type, how_many.accepts, how_many.min, how_many.max) == ("number",
                                                                            ("text",), 1, 10)
    assert (crust.accepts, crust.retries) == (("button", "text"), 1)
    assert [(c.title, c.payload) for c in crust.choices or ()] == [
        ("Thin", "Thin"), ("Classic", "Classic"), ("Stuffed", "Stuffed")]
    assert (address.type, address.accepts, address.retries) == ("text", ("text", "location"), 2)
    timeout = spec.states["address"].timeout
    assert timeout is not None and timeout.after == timedelta(hours=1, minutes=30)


def test_edges_list_every_way_between_states() -> None:
    edges = load_flow(GOOD / "support.yaml").edges()
    assert edges == [
        Edge("topic", "person", "answer", "answer (topic)", ("states", "topic", "next")),
        Edge("person", "back", "timeout", "after 2h", ("states", "person", "timeout", "goto")),
        Edge("person", "back", "resume", "handed back", ("states", "person", "handoff", "resume")),
    ]


def test_a_loaded_flow_is_immutable() -> None:
    spec = load_flow(GOOD / "support.yaml")
    with pytest.raises(ValidationError):
        spec.start = "back"  # type: ignore[misc]


def test_model_validate_alone_checks_the_shape_but_not_the_names() -> None:
    spec = FlowSpec.model_validate({"flow": "x", "start": "nowhere", "states": {
        "a": {"on": [{"kind": "text", "do": "anything", "goto": "elsewhere"}]}}})
    assert spec.start == "nowhere"
    with pytest.raises(ValidationError):
        FlowSpec.model_validate({"flow": "x", "start": "a", "states": {"a": {"final": "yes"}}})


def test_templates_are_parsed_never_rendered() -> None:
    assert template_problem("plain text, {not a template}") is None
    assert template_problem("{{ event.text | upper }} {% if x %}y{% endif %}") is None
    # Rendering this would fail (no such attribute); parsing it does not.
    assert template_problem("{{ event.nothing.here() }}") is None
    assert template_problem("{{ x") == ("template error: unexpected end of template, expected "
                                        "'end of print statement'.")
    assert template_problem("a\nb {{ }}") == ("template error: Expected an expression, got "
                                              "'end of print statement' (line 2 of the text)")


# --- JSON Schema --------------------------------------------------------------------------

def test_the_published_schema_is_up_to_date() -> None:
    generated = json.dumps(flow_json_schema(), indent=2, ensure_ascii=False) + "\n"
    published = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
    assert published == generated, (
        "docs/flow.schema.json is stale; regenerate it with "
        "`python -m botkit.flows.schema > docs/flow.schema.json`"
    )


def test_the_schema_describes_every_key_for_editors() -> None:
    schema = flow_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["required"] == ["flow", "start", "states"]
    state = schema["$defs"]["State"]["properties"]
    assert set(state) == {"say", "on", "ask", "next", "timeout", "final", "call", "handoff",
                          "fallback"}
    for name, definition in schema["$defs"].items():
        for key, prop in definition.get("properties", {}).items():
            assert prop.get("description"), f"{name}.{key} has no description"
    assert "null" not in json.dumps(schema)


@pytest.mark.parametrize("path", sorted(GOOD.glob("*.yaml")), ids=lambda p: p.name)
def test_good_flows_are_valid_against_the_schema(path: Path) -> None:
    data, _, problems = parse_yaml(path.read_text())
    assert problems == []
    jsonschema.validate(data, flow_json_schema())


@pytest.mark.parametrize("text", [
    "flow: x\nstart: a\nstates: {a: {final: true, colour: blue}}\n",
    "flow: x\nstart: a\nstates: {a: {timeout: {after: soon, goto: a}}}\n",
    "flow: x\nstart: a\nstates: {a: {on: [{kind: picture, goto: a}]}}\n",
    "flow: x\nstart: a\nstates: {a: {say: {txt: Hi}}}\n",
    "flow: x\nstates: {a: {final: true}}\n",
    "flow: x\nstart: a\nstates: {bad name: {final: true}}\n",
])
def test_the_schema_catches_shape_errors_while_typing(text: str) -> None:
    data, _, _ = parse_yaml(text)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, flow_json_schema())


# --- the guide ----------------------------------------------------------------------------

GUIDE = HERE.parents[1] / "docs" / "flows.md"


def _blocks(language: str) -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def test_the_guide_shows_the_tested_flows_and_their_diagram() -> None:
    from botkit.flows import mermaid

    yaml_blocks = _blocks("yaml")
    assert yaml_blocks[0] == (GOOD / "pizza.yaml").read_text()
    assert yaml_blocks[1] == (GOOD / "support.yaml").read_text()
    assert _blocks("mermaid") == [mermaid(load_flow(GOOD / "pizza.yaml"))]


def test_the_reply_examples_of_the_guide_load() -> None:
    [forms] = [block for block in _blocks("yaml") if block.startswith('say: "Plain text"')]
    replies = re.split(r"\n(?=say:)", forms.strip())
    assert len(replies) == 10  # every say: of the block, each parsed below
    for reply in replies:
        body = "\n".join("    " + line for line in reply.splitlines())
        parse_flow(f"flow: g\nstart: a\nstates:\n  a:\n{body}\n    final: true\n")


@pytest.mark.parametrize("path", sorted(GOOD.glob("*.yaml")), ids=lambda p: p.name)
def test_every_edge_of_a_loaded_flow_builds_a_transitions_machine(path: Path) -> None:
    # The runtime compiles each flow into a transitions Machine once; a loaded flow must
    # never make it raise (an unknown state would, at build time or at the first message).
    from transitions import Machine

    spec = load_flow(path)
    machine = Machine(model=None, states=list(spec.states), initial=spec.start,
                      auto_transitions=False)
    for number, edge in enumerate(spec.edges()):
        sources = list(spec.states) if edge.source is None else [edge.source]
        machine.add_transition(f"edge{number}", sources, edge.target)

    class Conversation:
        state = spec.start

    for number, edge in enumerate(spec.edges()):
        conversation = Conversation()
        conversation.state = edge.source or spec.start
        machine.events[f"edge{number}"].trigger(conversation)
        assert conversation.state == edge.target


@pytest.mark.parametrize("command", ["botkit graph bots/pizza.yaml",
                                     "botkit graph tests/flows/good/pizza.yaml"])
def test_the_guides_graph_examples_are_the_commands_output(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from botkit.cli import main

    text = GUIDE.read_text(encoding="utf-8")
    shown = re.search(rf"^```console\n\$ {re.escape(command)}\n(.*?)^```$", text,
                      flags=re.MULTILINE | re.DOTALL)
    if shown is None:  # the diagram drawn as a picture, after the sentence naming it
        said = re.search(rf"`{re.escape(command)}`\s+draws the first one:\n\n```mermaid\n"
                         r"(.*?)^```$", re.sub(r"`([^`\n]*)\n([^`\n]*)`", r"`\1 \2`", text),
                         flags=re.MULTILINE | re.DOTALL)
        assert said is not None, f"docs/flows.md shows no output of {command!r}"
        shown = said
    monkeypatch.chdir(HERE.parents[1])
    assert main(command.split()[1:]) == 0
    assert capsys.readouterr().out == shown.group(1)
