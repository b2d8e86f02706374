"""Helpers shared by the test suites: app configuration, tokens, the shared reference folder."""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from flask import Flask

from fhir_server.auth import mint_token
from fhir_server.auth.issuers import AuthConfig

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def app_config(data_dir: Path) -> dict[str, Any]:
    config: dict[str, Any] = {"TESTING": True, "DATA_DIR": str(data_dir)}
    if os.environ.get("MONGODB_URI"):
        config["MONGODB_URI"] = os.environ["MONGODB_URI"]
        config["MONGODB_DATABASE"] = f"carnet_test_{uuid.uuid4().hex[:12]}"
    else:
        config["DATABASE_FILE"] = ":memory:"
    return config


def bearer(app: Flask, fhir_user: str | None = None, scope: str | None = None, **claims: Any) -> dict[str, str]:
    """Authorization headers for a token minted by ``app``'s own key."""
    config = AuthConfig.from_mapping(app.config)
    if scope is None:
        scope = "system/*.cruds" if fhir_user is None else "user/*.cruds"
    token = mint_token(
        config.data_dir, fhir_user=fhir_user, scope=scope, purpose=claims.get("purpose"),
        reason=claims.get("reason"), ttl=claims.get("ttl", 600), sub=claims.get("sub"),
        issuer=config.issuer, audience=config.audience,
    )
    return {"Authorization": f"Bearer {token}"}
