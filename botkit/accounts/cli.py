"""``botkit accounts``: the External Accounts API from the command line.

Every command reads the credentials from the environment (as ``botkit run`` does), prints
its result on stdout (a table, or JSON with ``--json``) and any failure as one line on
stderr, and exits with a code scripts can rely on:

====  =====================================================================================
0     done
1     the API refused the request: 401 or 403 (credentials), 400 or 422 (a field), 409
      (a link conflict), 429 or 5xx (try again later)
2     usage or settings: a bad argument, no credentials, no application id; nothing was sent
3     the API could not be reached (connection refused, name not resolved, timeout)
4     no such account (404)
====  =====================================================================================
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

from botkit.accounts.account import PROVIDERS, ExternalAccount, provider_name
from botkit.accounts.client import AccountsClient
from botkit.errors import AccountsApiError, ConfigError
from botkit.settings import Settings

__all__ = [
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "add_accounts_parser",
    "explain",
]

EXIT_OK: Final = 0
EXIT_REFUSED: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNREACHABLE: Final = 3
EXIT_NOT_FOUND: Final = 4

_EXIT_CODES = """exit codes: 0 done; 1 the API refused (401, 403, 400/422, 409, 429, 5xx);
2 usage or settings (bad argument, no credentials, no application id); 3 the API could
not be reached; 4 no such account (404)"""

Action = Callable[[AccountsClient, argparse.Namespace, Settings], Awaitable[None]]


def add_accounts_parser(commands: Any) -> None:
    """Add ``accounts`` and its subcommands to ``botkit``'s subparsers."""
    accounts = commands.add_parser(
        "accounts",
        help="the Messenger, Viber and WhatsApp accounts and their linked applications",
        description="Manage the External Accounts API's accounts (VONAGE_ACCOUNTS_URL).",
        epilog=_EXIT_CODES,
    )
    verbs = accounts.add_subparsers(dest="accounts_command", required=True)

    listing = verbs.add_parser("list", help="every account the credentials own", epilog=_EXIT_CODES)
    listing.add_argument("--provider", type=_provider, help=f"only one of {', '.join(PROVIDERS)}")
    _json_flag(listing)
    listing.set_defaults(handler=_command(_list, "cannot list the accounts"))

    show = verbs.add_parser("show", help="one account", epilog=_EXIT_CODES)
    _account_arguments(show)
    _json_flag(show)
    show.set_defaults(handler=_command(_show, "cannot show {provider} account {external_id}"))

    for verb, action, preposition in (("link", _link, "to"), ("unlink", _unlink, "from")):
        parser = verbs.add_parser(
            verb,
            help=f"{verb} a Vonage application {preposition} an account",
            epilog=_EXIT_CODES,
        )
        _account_arguments(parser)
        parser.add_argument(
            "--application", metavar="ID", help="the application (default: VONAGE_APPLICATION_ID)"
        )
        if verb == "link":
            _json_flag(parser)
        what = f"cannot {verb} application {{application}} {preposition} {{provider}} account "
        parser.set_defaults(handler=_command(action, what + "{external_id}"))

    messenger = verbs.add_parser("messenger", help="create, update or delete a Messenger account")
    pages = messenger.add_subparsers(dest="messenger_command", required=True)
    create = pages.add_parser("create", help="add a Facebook page", epilog=_EXIT_CODES)
    create.add_argument("external_id", metavar="PAGE_ID", help="the Facebook page id")
    create.add_argument(
        "--access-token",
        required=True,
        metavar="TOKEN",
        help="the page token; - reads it from stdin",
    )
    _page_options(create)
    create.set_defaults(handler=_command(_create, "cannot create messenger account {external_id}"))

    update = pages.add_parser("update", help="change a page's name, token or application")
    update.add_argument("external_id", metavar="PAGE_ID", help="the Facebook page id")
    update.add_argument("--access-token", metavar="TOKEN", help="a new page token; - reads stdin")
    _page_options(update)
    update.set_defaults(handler=_command(_update, "cannot update messenger account {external_id}"))

    delete = pages.add_parser("delete", help="delete a Messenger account", epilog=_EXIT_CODES)
    delete.add_argument("external_id", metavar="PAGE_ID", help="the Facebook page id")
    delete.set_defaults(handler=_command(_delete, "cannot delete messenger account {external_id}"))


def _provider(value: str) -> str:
    try:
        return provider_name(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _account_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("provider", type=_provider, metavar="PROVIDER", help=", ".join(PROVIDERS))
    parser.add_argument(
        "external_id", metavar="EXTERNAL_ID", help="page id, Viber service id or WhatsApp number"
    )


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON (for scripts)")


def _page_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", help="the account's name")
    parser.add_argument("--application", metavar="ID", help="the application to link")
    _json_flag(parser)


# -- running a command ---------------------------------------------------------------------


def _command(action: Action, what: str) -> Callable[[argparse.Namespace], int]:
    """A ``botkit`` handler: run ``action`` with a client; report a refusal as one line."""

    def handler(args: argparse.Namespace) -> int:
        settings = Settings.from_env()
        try:
            if getattr(args, "access_token", None) == "-":
                args.access_token = sys.stdin.readline().strip()
            if "application" in args and not args.application and action in (_link, _unlink):
                args.application = settings.application_id
                if not args.application:
                    raise ConfigError(
                        f"no application to {args.accounts_command}: pass --application ID "
                        "or set VONAGE_APPLICATION_ID"
                    )
            client = AccountsClient.from_settings(settings)
            asyncio.run(_run(action, client, args, settings))
        except AccountsApiError as exc:
            print(
                f"botkit: error: {explain(exc, what.format(**vars(args)), settings)}",
                file=sys.stderr,
            )
            return _exit_code(exc)
        except ValueError as exc:  # an argument the client refuses (empty id, nothing to do)
            print(f"botkit: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        return EXIT_OK

    return handler


async def _run(
    action: Action, client: AccountsClient, args: argparse.Namespace, settings: Settings
) -> None:
    async with client:
        await action(client, args, settings)


def _exit_code(exc: AccountsApiError) -> int:
    if exc.status_code == 0:
        return EXIT_UNREACHABLE
    if exc.status_code == 404:
        return EXIT_NOT_FOUND
    return EXIT_REFUSED


def explain(exc: AccountsApiError, what: str, settings: Settings) -> str:
    """One line saying what failed, the API's answer, and what to do about it."""
    answer = " ".join(str(exc).split())  # one line, whatever the API put in its detail
    status = exc.status_code
    if status == 0:
        where = settings.accounts_url
        return (
            f"{what}: cannot reach the External Accounts API at {where} ({exc.detail}); "
            "check the network and VONAGE_ACCOUNTS_URL"
        )
    if status == 401:
        if settings.application_id:
            names = "VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY"
        else:
            names = "VONAGE_API_KEY and VONAGE_API_SECRET"
        return f"{what}: {answer}; the credentials were refused: check {names}"
    if status == 403:
        if what.startswith("cannot link"):
            why = "the application must exist in this Vonage account and have Messages"
        else:
            why = "these credentials may not do this"
        return f"{what}: {answer}; {why}"
    if status == 404:
        return f"{what}: no such account ({answer}); 'botkit accounts list' shows them all"
    if status == 409:
        return f"{what}: {answer}; an account has one linked application at most"
    if status == 429 or status >= 500:
        return f"{what}: {answer}; try again later"
    return f"{what}: {answer}"


# -- the commands ------------------------------------------------------------------------


async def _list(client: AccountsClient, args: argparse.Namespace, settings: Settings) -> None:
    accounts = await client.list(provider=args.provider)
    if args.json:
        _print_json([a.to_json() for a in accounts])
    else:
        _print_table(accounts, settings.application_id)


async def _show(client: AccountsClient, args: argparse.Namespace, settings: Settings) -> None:
    account = await client.get(args.provider, args.external_id)
    _print_account(account, args, settings)


async def _link(client: AccountsClient, args: argparse.Namespace, settings: Settings) -> None:
    account = await client.link(args.provider, args.external_id, args.application)
    if args.json:
        _print_json(account.to_json())
    else:
        print(f"linked application {args.application} to {_label(account)}")


async def _unlink(client: AccountsClient, args: argparse.Namespace, settings: Settings) -> None:
    await client.unlink(args.provider, args.external_id, args.application)
    print(
        f"unlinked application {args.application} from {args.provider} account {args.external_id}"
    )


async def _create(client: AccountsClient, args: argparse.Namespace, settings: Settings) -> None:
    account = await client.create_messenger(
        args.external_id,
        args.access_token,
        name=args.name,
        applications=[args.application] if args.application else (),
    )
    _print_account(account, args, settings, done="created")


async def _update(client: AccountsClient, args: argparse.Namespace, settings: Settings) -> None:
    if args.name is None and args.access_token is None and args.application is None:
        raise ConfigError("nothing to update: pass --name, --access-token or --application")
    account = await client.update_messenger(
        args.external_id,
        name=args.name,
        access_token=args.access_token,
        applications=[args.application] if args.application else None,
    )
    _print_account(account, args, settings, done="updated")


async def _delete(client: AccountsClient, args: argparse.Namespace, settings: Settings) -> None:
    await client.delete_messenger(args.external_id)
    print(f"deleted messenger account {args.external_id}")


# -- output ------------------------------------------------------------------------------


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _label(account: ExternalAccount) -> str:
    name = f" ({account.name})" if account.name else ""
    return f"{account.provider} account {account.external_id}{name}"


def _applications(account: ExternalAccount, application_id: str | None) -> str:
    if not account.applications:
        return "-"
    return ", ".join(
        f"{a} (this application)" if a == application_id else a for a in account.applications
    )


def _print_table(accounts: Sequence[ExternalAccount], application_id: str | None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    if not accounts:
        print("no accounts")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for header in ("PROVIDER", "EXTERNAL ID", "NAME", "APPLICATIONS"):
        table.add_column(header, no_wrap=True)
    for account in accounts:
        table.add_row(
            account.provider,
            account.external_id,
            account.name or "-",
            _applications(account, application_id),
            end_section=False,
        )
    # Off a terminal (a pipe, a file) nothing is wrapped: each account stays on one line.
    out = sys.stdout
    console = Console(file=out, width=None if out.isatty() else 1000, highlight=False)
    with console.capture() as captured:
        console.print(table)
    # rich pads every cell to its column's width; the padding at a line's end is noise.
    print("\n".join(line.rstrip() for line in captured.get().splitlines()))


def _print_account(
    account: ExternalAccount, args: argparse.Namespace, settings: Settings, done: str = ""
) -> None:
    if args.json:
        _print_json(account.to_json())
        return
    if done:
        print(f"{done} {_label(account)}")
    rows = (
        ("provider", account.provider),
        ("channel", account.channel),
        ("external id", account.external_id),
        ("name", account.name or "-"),
        ("applications", _applications(account, settings.application_id)),
        ("api key", account.api_key or "-"),
    )
    for key, value in rows:
        print(f"{key:<13} {value}")
