"""Clients and users of the authorization server (``auth_clients``, ``auth_users``).

A client takes one of three shapes, named with RFC 7591 metadata
(https://www.rfc-editor.org/rfc/rfc7591#section-2):

- a backend service (SMART Backend Services): ``client_credentials``, authenticating with
  ``private_key_jwt`` against its ``jwks`` or ``jwks_uri``; ``system/`` scopes;
- a confidential service: ``client_credentials`` with a client secret; ``system/`` scopes;
- an app: ``authorization_code`` and ``refresh_token`` at its ``redirect_uris``, with a secret,
  or public (``none``, PKCE only); ``patient/`` and ``user/`` scopes plus ``openid``,
  ``fhirUser``, ``launch/patient``, ``offline_access`` and ``online_access``.

Secrets are kept as SHA-256 digests, passwords as scrypt hashes. A user is bound to one fhirUser.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from consent.requester import KIND_BY_TYPE
from fhir_server import clock
from fhir_server.auth import scopes as smart
from fhir_server.auth.models import Client
from fhir_server.auth.models import User
from fhir_server.auth.models import digest
from fhir_server.auth.tokens import FHIR_USER
from fhir_server.storage import Collections
from fhir_server.storage import DuplicateKey

CLIENTS = "auth_clients"
USERS = "auth_users"
#: scopes an app may hold beside resource scopes
APP_SCOPES = ("openid", "fhirUser", "launch/patient", "offline_access", "online_access")
#: administrators hold this scope: it lets them register clients (RFC 7591)
ADMIN_SCOPE = "carnet/admin"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}

Db = Collections


def client_doc(
    *,
    client_id: str,
    secret: str | None,
    name: str,
    scope: str,
    redirect_uris: Iterable[str] = (),
    jwks: Mapping[str, Any] | None = None,
    jwks_uri: str | None = None,
    public: bool = False,
) -> dict[str, Any]:
    """The stored form of a client; ValueError when the shape or the scopes do not fit."""
    redirect_uris = list(redirect_uris)
    if jwks and jwks_uri:
        raise ValueError("give jwks or jwks_uri, not both")
    asymmetric = bool(jwks or jwks_uri)
    if redirect_uris:
        if asymmetric:
            raise ValueError("private_key_jwt is for backend services: no redirect URIs with a JWKS")
        grant_types = ["authorization_code", "refresh_token"]
        method = "none" if public else "client_secret_basic"
        contexts = {"patient", "user"}
    else:
        if public:
            raise ValueError("a public client needs redirect URIs")
        grant_types = ["client_credentials"]
        method = "private_key_jwt" if asymmetric else "client_secret_basic"
        contexts = {"system"}
    _check_scopes(scope.split(), contexts, APP_SCOPES if redirect_uris else ())
    if (method in ("none", "private_key_jwt")) != (secret is None):
        raise ValueError(f"a {method} client {'has no' if secret is None else 'needs a'} secret")
    return {
        "_id": client_id,
        "name": name,
        "scope": " ".join(scope.split()),
        "secret": digest(secret) if secret else None,
        "grant_types": grant_types,
        "response_types": ["code"] if redirect_uris else [],
        "redirect_uris": redirect_uris,
        "token_endpoint_auth_method": method,
        "jwks": dict(jwks) if jwks else None,
        "jwks_uri": jwks_uri,
        "created": int(clock.epoch()),
    }


def _check_scopes(scopes: list[str], contexts: set[str], extra: Iterable[str]) -> None:
    if not scopes:
        raise ValueError("a client needs at least one scope")
    for scope in scopes:
        parsed = smart.parse(scope)
        if parsed is None and scope not in extra:
            raise ValueError(f"unknown scope {scope!r}")
        if parsed is not None and (parsed.query is not None or parsed.context not in contexts):
            allowed = ", ".join(sorted(f"{context}/" for context in contexts))
            raise ValueError(f"scope {scope!r}: this client may hold {allowed} scopes only (no queries)")


def add_client(
    db: Db,
    *,
    name: str,
    scope: str,
    redirect_uris: Iterable[str] = (),
    jwks: Mapping[str, Any] | None = None,
    jwks_uri: str | None = None,
    public: bool = False,
) -> tuple[str, str | None]:
    """Register a client; returns its client_id and its secret (None for key or public clients)."""
    client_id = secrets.token_urlsafe(16)
    needs_secret = not (public or jwks or jwks_uri)
    secret = secrets.token_urlsafe(32) if needs_secret else None
    doc = client_doc(
        client_id=client_id,
        secret=secret,
        name=name,
        scope=scope,
        redirect_uris=redirect_uris,
        jwks=jwks,
        jwks_uri=jwks_uri,
        public=public,
    )
    insert_client(db, doc)
    return client_id, secret


def insert_client(db: Db, doc: Mapping[str, Any]) -> None:
    db[CLIENTS].insert_many([dict(doc)])


def query_client(db: Db, client_id: str) -> Client | None:
    doc = db[CLIENTS].find_one({"_id": client_id})
    return Client(doc) if doc else None


def add_user(db: Db, username: str, password: str, fhir_user: str) -> User:
    """Create a user who logs in with ``password`` as ``fhir_user``; ValueError if taken or bad."""
    if not username or not password:
        raise ValueError("a user needs a username and a password")
    if FHIR_USER.fullmatch(fhir_user) is None:
        raise ValueError(f"fhirUser must be a {', '.join(KIND_BY_TYPE)}/<id>: {fhir_user!r}")
    doc = {
        "_id": username,
        "password": hash_password(password),
        "fhirUser": fhir_user,
        "created": int(clock.epoch()),
    }
    try:
        db[USERS].insert_many([doc])
    except DuplicateKey:
        raise ValueError(f"user {username!r} exists") from None
    return User(username, fhir_user)


def login(db: Db, username: str, password: str) -> User | None:
    """The user these credentials prove, else None (in the same time whether the user exists)."""
    doc = db[USERS].find_one({"_id": username})
    stored = doc["password"] if doc else hash_password("")
    if check_password(stored, password) and doc is not None:
        return User(doc["_id"], doc["fhirUser"])
    return None


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${key.hex()}"


def check_password(stored: str, password: str) -> bool:
    _, salt, key = stored.split("$")
    computed = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(computed.hex(), key)
