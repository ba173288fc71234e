"""``botkit accounts`` against the fake External Accounts API over real HTTP: what each
command sends, what it prints, one line on stderr for each error, and the exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from botkit.accounts.cli import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
)
from botkit.cli import main

from .conftest import APP, BASIC, OTHER_APP
from .fake_api import FORBIDDEN_CREDENTIALS, PREFIX, FakeAccountsApi, serve

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, api_url: str) -> Iterator[pytest.MonkeyPatch]:
    """Basic credentials the fake takes, and the fake's URL; no other Vonage setting."""
    for name in list(os.environ):
        if name.startswith(("VONAGE_", "BOTKIT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("VONAGE_ACCOUNTS_URL", api_url)
    monkeypatch.setenv("VONAGE_API_KEY", "key")
    monkeypatch.setenv("VONAGE_API_SECRET", "secret")
    yield monkeypatch


@pytest.fixture
def jwt_env(env: pytest.MonkeyPatch, pem: str) -> pytest.MonkeyPatch:
    """JWT credentials of application APP instead of Basic."""
    env.delenv("VONAGE_API_KEY")
    env.delenv("VONAGE_API_SECRET")
    env.setenv("VONAGE_APPLICATION_ID", APP)
    env.setenv("VONAGE_PRIVATE_KEY", pem)
    return env


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["accounts", *args])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("botkit: error: ")
    return lines[0]


# -- list ------------------------------------------------------------------------------------


def test_list_prints_a_table_of_every_account(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.add("whatsapp", "447700900111")  # a second page
    code, out, err = run(capsys, "list")
    assert (code, err) == (EXIT_OK, "")
    lines = out.splitlines()
    assert lines[0].split() == ["PROVIDER", "EXTERNAL", "ID", "NAME", "APPLICATIONS"]
    rows = [line.split() for line in lines[2:]]
    assert rows == [
        ["whatsapp", "447700900000", "Pizza", "Co", APP],
        ["messenger", "112233445566", "Pizza", "page", OTHER_APP],
        ["viber_service_msg", "16273", "Pizza", "Viber", "-"],
        ["whatsapp", "447700900111", "-", "-"],
    ]
    assert all(line == line.rstrip() for line in lines)
    assert [r.query.get("page_number") for r in fake.requests] == ["1", "2"]
    assert fake.requests[0].headers["Authorization"] == BASIC


def test_list_marks_this_application(
    jwt_env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "list")
    assert code == EXIT_OK
    assert f"{APP} (this application)" in out
    assert f"{OTHER_APP} (this application)" not in out
    assert fake.requests[0].headers["Authorization"].startswith("Bearer ")


def test_list_json_for_scripts(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "list", "--provider", "messenger", "--json")
    assert code == EXIT_OK
    assert json.loads(out) == [
        {
            "provider": "messenger",
            "channel": "messenger",
            "external_id": "112233445566",
            "name": "Pizza page",
            "applications": [OTHER_APP],
            "api_key": "key",
        }
    ]
    assert "page-token" not in out  # the page token is a secret
    assert fake.requests[0].query == {"page_number": "1", "provider": "messenger"}


def test_list_of_nothing(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.accounts.clear()
    assert run(capsys, "list") == (EXIT_OK, "no accounts\n", "")
    assert run(capsys, "list", "--json") == (EXIT_OK, "[]\n", "")


def test_an_unknown_provider_is_a_usage_error(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["accounts", "list", "--provider", "telegram"])
    assert exited.value.code == EXIT_USAGE
    assert "unknown provider 'telegram'" in capsys.readouterr().err
    assert fake.requests == []


# -- show, link, unlink ----------------------------------------------------------------------


def test_show(
    jwt_env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "show", "whatsapp", "447700900000")
    assert code == EXIT_OK
    assert out.splitlines() == [
        "provider      whatsapp",
        "channel       whatsapp",
        "external id   447700900000",
        "name          Pizza Co",
        f"applications  {APP} (this application)",
        "api key       key",
    ]
    code, out, _ = run(capsys, "show", "viber_service", "16273", "--json")
    assert json.loads(out)["channel"] == "viber_service"
    assert [r.path for r in fake.requests] == [
        f"{PREFIX}/whatsapp/447700900000",
        f"{PREFIX}/viber_service_msg/16273",
    ]


def test_show_404_is_exit_4(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "show", "whatsapp", "447700900999")
    assert (code, out) == (EXIT_NOT_FOUND, "")
    assert one_error_line(err) == (
        "botkit: error: cannot show whatsapp account 447700900999: no such account "
        "(External Accounts API answered 404: Not Found); 'botkit accounts list' shows them all"
    )


def test_link_defaults_to_this_application(
    jwt_env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "link", "viber_service_msg", "16273")
    assert code == EXIT_OK
    assert out == f"linked application {APP} to viber_service_msg account 16273 (Pizza Viber)\n"
    [request] = fake.requests
    assert (request.method, request.path, request.body) == (
        "POST",
        f"{PREFIX}/viber_service_msg/16273/applications",
        {"application": APP},
    )


def test_link_and_unlink_another_application(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "link", "viber_service_msg", "16273", "--application", OTHER_APP)
    assert code == EXIT_OK
    code, out, _ = run(capsys, "unlink", "viber_service_msg", "16273", "--application", OTHER_APP)
    assert (code, out) == (
        EXIT_OK,
        f"unlinked application {OTHER_APP} from viber_service_msg account 16273\n",
    )
    assert fake.requests[-1].method == "DELETE"
    assert fake.requests[-1].path == f"{PREFIX}/viber_service_msg/16273/applications/{OTHER_APP}"
    assert fake.accounts["viber_service_msg", "16273"]["applications"] == []


def test_link_json(
    jwt_env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "link", "viber_service_msg", "16273", "--json")
    assert code == EXIT_OK and json.loads(out)["applications"] == [APP]


@pytest.mark.parametrize("verb", ["link", "unlink"])
def test_link_without_any_application_is_a_usage_error(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str], verb: str
) -> None:
    code, out, err = run(capsys, verb, "whatsapp", "447700900000")
    assert (code, out) == (EXIT_USAGE, "")
    assert one_error_line(err) == (
        f"botkit: error: no application to {verb}: pass --application ID or set "
        "VONAGE_APPLICATION_ID"
    )
    assert fake.requests == []


def test_409_is_one_line_and_exit_1(
    jwt_env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "link", "messenger", "112233445566")
    assert code == EXIT_REFUSED
    assert one_error_line(err) == (
        f"botkit: error: cannot link application {APP} to messenger account 112233445566: "
        "External Accounts API answered 409: Application conflict - Unable to link "
        "application; an account has one linked application at most"
    )
    code, _, err = run(capsys, "unlink", "messenger", "112233445566")
    assert code == EXIT_REFUSED and "409: Application conflict - Unable to unlink" in err


def test_403_is_one_line_and_exit_1(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "link", "viber_service_msg", "16273", "--application", "nope")
    assert code == EXIT_REFUSED
    assert one_error_line(err) == (
        "botkit: error: cannot link application nope to viber_service_msg account 16273: "
        "External Accounts API answered 403: Forbidden - Cannot link application; the "
        "application must exist in this Vonage account and have Messages"
    )


# -- messenger ---------------------------------------------------------------------------------


def test_messenger_create_update_delete(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "messenger", "create", "998877", "--access-token", "EAAG", "--name", "New page",
        "--application", APP,
    )  # fmt: skip
    assert code == EXIT_OK
    assert out.splitlines()[0] == "created messenger account 998877 (New page)"
    assert "EAAG" not in out
    code, out, _ = run(capsys, "messenger", "update", "998877", "--name", "Renamed", "--json")
    assert code == EXIT_OK and json.loads(out)["name"] == "Renamed"
    code, out, _ = run(capsys, "messenger", "delete", "998877")
    assert (code, out) == (EXIT_OK, "deleted messenger account 998877\n")
    assert [(r.method, r.path, r.body) for r in fake.requests] == [
        (
            "POST",
            f"{PREFIX}/messenger",
            {"external_id": "998877", "access_token": "EAAG", "name": "New page",
             "applications": [APP]},
        ),
        ("PATCH", f"{PREFIX}/messenger/998877", {"name": "Renamed"}),
        ("DELETE", f"{PREFIX}/messenger/998877", None),
    ]  # fmt: skip


def test_the_access_token_can_come_from_stdin(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setattr(sys, "stdin", io.StringIO("EAAG-secret\n"))
    code, _, _ = run(capsys, "messenger", "update", "112233445566", "--access-token", "-")
    assert code == EXIT_OK
    assert fake.requests[0].body == {"access_token": "EAAG-secret"}


def test_update_with_nothing_to_change(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "messenger", "update", "112233445566")
    assert code == EXIT_USAGE
    assert "nothing to update: pass --name, --access-token or --application" in one_error_line(err)
    assert fake.requests == []


def test_400_names_the_invalid_field(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "messenger", "create", "112233445566", "--access-token", "x")
    assert code == EXIT_REFUSED
    assert one_error_line(err) == (
        "botkit: error: cannot create messenger account 112233445566: External Accounts API "
        "answered 400: Your request parameters didn't validate. - Found errors validating 1 "
        "of your submitted parameters. [invalid: external_id (an account with this "
        "external_id exists)]"
    )


def test_422_is_one_line_even_when_the_detail_has_line_breaks(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail_next(
        422,
        {"title": "Invalid params", "detail": "name is\ntoo long",
         "invalid_parameters": [{"name": "name", "reason": "at most 100 characters"}]},
    )  # fmt: skip
    code, _, err = run(capsys, "messenger", "update", "112233445566", "--name", "n" * 200)
    assert code == EXIT_REFUSED
    assert one_error_line(err).endswith(
        "answered 422: Invalid params - name is too long [invalid: name (at most 100 characters)]"
    )


def test_404_of_a_messenger_delete(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "messenger", "delete", "404404")
    assert code == EXIT_NOT_FOUND
    assert one_error_line(err).startswith(
        "botkit: error: cannot delete messenger account 404404: no such account"
    )


# -- credentials and reachability ---------------------------------------------------------------


def test_401_names_the_credentials_to_check(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("VONAGE_API_SECRET", "wrong")
    code, out, err = run(capsys, "list")
    assert (code, out) == (EXIT_REFUSED, "")
    assert one_error_line(err) == (
        "botkit: error: cannot list the accounts: External Accounts API answered 401: "
        "Unauthorised - Request header 'Authorization' missing / Invalid Token; the "
        "credentials were refused: check VONAGE_API_KEY and VONAGE_API_SECRET"
    )


def test_401_with_jwt_names_the_application_settings(
    jwt_env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.jwt_application_id = "someone-else"
    code, _, err = run(capsys, "show", "whatsapp", "447700900000")
    assert code == EXIT_REFUSED
    assert one_error_line(err).endswith("check VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY")


def test_403_of_the_credentials(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail_next(403, FORBIDDEN_CREDENTIALS)
    code, _, err = run(capsys, "list")
    assert code == EXIT_REFUSED
    assert one_error_line(err) == (
        "botkit: error: cannot list the accounts: External Accounts API answered 403: Wrong "
        "authentication - You are not authorised to access this resource; these credentials "
        "may not do this"
    )


def test_missing_credentials_send_nothing(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    env.delenv("VONAGE_API_KEY")
    env.delenv("VONAGE_API_SECRET")
    code, out, err = run(capsys, "list")
    assert (code, out) == (EXIT_USAGE, "")
    assert one_error_line(err) == (
        "botkit: error: no Vonage credentials: set VONAGE_APPLICATION_ID and "
        "VONAGE_PRIVATE_KEY (or VONAGE_API_KEY and VONAGE_API_SECRET)"
    )
    assert fake.requests == []


def test_half_a_credential_pair_is_a_usage_error(
    env: pytest.MonkeyPatch, fake: FakeAccountsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    env.delenv("VONAGE_API_SECRET")
    code, _, err = run(capsys, "list")
    assert code == EXIT_USAGE
    assert "VONAGE_API_KEY is set but VONAGE_API_SECRET is missing" in one_error_line(err)


def test_unreachable_is_exit_3(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with serve(FakeAccountsApi()) as url:
        pass  # nothing listens there any more
    env.setenv("VONAGE_ACCOUNTS_URL", url)
    env.setenv("BOTKIT_HTTP_TRANSPORT", "httpx")  # the setting is honoured here too
    code, _, err = run(capsys, "list")
    assert code == EXIT_UNREACHABLE
    line = one_error_line(err)
    assert line.startswith(
        f"botkit: error: cannot list the accounts: cannot reach the External Accounts API at {url}"
    )
    assert line.endswith("check the network and VONAGE_ACCOUNTS_URL")
    assert "(All connection attempts failed)" in line  # httpx's words, not aiohttp's


def test_the_botkit_command_itself(fake: FakeAccountsApi, api_url: str) -> None:
    """The installed entry point, in a process of its own: stdout, stderr, exit codes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VONAGE_", "BOTKIT_"))}
    env.update(VONAGE_ACCOUNTS_URL=api_url, VONAGE_API_KEY="key", VONAGE_API_SECRET="secret")
    command = [sys.executable, "-m", "botkit.cli", "accounts"]
    listed = subprocess.run(
        [*command, "list", "--json"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == EXIT_OK and listed.stderr == ""
    assert [a["external_id"] for a in json.loads(listed.stdout)] == [
        "447700900000",
        "112233445566",
        "16273",
    ]
    missing = subprocess.run(
        [*command, "show", "whatsapp", "1"], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert missing.returncode == EXIT_NOT_FOUND and missing.stdout == ""
    assert len(missing.stderr.splitlines()) == 1
