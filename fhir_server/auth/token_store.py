"""What the authorization server remembers between requests: authorization codes (RFC 6749
§4.1.2), issued tokens with their refresh tokens and revocation state (RFC 6749 §6, RFC 7009),
and the ids of client assertions already used (RFC 7523 §3, "jti"), in ``auth_codes``,
``auth_tokens`` and ``auth_jti``. Every insert goes through ``insert_many([doc])``.

A refresh token reads ``<jti>.<secret>``: the jti finds the record, the secret's digest proves it.
Refreshing rotates it; every token of one authorization shares a ``grant`` id, so revoking any of
them revokes the whole authorization.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from fhir_server import clock
from fhir_server.auth.accounts import Db
from fhir_server.auth.models import Approval
from fhir_server.auth.models import AuthorizationCode
from fhir_server.auth.models import Token
from fhir_server.auth.models import digest
from fhir_server.storage import DuplicateKey

CODES = "auth_codes"
TOKENS = "auth_tokens"
JTI = "auth_jti"
#: lifetime of an authorization code, in seconds
CODE_TTL = 120


def save_code(db: Db, code: str, fields: Mapping[str, Any], approval: Approval) -> None:
    """Keep a new code (and forget the expired ones, used or not)."""
    now = clock.epoch()
    db[CODES].delete_many({"expires": {"$lt": now}})
    doc = {
        "_id": code,
        **fields,
        **approval.as_doc(),
        "auth_time": int(now),
        "expires": now + CODE_TTL,
    }
    db[CODES].insert_many([doc])


def find_code(db: Db, code: str, client_id: str) -> AuthorizationCode | None:
    doc = db[CODES].find_one({"_id": code, "client_id": client_id})
    found = AuthorizationCode(doc) if doc else None
    return found if found is not None and not found.is_expired() else None


def delete_code(db: Db, code: AuthorizationCode) -> None:
    db[CODES].delete_one({"_id": code.code})


def nonce_used(db: Db, client_id: str, nonce: str) -> bool:
    return db[CODES].find_one({"client_id": client_id, "nonce": nonce}, {"_id": 1}) is not None


def new_refresh_token(jti: str) -> str:
    return f"{jti}.{secrets.token_urlsafe(32)}"


def save_token(db: Db, doc: Mapping[str, Any], refresh_token: str | None) -> None:
    """Record an issued token (``doc`` holds ``_id`` = jti, client, scope, times, approval)."""
    stored = {**doc, "refresh": digest(refresh_token) if refresh_token else None, "revoked": False}
    db[TOKENS].insert_many([stored])


def find_token(db: Db, jti: str) -> Token | None:
    doc = db[TOKENS].find_one({"_id": jti})
    return Token(doc) if doc else None


def find_refresh(db: Db, refresh_token: str) -> Token | None:
    """The record of a refresh token still usable, else None."""
    jti, _, _ = refresh_token.partition(".")
    doc = db[TOKENS].find_one({"_id": jti})
    if not doc or not doc.get("refresh") or not hmac.compare_digest(doc["refresh"], digest(refresh_token)):
        return None
    token = Token(doc, presented="refresh_token")
    return None if token.is_expired() or token.is_revoked() else token


def retire_refresh(db: Db, token: Token) -> None:
    db[TOKENS].update_one({"_id": token.jti}, {"$set": {"refresh": None}})


def revoke(db: Db, token: Token) -> None:
    """Revoke every token of the authorization ``token`` belongs to."""
    db[TOKENS].update_many({"grant": token.doc["grant"]}, {"$set": {"revoked": True}})


def is_revoked(db: Db, jti: str) -> bool:
    """Whether the access token ``jti`` was revoked (tokens this server never recorded were not)."""
    return db[TOKENS].find_one({"_id": jti, "revoked": True}, {"_id": 1}) is not None


def use_jti(db: Db, client_id: str, jti: str, expires: float) -> bool:
    """Record a client assertion id; False when the client used it before (a replay)."""
    db[JTI].delete_many({"expires": {"$lt": clock.epoch()}})
    try:
        db[JTI].insert_many([{"_id": f"{client_id} {jti}", "expires": expires}])
    except DuplicateKey:
        return False
    return True
