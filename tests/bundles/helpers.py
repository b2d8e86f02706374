"""Builders and readers shared by the bundle and operation tests."""

from __future__ import annotations

from typing import Any

from flask import Flask

from fhir_server.storage import get_store
from fhir_server.storage import no_policy
from search.plan import TRUE

FHIR_JSON = {"Content-Type": "application/fhir+json"}


def bundle(kind: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def entry(
    method: str, url: str, resource: dict[str, Any] | None = None, full_url: str | None = None, **request: str
) -> dict[str, Any]:
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
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": subject},
        **extra,
    }


def post(client: Any, headers: dict[str, str], body: dict[str, Any], path: str = "/fhir") -> Any:
    return client.post(path, json=body, headers={**headers, **FHIR_JSON})


def snapshot(app: Flask) -> dict[str, list[Any]]:
    """Every stored version and current resource (deleted ones included) but the access traces
    (which a failed transaction adds), by type, plus the history."""
    with app.app_context():
        store = get_store()
        _, versions = store.history(None, None, None, no_policy, 0, 10**6)
        versions = [v for v in versions if v.type != "AuditEvent"]
        out: dict[str, list[Any]] = {
            "history": sorted((v.type, v.id, v.vid, v.ts, v.deleted, v.method, v.resource, v.acl) for v in versions),
        }
        for name in store.types():
            if name == "AuditEvent":
                continue
            out[name] = sorted((s.id, s.vid, s.ts, s.resource, s.acl) for s in store.find(name, TRUE, no_policy))
        current = [store.current(t, i) for t, i in sorted({(v.type, v.id) for v in versions})]
        out["current"] = [(s.type, s.id, s.vid, s.ts, s.deleted, s.resource, s.acl) for s in current if s]
        actors = sorted({a for v in versions for a in v.acl.get("actors") or ()})
        out["links"] = sorted(store.linked_records(actors))
        return out


def location_id(response_entry: dict[str, Any]) -> str:
    return str(response_entry["response"]["location"].split("/")[1])
