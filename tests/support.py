"""Helpers shared by the test suites: app configuration, tokens, the fixtures in tests/fixtures."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import uuid
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask
from joserfc.jwk import RSAKey

from fhir_server.auth import mint_token
from fhir_server.auth.issuers import AuthConfig
from fhir_server.auth.keys import ALGORITHM
from fhir_server.auth.keys import key_path
from fhir_server.storage import Stored

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLES_FR = FIXTURES / "examples-fr"
R4 = FIXTURES / "fhir-r4"
SYNTHEA = FIXTURES / "synthea"


class Clock:
    """A clock the tests set and move: ``app.config["CLOCK"]``."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def examples() -> list[Path]:
    """Every official R4 example of the served types, then every French example."""
    return sorted((R4 / "examples").glob("*.json")) + sorted(EXAMPLES_FR.glob("*.json"))


def read_json(path: Path) -> Any:
    """A JSON fixture, gzipped (``.json.gz``) or not."""
    return json.loads(gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes())


def unpacked(source: Path, target: Path) -> Path:
    """A copy of the fixture folder ``source`` at ``target``, its ``.gz`` files decompressed."""
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        copy = target / path.relative_to(source)
        copy.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".gz":
            copy.with_suffix("").write_bytes(gzip.decompress(path.read_bytes()))
        else:
            shutil.copyfile(path, copy)
    return target


@cache
def suite_key() -> str:
    """One signing key (JWK text) for the apps of a test run: generating one per app costs ~40 ms."""
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True)
    return json.dumps(key.as_dict(private=True))


def app_config(data_dir: Path) -> dict[str, Any]:
    """The settings of a test app on ``data_dir`` (its own in-memory store, the suite's key)."""
    key = key_path(data_dir)
    if not key.exists():
        key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key.write_text(suite_key())
        key.chmod(0o600)
    config: dict[str, Any] = {"TESTING": True, "DATA_DIR": str(data_dir)}
    if os.environ.get("MONGODB_URI"):
        config["MONGODB_URI"] = os.environ["MONGODB_URI"]
        config["MONGODB_DATABASE"] = f"carnet_test_{uuid.uuid4().hex[:12]}"
    else:
        config["DATABASE_FILE"] = ":memory:"
    return config


def bearer(app: Flask, fhir_user: str | None = None, scope: str | None = None, **claims: Any) -> dict[str, str]:
    """Authorization headers for a token minted by ``app``'s own key, at ``app``'s clock."""
    config = AuthConfig.from_mapping(app.config)
    if scope is None:
        scope = "system/*.cruds" if fhir_user is None else "user/*.cruds"
    with app.app_context():
        token = mint_token(
            config.data_dir,
            fhir_user=fhir_user,
            scope=scope,
            purpose=claims.get("purpose"),
            reason=claims.get("reason"),
            ttl=claims.get("ttl", 600),
            sub=claims.get("sub"),
            issuer=config.issuer,
            audience=config.audience,
        )
    return {"Authorization": f"Bearer {token}"}


def stored(type_: str, keep: Callable[[dict[str, Any]], bool] = lambda resource: True) -> list[Stored]:
    """The live ``type_`` resources of the current app's store (whoever may see them) whose
    resource satisfies ``keep``, oldest first: the backend-neutral way to look at what was stored."""
    from fhir_server.storage import get_store
    from fhir_server.storage import no_policy
    from search.plan import TRUE

    found = [s for s in get_store().find(type_, TRUE, no_policy) if keep(s.resource)]
    return sorted(found, key=lambda s: (s.ts, s.id))


def shared_store(data_dir: Path, monkeypatch: Any) -> dict[str, Any]:
    """Settings for ``make_app`` whose store a CLI command (``command_app(data_dir)``, configured
    from the environment) opens again: the embedded file under ``data_dir``, or the same MongoDB
    database (a file-backed mongoeco one when the suite runs on the in-process ``mongoeco://``)."""
    uri = os.environ.get("MONGODB_URI")
    if not uri:
        return {"DATABASE_FILE": None}
    if uri.startswith("mongoeco://"):
        uri = f"mongoeco://{data_dir / 'mongoeco.db'}"
    database = f"carnet_test_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("MONGODB_URI", uri)
    monkeypatch.setenv("CARNET_MONGODB_DATABASE", database)
    return {"MONGODB_URI": uri, "MONGODB_DATABASE": database}
