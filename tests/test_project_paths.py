"""``botkit check`` and ``botkit test`` given no path: the project's flows, said so."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from botkit.cli import main
from botkit.errors import ConfigError
from botkit.project import project_paths

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "tests" / "flows" / "good"
BROKEN = ROOT / "tests" / "flows" / "broken"
CONVTEST_BOTS = ROOT / "tests" / "convtest" / "bots"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with good flows in bots/ and broken ones in tests/ (fixtures)."""
    (tmp_path / "bots").mkdir()
    shutil.copy(GOOD / "support.yaml", tmp_path / "bots" / "support.yaml")
    shutil.copytree(BROKEN, tmp_path / "tests" / "broken")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_defaults_to_bots_and_says_so(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check"]) == 0
    err = capsys.readouterr().err
    assert "checked 1 flow file(s) in bots (the bots/ folder): 0 error(s)" in err


def test_the_repository_root_checks_its_bots_not_the_broken_fixtures(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["check"]) == 0
    assert "tests/flows/broken" not in capsys.readouterr().out


def test_pyproject_paths_win_and_are_relative_to_the_file(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "pyproject.toml").write_text('[tool.botkit]\nflows = ["tests/broken"]\n')
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")
    assert main(["check"]) == 1
    captured = capsys.readouterr()
    assert "../tests/broken/" in captured.out
    assert "in ../tests/broken ([tool.botkit] flows in ../pyproject.toml):" in captured.err


def test_given_paths_are_checked_as_given(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "bots/support.yaml"]) == 0
    assert "checked 1 flow file(s) in bots/support.yaml: 0 error(s)" in capsys.readouterr().err


def test_without_bots_or_configuration_the_current_directory(tmp_path: Path) -> None:
    where = project_paths([], cwd=tmp_path)
    assert where.paths == ["."]
    assert "no bots/ folder" in where.origin


def test_test_uses_the_tests_key_or_else_flows(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(CONVTEST_BOTS, project / "suite")
    (project / "pyproject.toml").write_text(
        '[tool.botkit]\nflows = ["bots"]\ntests = ["suite"]\n')
    status = main(["test"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.splitlines()[0] == (
        "running 1 test file(s) in suite ([tool.botkit] tests in pyproject.toml)")
    assert project_paths([], kind="tests").paths == ["suite"]
    (project / "pyproject.toml").write_text('[tool.botkit]\nflows = ["suite"]\n')
    assert project_paths([], kind="tests").paths == ["suite"]


@pytest.mark.parametrize("text", ['[tool.botkit]\nflows = "', '[tool.botkit]\nflows = [1]\n',
                                  "[tool.botkit]\nflows = []\n"])
def test_a_bad_configuration_is_a_clear_error(
    project: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError, match=r"pyproject\.toml"):
        project_paths([])
    assert main(["check"]) == 2
    assert "botkit: error:" in capsys.readouterr().err
