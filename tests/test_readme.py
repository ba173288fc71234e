"""The README's examples are real: its flow loads and its Python parses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from botkit.flows import parse_flow

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_the_readme_starts_with_the_two_commands() -> None:
    commands = re.search(r"```bash\n(.*?)```", README, re.S)
    assert commands is not None
    lines = [line.split("#")[0].strip() for line in commands.group(1).splitlines()]
    assert lines[0] == "pip install -e . && botkit run bots/pizza.yaml"
    assert lines[1] == "pip install -e '.[test]' && pytest"


def test_the_readme_flow_loads() -> None:
    [block] = re.findall(r"```yaml\n(flow: .*?)```", README, re.S)
    spec = parse_flow(block, "README.md")
    assert spec.name == "pizza" and "address" in spec.states


def test_the_readme_python_parses() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) >= 3
    for block in blocks:
        ast.parse(block)
