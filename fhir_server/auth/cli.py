"""``carnet token``: print a bearer token signed with the server's key.

The issuer and audience default to what the server reads from the environment
(``FHIR_AUTH_ISSUER``, ``FHIR_AUTH_AUDIENCE``, as ``Config.from_prefixed_env("FHIR")`` does),
else ``carnet``; ``--issuer`` and ``--audience`` override them.
"""
from __future__ import annotations

import argparse
import sys

from flask import Config

from consent.requester import MODE_BY_PURPOSE
from fhir_server.auth.issuers import AuthConfig
from fhir_server.auth.tokens import mint_token

EMERGENCY = {purpose for purpose, mode in MODE_BY_PURPOSE.items() if mode != "normal"}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``token`` to a ``carnet`` argparse command (``args.func(args)`` runs it)."""
    parser = subparsers.add_parser("token", help="print a bearer token signed by the server key")
    parser.add_argument("--data-dir", required=True, help="the server's data directory")
    parser.add_argument(
        "--fhir-user",
        help="Patient/…, RelatedPerson/…, Practitioner/… or PractitionerRole/…; none: a system client",
    )
    parser.add_argument(
        "--scope", help="SMART scopes (default user/*.cruds, or system/*.cruds without --fhir-user)"
    )
    parser.add_argument("--purpose", choices=sorted(MODE_BY_PURPOSE), help="purpose_of_use")
    parser.add_argument("--reason", help="why (required with BTG and ETREAT)")
    parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    parser.add_argument("--sub", help="subject (default: the fhirUser, or carnet-cli)")
    parser.add_argument("--issuer", help="iss (default: FHIR_AUTH_ISSUER, else carnet)")
    parser.add_argument("--audience", help="aud (default: first of FHIR_AUTH_AUDIENCE, else carnet)")
    parser.set_defaults(func=token_command)


def token_command(args: argparse.Namespace) -> int:
    """Print one token for ``args`` (as parsed by ``add_parser``); exit status 0, or 2 on misuse."""
    if args.purpose in EMERGENCY and not args.reason:
        return _usage(f"--purpose {args.purpose} needs --reason")
    if args.reason and not args.purpose:
        return _usage("--reason goes with --purpose")
    env = Config(".")
    env.from_prefixed_env("FHIR")
    try:
        settings = {key: env[key] for key in ("AUTH_ISSUER", "AUTH_AUDIENCE") if key in env}
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


def _usage(message: str) -> int:
    print(f"carnet token: {message}", file=sys.stderr)
    return 2
