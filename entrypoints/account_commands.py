"""`quire account ...`: the operator's account commands.

They open the server's data directory (or Postgres) and go through the same use cases as
the XRPC endpoints, so every change is an event in the log, reaches the firehose of a
running server (it tails the seq view) and is checked by `quire audit` like any other.
`create` writes the server's public URL into the new DID document: give it the server's
`--hostname`/`--port` (or the same `QUIRE_*` environment) when they are not the defaults.
"""

from __future__ import annotations

import argparse
import json
import secrets
import string
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from application.account_admin import AccountAdmin
from application.admin_service import AdminService
from application.identity_errors import IdentityRequestError
from application.identity_service import IdentityService
from application.invite_codes import OPERATOR, InviteCodes
from application.reserved_handles import ReservedHandles
from domain.plc.errors import PlcError
from domain.repo.errors import RepoNotFound
from entrypoints.bootstrap import Services, build_services
from entrypoints.config import Settings

_PASSWORD_CHARS = string.ascii_letters + string.digits  # no leading '-' to trip up a shell
Handler = Callable[[Services, argparse.Namespace], None]
T = TypeVar("T")


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        "data_dir": Path(args.data) if args.data else None,
        "database_url": args.database_url,
        "hostname": args.hostname,
        "port": args.port,
        "plc_url": args.plc_url,
    }
    return replace(Settings(), **{k: v for k, v in overrides.items() if v is not None})


@contextmanager
def _services(args: argparse.Namespace) -> Iterator[Services]:
    services = build_services(_settings(args))
    try:
        yield services
    finally:
        services.close()


def _did(services: Services, identifier: str) -> str:
    """A DID as given, or the DID of the account with this handle."""
    if identifier.startswith("did:"):
        return identifier
    row = services.views.get_account_by_handle(identifier.lower())
    if row is None:
        raise IdentityRequestError(f"No account with handle {identifier}", "AccountNotFound")
    return row.did


def _extra(services: Services, name: str, kind: type[T]) -> T:
    """A use case the wiring keeps in `services.extras`, checked to be what it should be."""
    found = services.extras[name]
    assert isinstance(found, kind), f"extras[{name!r}] is not a {kind.__name__}"
    return found


def run_create(services: Services, args: argparse.Namespace) -> None:
    """Create an account; print its DID (and the password, when one was generated)."""
    password = args.password or "".join(secrets.choice(_PASSWORD_CHARS) for _ in range(24))
    session = services.accounts.create_account(args.handle, args.email, password, by_operator=True)
    out = {"did": session.did, "handle": session.handle}
    if not args.password:
        out["password"] = password
    print(json.dumps(out))


def run_list(services: Services, args: argparse.Namespace) -> None:
    """Every account, as a table or JSON lines."""
    rows = _extra(services, "account_admin", AccountAdmin).list_accounts()
    if args.json:
        for row in rows:
            fields = {"did": row.did, "handle": row.handle, "email": row.email}
            print(json.dumps({**fields, "status": row.status, "signingKey": row.signing_key}))
        return
    print(f"{'did':<32} {'handle':<32} {'status':<12} email")
    for row in rows:
        print(f"{row.did:<32} {row.handle:<32} {row.status:<12} {row.email or '-'}")


def _set_status(status: str) -> Handler:
    def run(services: Services, args: argparse.Namespace) -> None:
        did = _did(services, args.did)
        _extra(services, "account_admin", AccountAdmin).set_status_by_operator(did, status)
        print(f"{did} {status}")

    return run


def run_invite(services: Services, args: argparse.Namespace) -> None:
    """Make invite codes (for createAccount when `QUIRE_INVITE_REQUIRED` is on)."""
    invites: InviteCodes = services.extras["invites"]
    for_account = _did(services, args.for_account) if args.for_account else OPERATOR
    codes = invites.create(args.count, args.uses, for_account=for_account)
    print(json.dumps({"codes": codes, "uses": args.uses, "forAccount": for_account}))


def run_rotate_key(services: Services, args: argparse.Namespace) -> None:
    """New signing key: PLC update, then the repo re-signed (`#identity` + commit)."""
    did = _did(services, args.did)
    key = _extra(services, "identity", IdentityService).rotate_signing_key(did)
    print(json.dumps({"did": did, "signingKey": key}))


def run_revoke_credentials(services: Services, args: argparse.Namespace) -> None:
    """Password, app passwords and sessions revoked until a password reset (as the
    `temp.revokeAccountCredentials` method)."""
    did = _did(services, args.did)
    _extra(services, "admin", AdminService).revoke_credentials(did)
    print(json.dumps({"did": did, "credentials": "revoked"}))


def run_reserve_handle(services: Services, args: argparse.Namespace) -> None:
    """Keep a handle from sign-ups and handle updates (as `temp.addReservedHandle`)."""
    handle = _extra(services, "reserved_handles", ReservedHandles).reserve(args.handle)
    print(json.dumps({"handle": handle, "reserved": True}))


def run_release_handle(services: Services, args: argparse.Namespace) -> None:
    """Lift a reservation (no XRPC method does)."""
    reserved = _extra(services, "reserved_handles", ReservedHandles)
    if not reserved.release(args.handle):
        raise IdentityRequestError(f"{args.handle} is not reserved", "HandleNotReserved")
    print(json.dumps({"handle": args.handle.strip().lower(), "reserved": False}))


def _runner(handler: Handler) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            with _services(args) as services:
                handler(services, args)
        except (RepoNotFound, PlcError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:
            name = getattr(exc, "error", None)
            if not isinstance(name, str):
                raise
            print(f"error: {name}: {exc}", file=sys.stderr)
            return 1
        return 0

    return run


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `quire account` and its subcommands."""
    account = commands.add_parser("account", help="create, list and administer accounts")
    sub = account.add_subparsers(dest="account_command", required=True)
    specs: list[tuple[str, Handler, str]] = [
        ("create", run_create, "create an account (prints its DID)"),
        ("list", run_list, "list every account"),
        ("activate", _set_status("active"), "reactivate an account (also lifts a takedown)"),
        ("deactivate", _set_status("deactivated"), "deactivate an account"),
        ("takedown", _set_status("takendown"), "take an account down and end its sessions"),
        ("rotate-key", run_rotate_key, "give an account a new repo signing key"),
        ("invite", run_invite, "make invite codes"),
        ("revoke-credentials", run_revoke_credentials,
         "revoke an account's password, app passwords and sessions until a password reset"),
        ("reserve-handle", run_reserve_handle, "keep a handle from sign-ups and updates"),
        ("release-handle", run_release_handle, "lift a handle's reservation"),
    ]  # fmt: skip
    for name, handler, help_text in specs:
        command = sub.add_parser(name, help=help_text)
        command.add_argument("--data", help="data directory (default ./data)")
        command.add_argument("--database-url", help="postgresql://... instead of SQLite")
        command.add_argument("--hostname", help="the server's public hostname")
        command.add_argument("--port", type=int, help="the server's port")
        command.add_argument("--plc-url", help="PLC directory URL (default: the embedded one)")
        if name == "create":
            command.add_argument("--handle", required=True)
            command.add_argument("--email")
            command.add_argument("--password", help="default: generate one and print it")
        elif name == "list":
            command.add_argument("--json", action="store_true", help="JSON lines")
        elif name in ("reserve-handle", "release-handle"):
            command.add_argument("--handle", required=True)
        elif name == "invite":
            command.add_argument("--count", type=int, default=1, help="how many codes")
            command.add_argument("--uses", type=int, default=1, help="accounts per code")
            command.add_argument("--for", dest="for_account", help="an account's DID or handle")
        else:
            command.add_argument("--did", required=True, help="the account's DID or handle")
        command.set_defaults(handler=_runner(handler))
