"""Who may sign the bearer tokens this server accepts, and for which audiences: its own key, and
external identity providers trusted by issuer and JSON Web Key Set (RFC 7517 §5,
https://www.rfc-editor.org/rfc/rfc7517).

Read from the app config by ``AuthConfig.from_mapping`` (cached: cheap on every request):

``DATA_DIR``
    where the server's own key lives (see ``keys``).
``TOKEN_ISSUER``
    the ``iss`` of the tokens the server signs itself (default ``"carnet"``).
``TOKEN_AUDIENCE``
    a string or a list: the ``aud`` values that name this FHIR server. Unset, the server's own
    tokens are accepted for the request's FHIR base URL (``base_url``) or for ``TOKEN_ISSUER``,
    the audience ``carnet token`` uses when it knows no URL.
``BASE_URL``
    the public FHIR base URL, when configured: the default audience of external issuers and of
    ``carnet token``.
``TRUSTED_ISSUERS``
    a list of external issuers, each a dict::

        {"issuer": "https://idp.example",
         "jwks": {"keys": [...]},             # or "jwks_url": "https://idp.example/jwks"
         "audience": "https://carnet.example/fhir",   # default TOKEN_AUDIENCE, else BASE_URL
         "algorithms": ["RS256"],              # optional, default ASYMMETRIC
         "claims": {"fhirUser": "fhir_user", "scope": "scp"}}   # optional claim mapping

    ``claims`` maps this server's claim names (``sub``, ``fhirUser``, ``scope``,
    ``purpose_of_use``, ``reason``) to the names the provider uses; unmapped ones keep their
    name. A provider's audience must be configured: an audience taken from the request's Host
    header would let a token minted for another server be replayed here. A ``jwks_url`` is
    fetched on first use, cached for an hour and fetched again (at most once a minute) when a
    token names a key id it does not hold. Only asymmetric algorithms are accepted, so a public
    key can never serve as an HMAC secret.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from functools import lru_cache
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from fhir_server.auth.keys import ALGORITHM
from fhir_server.auth.keys import key_set

DEFAULT_ISSUER = "carnet"
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
#: this server's claim names, which a provider's ``claims`` mapping may rename
MAPPED_CLAIMS = ("sub", "fhirUser", "scope", "purpose_of_use", "reason", "profession", "specialty")
#: the config keys read here
SETTINGS = ("DATA_DIR", "TOKEN_ISSUER", "TOKEN_AUDIENCE", "BASE_URL", "TRUSTED_ISSUERS")

Fetch = Callable[[str], Mapping[str, Any]]


def fetch_json(url: str) -> Mapping[str, Any]:
    """GET a JSON document (a provider's JWKS), 5 s timeout, 1 MB at most."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read(1 << 20))  # type: ignore[no-any-return]


class RemoteKeySet:
    """A provider's JWKS fetched from ``url`` on demand and cached."""

    MAX_AGE = 3600.0
    MIN_REFRESH = 60.0

    def __init__(self, url: str, fetch: Fetch = fetch_json) -> None:
        self.url = url
        self.fetch = fetch
        self._keys: KeySet | None = None
        self._fetched = 0.0
        self._lock = threading.Lock()

    def __call__(self, kid: str | None) -> KeySet:
        with self._lock:
            age = time.monotonic() - self._fetched
            stale = self._keys is None or age > self.MAX_AGE
            unknown = self._keys is not None and kid not in {key.kid for key in self._keys}
            if stale or (unknown and age > self.MIN_REFRESH):
                self._refresh()
            assert self._keys is not None
            return self._keys

    def _refresh(self) -> None:
        self._keys = KeySet.import_key_set(self.fetch(self.url))  # type: ignore[arg-type]
        self._fetched = time.monotonic()


@dataclass(frozen=True)
class Issuer:
    """One trusted signer: how to find its keys, which algorithms and audiences it may use."""

    issuer: str
    keys: Callable[[str | None], KeySet]
    audiences: tuple[str, ...]
    algorithms: tuple[str, ...]
    claims: Mapping[str, str] = field(default_factory=dict)

    def claim(self, name: str) -> str:
        """The provider's name for this server's claim ``name``."""
        return self.claims.get(name, name)


@dataclass(frozen=True, eq=False)
class AuthConfig:
    """The authentication settings of one app (compared and hashed by identity)."""

    data_dir: str
    issuer: str
    audiences: tuple[str, ...]  # TOKEN_AUDIENCE, empty when unset
    base_url: str | None
    trusted: Mapping[str, Issuer]

    @property
    def audience(self) -> str:
        """The ``aud`` of the tokens this server mints when it knows no request."""
        return self.audiences[0] if self.audiences else self.base_url or self.issuer

    def find(self, iss: str, base_url: str | None = None) -> Issuer | None:
        """The trusted issuer named ``iss``, this server included (``base_url``: the request's)."""
        if iss != self.issuer:
            return self.trusted.get(iss)
        audiences = self.audiences or tuple(filter(None, (base_url, self.issuer)))
        return Issuer(self.issuer, lambda kid: key_set(self.data_dir), audiences, (ALGORITHM,))

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any], fetch: Fetch = fetch_json) -> AuthConfig:
        """Read the settings above; ValueError on an unusable one."""
        settings = json.dumps([config.get(key) for key in SETTINGS], sort_keys=True, default=str)
        return _build(settings, fetch)


@lru_cache(maxsize=32)
def _build(settings: str, fetch: Fetch) -> AuthConfig:
    data_dir, issuer, token_audience, base_url, trusted_issuers = json.loads(settings)
    if data_dir is None:
        raise ValueError("DATA_DIR is not set")
    issuer = issuer or DEFAULT_ISSUER
    base_url = base_url.rstrip("/") if base_url else None
    audiences = _strings(token_audience, "TOKEN_AUDIENCE") if token_audience else ()
    external_default = audiences or ((base_url,) if base_url else ())
    trusted: dict[str, Issuer] = {}
    for entry in trusted_issuers or ():
        external = _issuer(entry, external_default, fetch)
        if external.issuer == issuer or external.issuer in trusted:
            raise ValueError(f"TRUSTED_ISSUERS: issuer {external.issuer!r} given twice")
        trusted[external.issuer] = external
    return AuthConfig(data_dir, issuer, audiences, base_url, trusted)


def _issuer(entry: Mapping[str, Any], audiences: tuple[str, ...], fetch: Fetch) -> Issuer:
    name = entry.get("issuer")
    if not isinstance(name, str) or not name:
        raise ValueError(f"TRUSTED_ISSUERS: an entry has no issuer: {entry!r}")
    algorithms = _strings(entry.get("algorithms", ASYMMETRIC), f"{name}: algorithms")
    if not set(algorithms) <= set(ASYMMETRIC):
        raise ValueError(f"TRUSTED_ISSUERS {name}: algorithms must be among {ASYMMETRIC}")
    claims = dict(entry.get("claims") or {})
    if not set(claims) <= set(MAPPED_CLAIMS):
        raise ValueError(f"TRUSTED_ISSUERS {name}: claims may map only {MAPPED_CLAIMS}")
    if not (entry.get("audience") or audiences):
        raise ValueError(f"TRUSTED_ISSUERS {name}: set its audience, TOKEN_AUDIENCE or BASE_URL")
    own_audiences = _strings(entry.get("audience") or audiences, f"TRUSTED_ISSUERS {name}: audience")
    keys: Callable[[str | None], KeySet]
    if ("jwks" in entry) == ("jwks_url" in entry):
        raise ValueError(f"TRUSTED_ISSUERS {name}: give exactly one of jwks and jwks_url")
    if "jwks" in entry:
        try:
            static = KeySet.import_key_set(entry["jwks"])
        except (JoseError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"TRUSTED_ISSUERS {name}: unusable jwks ({error})") from error
        if any(key.key_type == "oct" or key.is_private for key in static):
            raise ValueError(f"TRUSTED_ISSUERS {name}: jwks must hold public keys only")
        keys = lambda kid: static  # noqa: E731
    else:
        keys = RemoteKeySet(entry["jwks_url"], fetch)
    return Issuer(name, keys, own_audiences, algorithms, claims)


def _strings(value: Any, what: str) -> tuple[str, ...]:
    values = (value,) if isinstance(value, str) else tuple(value or ())
    if not values or not all(isinstance(item, str) and item for item in values):
        raise ValueError(f"{what}: expected a string or a non-empty list of strings")
    return values
