"""``botkit optouts export|import``: the list as CSV, through the real command line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from botkit.cli import main
from botkit.store import ConversationKey
from botkit.store.sqlite import SQLiteStore

NOW = 1_700_000_000.0


async def _listed(db: Path) -> list[tuple[str, str, str, float, str]]:
    store = SQLiteStore(db)
    await store.open()
    try:
        return [(o.key.channel, o.key.user, o.key.bot, o.at, o.via)
                for o in await store.opt_outs()]
    finally:
        await store.close()


def test_export_then_import_into_another_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "first.db"

    async def fill() -> None:
        store = SQLiteStore(first)
        await store.open()
        await store.opt_out(ConversationKey("sms", "447700900001", "447700900000"), at=NOW,
                            via="STOP")
        await store.opt_out(ConversationKey("whatsapp", "447700900002", "447700900000"),
                            at=NOW, via="配信停止")
        await store.close()

    asyncio.run(fill())
    csv_file = tmp_path / "optouts.csv"

    monkeypatch.setenv("BOTKIT_STORE", f"sqlite:///{first}")
    assert main(["optouts", "export", str(csv_file)]) == 0
    assert csv_file.read_text(encoding="utf-8").splitlines() == [
        "channel,user,number,opted_out_at,via",
        "sms,447700900001,447700900000,2023-11-14T22:13:20Z,STOP",
        "whatsapp,447700900002,447700900000,2023-11-14T22:13:20Z,配信停止",
    ]
    second = tmp_path / "second.db"
    monkeypatch.setenv("BOTKIT_STORE", f"sqlite:///{second}")
    assert main(["optouts", "import", str(csv_file)]) == 0
    assert "2 new" in capsys.readouterr().out
    assert asyncio.run(_listed(second)) == asyncio.run(_listed(first))


def test_a_bad_row_is_named_and_nothing_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "bot.db"
    csv_file = tmp_path / "optouts.csv"
    csv_file.write_text("channel,user,number\nsms,447700900001,447700900000\n"
                        "fax,447700900002,447700900000\nsms,,447700900000\n", encoding="utf-8")
    monkeypatch.setenv("BOTKIT_STORE", f"sqlite:///{db}")
    assert main(["optouts", "import", str(csv_file)]) == 2
    err = capsys.readouterr().err
    assert f"{csv_file}:3: unknown channel 'fax'" in err
    assert f"{csv_file}:4: user and number must not be empty" in err
    assert asyncio.run(_listed(db)) == []
