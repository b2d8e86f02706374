"""The portal's own OAuth client: public (PKCE, no secret), redirected to ``/portal/`` on
whatever origin serves the portal, holding patient-context scopes only."""

from __future__ import annotations

import contextlib
from typing import Any

from fhir_server.auth import accounts
from fhir_server.auth.accounts import Db
from fhir_server.storage import DuplicateKey

CLIENT_ID = "carnet-portal"
NAME = "Carnet — portail patient"
REDIRECT_PATH = "/portal/"
SCOPE = "openid fhirUser patient/*.cruds"


def document() -> dict[str, Any]:
    """The stored form of the portal client."""
    return accounts.client_doc(
        client_id=CLIENT_ID,
        secret=None,
        name=NAME,
        scope=SCOPE,
        redirect_uris=[REDIRECT_PATH],
        public=True,
    )


def register(db: Db) -> None:
    """Register the portal client, or bring it up to date; safe to run at every start, from
    several workers at once."""
    doc = document()
    current = db[accounts.CLIENTS].find_one({"_id": CLIENT_ID})
    if current is None:
        with contextlib.suppress(DuplicateKey):  # another worker registered it first
            accounts.insert_client(db, doc)
        return
    kept = {key: value for key, value in current.items() if key != "created"}
    if kept != {key: value for key, value in doc.items() if key != "created"}:
        db[accounts.CLIENTS].update_one({"_id": CLIENT_ID}, {"$set": {**doc, "created": current.get("created")}})
