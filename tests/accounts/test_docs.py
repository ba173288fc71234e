"""docs/accounts.md's session is real: replayed against the fake API, every command prints
what the page shows."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import APP, OTHER_APP
from .fake_api import FakeAccountsApi, serve

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "accounts.md").read_text()


def console_blocks(heading: str) -> list[str]:
    section = DOC.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```console\n(.*?)```", section, re.S)


def test_the_session_in_the_docs_is_what_the_commands_print(
    rsa_key: rsa.RSAPrivateKey, pem: str, tmp_path: Path
) -> None:
    session, after = console_blocks("A session")
    fake = FakeAccountsApi(
        jwt_public_key=rsa_key.public_key(), jwt_application_id=APP, applications={APP, OTHER_APP}
    )
    fake.add("whatsapp", "447700900000", name="Pizza Co", applications=[APP])
    fake.add("messenger", "112233445566", name="Pizza page", applications=[OTHER_APP])
    fake.add("viber_service_msg", "16273", name="Pizza Viber")
    (tmp_path / "private.key").write_text(pem)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    botkit = bin_dir / "botkit"  # `env -u ... botkit` needs a program, not a shell function
    botkit.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m botkit.cli "$@"\n')
    botkit.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VONAGE_", "BOTKIT_"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(ROOT)
    env["PAGE_TOKEN"] = "EAAGm0PX4ZCpsBA"

    exports: list[str] = []  # the session's exports hold for the block after it too
    with serve(fake) as url:
        for block in (session, after):
            commands, expected = [], []
            for line in block.splitlines():
                if line.startswith("$ export "):
                    exports.append(re.sub(r"http://127\.0\.0\.1:8765\S*", url, line[2:]))
                elif line.startswith("$ "):
                    commands.append(f"echo {_quoted(line)}; {{ {line[2:]}; }} 2>&1")
                    expected.append(line)
                else:
                    expected.append(line)
            script = [*exports, *commands]
            ran = subprocess.run(
                ["bash", "-c", "\n".join(script)],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert ran.stderr == ""
            assert ran.stdout.splitlines() == expected
    assert fake.requests[0].headers["Authorization"].startswith("Bearer ")
    assert any(r.body == {"external_id": "998877", "access_token": "EAAGm0PX4ZCpsBA",
                          "name": "Pizza Two"} for r in fake.requests)  # fmt: skip


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _accounts_commands() -> list[str]:
    """Every ``botkit accounts`` command the parser has, e.g. ``messenger create``."""
    from botkit.cli import _parser

    def verbs(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                return dict(action.choices)
        return {}

    accounts = verbs(_parser())["accounts"]
    names = []
    for verb, parser in verbs(accounts).items():
        subs = verbs(parser)
        names.extend([f"{verb} {sub}" for sub in subs] if subs else [verb])
    return names


def test_the_readme_and_the_page_list_every_command() -> None:
    commands = _accounts_commands()
    assert set(commands) == {
        "list", "show", "link", "unlink", "messenger create", "messenger update", "messenger delete"
    }  # fmt: skip
    readme = (ROOT / "README.md").read_text().split("## Command line\n", 1)[1].split("\n## ")[0]
    rows = [line for line in readme.splitlines() if line.startswith("| `botkit accounts")]
    for command in commands:
        verb, _, sub = command.partition(" ")
        assert any(
            re.search(rf"\b{verb}\b", row) and (not sub or re.search(rf"\b{sub}\b", row))
            for row in rows
        ), command
    page = DOC.split("## Commands\n", 1)[1].split("\n## ")[0]
    for command in commands:
        assert f"`botkit accounts {command} " in page, command
