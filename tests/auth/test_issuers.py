"""AuthConfig: reading the settings, and a provider's JWKS fetched from its URL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import OctKey
from joserfc.jwk import RSAKey

from fhir_server.auth.bearer import authenticate
from fhir_server.auth.issuers import AuthConfig
from fhir_server.auth.issuers import RemoteKeySet
from fhir_server.errors import Unauthorized
from tests.auth.conftest import IDP
from tests.auth.conftest import sign


def test_defaults(data_dir: Path) -> None:
    config = AuthConfig.from_mapping({"DATA_DIR": data_dir, "BASE_URL": None})
    assert (config.issuer, config.audiences, config.audience) == ("carnet", (), "carnet")
    assert config.find(IDP) is None
    own = config.find("carnet", "http://h/fhir")
    assert own is not None and own.audiences == ("http://h/fhir", "carnet")
    assert AuthConfig.from_mapping({"DATA_DIR": data_dir, "BASE_URL": "https://c.example/fhir/"}).audience == (
        "https://c.example/fhir"
    )


def test_configured_audiences(data_dir: Path) -> None:
    config = AuthConfig.from_mapping(
        {
            "DATA_DIR": data_dir,
            "TOKEN_ISSUER": "https://c.example",
            "TOKEN_AUDIENCE": ["https://c.example/fhir", "urn:c"],
            "TRUSTED_ISSUERS": [{"issuer": IDP, "jwks_url": f"{IDP}/jwks"}],
        }
    )
    assert config.audience == "https://c.example/fhir"
    assert config.find("carnet") is None
    own = config.find("https://c.example", "http://spoofed/fhir")
    assert own is not None and own.audiences == ("https://c.example/fhir", "urn:c")
    assert config.trusted[IDP].audiences == ("https://c.example/fhir", "urn:c")


def test_cached(data_dir: Path) -> None:
    settings = {"DATA_DIR": data_dir, "TOKEN_AUDIENCE": "a"}
    assert AuthConfig.from_mapping(settings) is AuthConfig.from_mapping(dict(settings))


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"jwks_url": "https://x/jwks"}, "no issuer"),
        ({"issuer": "https://x"}, "exactly one of"),
        (
            {"issuer": "https://x", "jwks": {"keys": []}, "jwks_url": "https://x/jwks"},
            "exactly one of",
        ),
        ({"issuer": "https://x", "jwks": {"keys": []}}, "unusable jwks"),
        (
            {"issuer": "https://x", "jwks": {"keys": [OctKey.generate_key(256).as_dict()]}},
            "public keys only",
        ),
        (
            {
                "issuer": "https://x",
                "jwks": {"keys": [RSAKey.generate_key(2048).as_dict(private=True)]},
            },
            "public keys only",
        ),
        ({"issuer": "https://x", "jwks_url": "https://x/j", "algorithms": ["HS256"]}, "algorithms"),
        (
            {"issuer": "https://x", "jwks_url": "https://x/j", "claims": {"exp": "e"}},
            "claims may map",
        ),
        ({"issuer": "https://x", "jwks_url": "https://x/j", "audience": [""]}, "audience"),
        ({"issuer": "https://x", "jwks_url": "https://x/j", "audience": None}, "set its audience"),
        ({"issuer": "carnet", "jwks_url": "https://x/j"}, "given twice"),
    ],
)
def test_bad_trusted_issuer(data_dir: Path, entry: dict[str, Any], message: str) -> None:
    entry = {"audience": "carnet", **entry}
    with pytest.raises(ValueError, match=message):
        AuthConfig.from_mapping({"DATA_DIR": data_dir, "TRUSTED_ISSUERS": [entry]})


class FakeProvider:
    """Serves a JWKS whose keys the test rotates, counting fetches."""

    def __init__(self, *keys: RSAKey) -> None:
        self.keys = list(keys)
        self.fetches = 0

    def __call__(self, url: str) -> dict[str, Any]:
        assert url == f"{IDP}/jwks"
        self.fetches += 1
        return {"keys": [key.as_dict(private=False) for key in self.keys]}


def claims() -> dict[str, Any]:
    return {
        "iss": IDP,
        "sub": "svc",
        "aud": "carnet",
        "exp": int(time.time()) + 60,
        "scope": "system/*.rs",
    }


def test_jwks_url_fetched_lazily_and_refreshed_on_rotation(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = RSAKey.generate_key(2048, auto_kid=True)
    second = RSAKey.generate_key(2048, auto_kid=True)
    provider = FakeProvider(first)
    config = AuthConfig.from_mapping(
        {
            "DATA_DIR": data_dir,
            "BASE_URL": "carnet",
            "TRUSTED_ISSUERS": [{"issuer": IDP, "jwks_url": f"{IDP}/jwks"}],
        },
        fetch=provider,
    )
    assert provider.fetches == 0
    for _ in range(3):
        assert authenticate(f"Bearer {sign(claims(), first)}", config).kind == "system"
    assert provider.fetches == 1
    provider.keys.append(second)
    with pytest.raises(Unauthorized, match="bad signature"):  # unknown kid, but fetched < 60 s ago
        authenticate(f"Bearer {sign(claims(), second)}", config)
    monkeypatch.setattr(RemoteKeySet, "MIN_REFRESH", 0.0)
    assert authenticate(f"Bearer {sign(claims(), second)}", config).sub == "svc"
    assert provider.fetches == 2


def test_jwks_url_unreachable(data_dir: Path) -> None:
    def down(url: str) -> dict[str, Any]:
        raise OSError("connection refused")

    config = AuthConfig.from_mapping(
        {
            "DATA_DIR": data_dir,
            "TOKEN_AUDIENCE": "carnet",
            "TRUSTED_ISSUERS": [{"issuer": IDP, "jwks_url": f"{IDP}/jwks"}],
        },
        fetch=down,
    )
    key = RSAKey.generate_key(2048, auto_kid=True)
    with pytest.raises(Unauthorized) as error:
        authenticate(f"Bearer {sign(claims(), key)}", config)
    assert "keys of https://idp.example are unavailable" in error.value.headers["WWW-Authenticate"]
