"""Builders and readers shared by the bundle and operation tests."""
from __future__ import annotations

from typing import Any

from flask import Flask

from fhir_server.storage import HISTORY
from fhir_server.storage import get_store

FHIR_JSON = {"Content-Type": "application/fhir+json"}


def bundle(kind: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def entry(method: str, url: str, resource: dict[str, Any] | None = None, full_url: str | None = None,
          **request: str) -> dict[str, Any]:
    out: dict[str, Any] = {"request": {"method": method, "url": url, **request}}
    if resource is not None:
        out["resource"] = resource
    if full_url is not None:
        out["fullUrl"] = full_url
    return out


def patient(family: str, identifier: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"resourceType": "Patient", "name": [{"family": family}], **extra}
    if identifier:
        body["identifier"] = [{"system": "urn:test", "value": identifier}]
    return body


def observation(subject: str, code: str = "8867-4", **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": subject}, **extra}


def post(client: Any, headers: dict[str, str], body: dict[str, Any], path: str = "/fhir") -> Any:
    return client.post(path, json=body, headers={**headers, **FHIR_JSON})


def snapshot(app: Flask) -> dict[str, list[Any]]:
    """Every stored document but the access traces (which a failed transaction adds), by collection."""
    with app.app_context():
        db = get_store().db
        out = {}
        for name in sorted(db.list_collection_names()):
            if name == "AuditEvent":
                continue
            query = {"type": {"$ne": "AuditEvent"}} if name == HISTORY else {}
            out[name] = sorted(db[name].find(query), key=lambda d: str(d["_id"]))
        return out


def location_id(response_entry: dict[str, Any]) -> str:
    return str(response_entry["response"]["location"].split("/")[1])
