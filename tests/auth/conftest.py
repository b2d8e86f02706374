"""Shared fixtures of the auth tests: a data dir with its key, an AuthConfig, an external
provider's key pair, and ``sign`` to forge any token."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import Key
from joserfc.jwk import RSAKey

from fhir_server.auth.accounts import Db
from fhir_server.auth.issuers import AuthConfig
from fhir_server.auth.keys import load_or_create_key
from fhir_server.indexing import index_resource
from fhir_server.storage import Collections
from fhir_server.storage import open_repository
from tests.support import app_config

IDP = "https://idp.example"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data")
    load_or_create_key(path)
    return path


@contextmanager
def records(data_dir: Path) -> Iterator[Collections]:
    """The server records of a fresh store (embedded, or MONGODB_URI when set), dropped and closed after."""
    repo = open_repository(app_config(data_dir), index_resource)
    try:
        yield Collections(repo)
    finally:
        repo.drop()
        repo.close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Db]:
    with records(tmp_path) as found:
        yield found


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


class Live:
    """A running server: the auth blueprints and a FHIR stub, over HTTP on a free port."""

    def __init__(self, url: str, db: Db, data_dir: Path) -> None:
        from tests.auth.fhir_stub import JWKS

        self.url = url
        self.fhir = f"{url}/fhir"
        self.db = db
        self.data_dir = data_dir
        self.jwks = JWKS


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    from werkzeug.serving import make_server

    from tests.auth.fhir_stub import create_app

    data_dir = tmp_path_factory.mktemp("live")
    with records(data_dir) as database:
        app = create_app({"DATA_DIR": str(data_dir)}, database)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield Live(f"http://127.0.0.1:{server.server_port}", database, data_dir)
        server.shutdown()
        thread.join()
