"""The OAuth 2.0 records as authlib models (RFC 6749 §2 clients, §4.1 authorization codes, §1.4
access and §1.5 refresh tokens; https://www.rfc-editor.org/rfc/rfc6749), read from the MongoDB
documents ``accounts`` and ``token_store`` store. Nothing here does I/O but ``Client.public_keys``;
``Client.check_redirect_uri`` reads the current request's origin for path-only redirect URIs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import ClassVar

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749 import InvalidScopeError
from authlib.oauth2.rfc6749 import TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin
from flask import has_request_context
from flask import request
from joserfc.jwk import KeySet

from consent.requester import KIND_BY_TYPE
from consent.requester import Kind
from fhir_server import clock
from fhir_server.auth import scopes as smart
from fhir_server.auth.issuers import RemoteKeySet

#: token endpoint authentication methods that use a client secret
SECRET_METHODS = ("client_secret_basic", "client_secret_post")


def digest(secret: str) -> str:
    """How a client secret or a refresh token is kept: its SHA-256 (they are long and random)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def own_path(uri: str) -> str | None:
    """The path of ``uri`` when it points at the origin the current request came to, else None."""
    if not has_request_context():
        return None
    origin = request.host_url.rstrip("/")
    if not uri.startswith(origin + "/") or "?" in uri or "#" in uri:
        return None
    return uri.removeprefix(origin)


class Client(ClientMixin):
    """A registered client (``auth_clients``): ``_id`` is its client_id, ``scope`` its grant."""

    _remote: ClassVar[dict[str, RemoteKeySet]] = {}  # one cache of remote key sets for every client

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.client_id: str = doc["_id"]

    @property
    def scopes(self) -> list[str]:
        return str(self.doc.get("scope", "")).split()

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:  # type: ignore[override]  # authlib refuses None (stub: str)
        uris = self.doc.get("redirect_uris") or []
        return uris[0] if len(uris) == 1 and not uris[0].startswith("/") else None

    def get_allowed_scope(self, scope: str | None) -> str:  # type: ignore[override]  # authlib passes a str or None
        """The requested scopes this client holds (RFC 6749 §3.3: the granted subset, which the
        token response names), or the whole grant when none is asked; never more, and
        invalid_scope when none of the requested ones is granted."""
        if not scope:
            return " ".join(self.scopes)
        requested = scope.split()
        kept = [item for item in requested if smart.covers(self.scopes, item)]
        if not kept:
            raise InvalidScopeError(f"Scope not granted to this client: {' '.join(requested)}")
        return " ".join(dict.fromkeys(kept))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Registered as is, or, for an entry that is a path (``/portal/``), that path on the
        origin the request came to (the server's own apps, whatever host serves them)."""
        uris = self.doc.get("redirect_uris") or []
        return redirect_uri in uris or own_path(redirect_uri) in uris

    def check_client_secret(self, client_secret: str) -> bool:
        stored = self.doc.get("secret")
        return isinstance(stored, str) and hmac.compare_digest(stored, digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        registered = self.doc.get("token_endpoint_auth_method")
        if registered in SECRET_METHODS:
            return method in SECRET_METHODS
        return bool(method == registered)

    def check_response_type(self, response_type: str) -> bool:
        return response_type in (self.doc.get("response_types") or [])

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.doc.get("grant_types") or [])

    def public_keys(self, kid: str | None) -> KeySet:
        """The keys its private_key_jwt assertions are signed with (inline JWKS or its jwks_uri)."""
        if self.doc.get("jwks"):
            return KeySet.import_key_set(self.doc["jwks"])
        url = self.doc["jwks_uri"]
        return Client._remote.setdefault(url, RemoteKeySet(url))(kid)


@dataclass(frozen=True)
class User:
    """A person who logs in on the authorization page (``auth_users``), managed by the CLI."""

    username: str
    fhir_user: str

    @property
    def kind(self) -> Kind:
        return KIND_BY_TYPE[self.fhir_user.split("/", 1)[0]]


@dataclass(frozen=True)
class Approval:
    """What a user approved on the authorization page: who, for which FHIR server (``aud``),
    in which patient's context, and why (purpose_of_use, reason)."""

    user: User
    audience: str
    patient: str | None = None
    purpose: str | None = None
    reason: str | None = None

    def get_user_id(self) -> str:
        return self.user.username

    def as_doc(self) -> dict[str, Any]:
        return {
            "user": self.user.username,
            "fhirUser": self.user.fhir_user,
            "aud": self.audience,
            "patient": self.patient,
            "purpose": self.purpose,
            "reason": self.reason,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Approval | None:
        if not doc.get("user"):
            return None
        user = User(doc["user"], doc["fhirUser"])
        return cls(user, doc["aud"], doc.get("patient"), doc.get("purpose"), doc.get("reason"))


class AuthorizationCode(AuthorizationCodeMixin):
    """An authorization code (``auth_codes``), with its PKCE challenge and OpenID nonce."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.code: str = doc["_id"]
        self.code_challenge: str | None = doc.get("code_challenge")
        self.code_challenge_method: str | None = doc.get("code_challenge_method")

    def get_redirect_uri(self) -> str | None:  # type: ignore[override]  # None: no redirect_uri was sent (stub: str)
        return self.doc.get("redirect_uri")

    def get_scope(self) -> str:
        return str(self.doc.get("scope", ""))

    def get_nonce(self) -> str | None:
        return self.doc.get("nonce")

    def get_auth_time(self) -> int:
        return int(self.doc["auth_time"])

    def get_acr(self) -> None:  # type: ignore[override]  # as authlib's own default (its stub says str)
        return None

    def get_amr(self) -> None:  # type: ignore[override]  # as authlib's own default (its stub says list)
        return None

    def is_expired(self) -> bool:
        return bool(self.doc["expires"] <= clock.epoch())


class Token(TokenMixin):
    """One issued access token and its refresh token (``auth_tokens``, ``_id`` = the jti), as
    presented: ``access_token`` or ``refresh_token`` (each has its own expiry)."""

    def __init__(self, doc: Mapping[str, Any], presented: str = "access_token") -> None:
        self.doc = doc
        self.jti: str = doc["_id"]
        self.presented = presented

    def check_client(self, client: ClientMixin) -> bool:
        return bool(self.doc["client_id"] == client.get_client_id())

    def get_scope(self) -> str:
        return str(self.doc.get("scope", ""))

    def get_expires_in(self) -> int:
        return int(self.expires - self.doc["issued"])

    @property
    def expires(self) -> float:
        field = "refresh_expires" if self.presented == "refresh_token" else "expires"
        return float(self.doc[field])

    def is_expired(self) -> bool:
        return self.expires <= clock.epoch()

    def is_revoked(self) -> bool:
        return bool(self.doc.get("revoked"))

    def approval(self) -> Approval | None:
        return Approval.from_doc(self.doc)
