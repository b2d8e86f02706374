"""Shared fixtures of the auth tests: a data dir with its key, an AuthConfig, an external
provider's key pair, and ``sign`` to forge any token."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import Key
from joserfc.jwk import RSAKey

from fhir_server.auth.issuers import AuthConfig
from fhir_server.auth.keys import load_or_create_key

IDP = "https://idp.example"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data")
    load_or_create_key(path)
    return path


@pytest.fixture(scope="session")
def idp_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"use": "sig"}, auto_kid=True)


@pytest.fixture
def config(data_dir: Path, idp_key: RSAKey) -> AuthConfig:
    return AuthConfig.from_mapping(
        {
            "DATA_DIR": data_dir,
            "TRUSTED_ISSUERS": [
                {
                    "issuer": IDP,
                    "jwks": {"keys": [idp_key.as_dict(private=False)]},
                    "audience": "https://carnet.example/fhir",
                    "claims": {"fhirUser": "fhir_user", "scope": "scp"},
                }
            ],
        }
    )


def sign(claims: dict[str, Any], key: Key, alg: str = "RS256", **header: Any) -> str:
    return jwt.encode({"alg": alg, "kid": key.kid, **header}, claims, key, algorithms=[alg])
