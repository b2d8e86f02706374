"""The auth commands of ``carnet``:

``carnet token``
    print a bearer token signed with the server's key. Issuer and audience default to what the
    server reads from the environment (``CARNET_TOKEN_ISSUER``; ``CARNET_TOKEN_AUDIENCE``, else
    ``CARNET_BASE_URL``, as ``Config.from_prefixed_env("CARNET")`` reads them), else ``carnet``,
    an audience the server accepts on its own tokens.
``carnet clients add``
    register a client (see ``accounts`` for its shapes); prints ``client_id: …`` and, for a
    client with a secret, ``client_secret: …``.
``carnet users add``
    create a user who signs in on the authorization page as a fhirUser; the password is read
    from the terminal, or from the first line of standard input, unless ``--password`` gives it.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from contextlib import AbstractContextManager

from flask import Config

from consent.requester import MODE_BY_PURPOSE
from fhir_server.auth import accounts
from fhir_server.auth.accounts import Db
from fhir_server.auth.issuers import AuthConfig
from fhir_server.auth.tokens import mint_token

EMERGENCY = {purpose for purpose, mode in MODE_BY_PURPOSE.items() if mode != "normal"}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``token``, ``clients`` and ``users`` to a ``carnet`` argparse command
    (``args.func(args)`` runs the chosen one and returns the exit status)."""
    token = subparsers.add_parser("token", help="print a bearer token signed by the server key")
    token.add_argument("--data-dir", required=True, help="the server's data directory")
    token.add_argument(
        "--fhir-user",
        help="Patient/…, RelatedPerson/…, Practitioner/…, PractitionerRole/…; none: system",
    )
    token.add_argument("--scope", help="SMART scopes (default user/*.cruds, or system/*.cruds without --fhir-user)")
    token.add_argument("--purpose", choices=sorted(MODE_BY_PURPOSE), help="purpose_of_use")
    token.add_argument("--reason", help="why (required with BTG and ETREAT)")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    token.add_argument("--sub", help="subject (default: the fhirUser, or carnet-cli)")
    token.add_argument("--issuer", help="iss (default: CARNET_TOKEN_ISSUER, else carnet)")
    token.add_argument("--audience", help="aud (default: CARNET_TOKEN_AUDIENCE, else CARNET_BASE_URL, else carnet)")
    token.set_defaults(func=token_command)

    clients = subparsers.add_parser("clients", help="OAuth clients of the authorization server")
    add_client = clients.add_subparsers(dest="action", required=True).add_parser("add", help="register a client")
    add_client.add_argument("--data-dir", required=True)
    add_client.add_argument("--name", required=True)
    add_client.add_argument("--scope", required=True, help="the scopes it may ask for")
    add_client.add_argument("--jwks-url", help="a backend service's JWKS (private_key_jwt)")
    add_client.add_argument("--redirect-uri", action="append", default=[], help="an app's redirect URI (repeatable)")
    add_client.add_argument("--public", action="store_true", help="an app without a secret (PKCE only)")
    add_client.set_defaults(func=clients_add_command)

    users = subparsers.add_parser("users", help="people who sign in on the authorization page")
    add_user = users.add_subparsers(dest="action", required=True).add_parser("add", help="create a user")
    add_user.add_argument("--data-dir", required=True)
    add_user.add_argument("--username", required=True)
    add_user.add_argument("--fhir-user", required=True, help="Patient/…, RelatedPerson/…, Practitioner/…")
    add_user.add_argument("--password", help="else read from the terminal or standard input")
    add_user.set_defaults(func=users_add_command)


def token_command(args: argparse.Namespace) -> int:
    """Print one token for ``args``; exit status 0, or 2 on misuse."""
    if args.purpose in EMERGENCY and not args.reason:
        return _usage(f"--purpose {args.purpose} needs --reason")
    if args.reason and not args.purpose:
        return _usage("--reason goes with --purpose")
    if args.ttl <= 0:
        return _usage("--ttl must be a positive number of seconds")
    env = _environment()
    try:
        settings = {key: env.get(key) for key in ("TOKEN_ISSUER", "TOKEN_AUDIENCE", "BASE_URL")}
        config = AuthConfig.from_mapping({**settings, "DATA_DIR": args.data_dir})
        token = mint_token(
            args.data_dir,
            fhir_user=args.fhir_user,
            scope=args.scope or ("user/*.cruds" if args.fhir_user else "system/*.cruds"),
            purpose=args.purpose,
            reason=args.reason,
            ttl=args.ttl,
            sub=args.sub,
            issuer=args.issuer or config.issuer,
            audience=args.audience or config.audience,
        )
    except ValueError as error:
        return _usage(str(error))
    print(token)
    return 0


def clients_add_command(args: argparse.Namespace) -> int:
    try:
        with _database(args.data_dir) as database:
            client_id, secret = accounts.add_client(
                database,
                name=args.name,
                scope=args.scope,
                redirect_uris=args.redirect_uri,
                jwks_uri=args.jwks_url,
                public=args.public,
            )
    except ValueError as error:
        return _usage(str(error))
    print(f"client_id: {client_id}")
    if secret is not None:
        print(f"client_secret: {secret}")
    return 0


def users_add_command(args: argparse.Namespace) -> int:
    password = args.password
    if password is None:
        password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    try:
        with _database(args.data_dir) as database:
            user = accounts.add_user(database, args.username, password, args.fhir_user)
    except ValueError as error:
        return _usage(str(error))
    print(f"user: {user.username} fhirUser: {user.fhir_user}")
    return 0


def _environment() -> Config:
    env = Config(".")
    env.from_prefixed_env("CARNET")
    return env


def _database(data_dir: str) -> AbstractContextManager[Db]:
    """The server's database, opened as ``create_app`` opens it, closed on exit."""
    from fhir_server.storage import opened_collections

    env = _environment()
    settings = {
        "MONGODB_URI": os.environ.get("MONGODB_URI"),
        "DATA_DIR": data_dir,
        "DATABASE_FILE": env.get("DATABASE_FILE"),
        "MONGODB_DATABASE": env.get("MONGODB_DATABASE", "carnet"),
    }
    return opened_collections(settings)


def _usage(message: str) -> int:
    print(f"carnet: {message}", file=sys.stderr)
    return 2
