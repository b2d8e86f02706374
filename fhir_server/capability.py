"""The CapabilityStatement, generated from the registries the server runs on so it cannot drift
(https://hl7.org/fhir/R4/capabilitystatement.html)."""

from __future__ import annotations

from typing import Any

import profiles
from search import registry as search_registry

from . import auth
from . import catalog
from . import http
from . import storage
from .operations import registry as operations

SOFTWARE = {"name": "Carnet", "version": "0.1.0"}
SYSTEM_INTERACTIONS = ("transaction", "batch", "search-system", "history-system")
#: Bulk Data Access v2 export operations (https://hl7.org/fhir/uv/bulkdata/), by level
BULK = "http://hl7.org/fhir/uv/bulkdata"
BULK_EXPORT = {
    "Patient": f"{BULK}/OperationDefinition/patient-export",
    "Group": f"{BULK}/OperationDefinition/group-export",
}
SMART_SECURITY = {
    "cors": False,
    "service": [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                    "code": "SMART-on-FHIR",
                }
            ]
        }
    ],
    "description": "Bearer JWT (SMART App Launch v2 scopes); consent decides every read and search.",
}


def _resource(entry: catalog.TypeEntry, reg: Any, supported: dict[str, list[str]]) -> dict[str, Any]:
    params = reg.params(entry.name)
    out: dict[str, Any] = {
        "type": entry.name,
        "interaction": [{"code": code} for code in entry.interactions],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": "update" in entry.interactions,
        "conditionalCreate": "create" in entry.interactions,
        "conditionalRead": "not-supported",
        "conditionalUpdate": "update" in entry.interactions,
        "conditionalDelete": "single" if "delete" in entry.interactions else "not-supported",
        "searchParam": [
            {"name": code, "type": p.type, **({"definition": p.url} if getattr(p, "url", None) else {})}
            for code, p in sorted(params.items())
        ],
    }
    served = [
        {"name": op.code, "definition": op.definition, "documentation": op.documentation}
        for op in operations.REGISTRY
        if op.applies_to(entry.name)
    ]
    if entry.name in BULK_EXPORT:
        served.append(
            {
                "name": "export",
                "definition": BULK_EXPORT[entry.name],
                "documentation": "Bulk Data export (Prefer: respond-async) of what the caller may search",
            }
        )
    if served:
        out["operation"] = served
    if entry.documentation:
        out["documentation"] = entry.documentation
    if supported.get(entry.name):
        out["supportedProfile"] = list(supported[entry.name])
    return out


NON_ATOMIC = (
    "WARNING: this server runs on a MongoDB deployment without multi-document transactions "
    "(ACCEPT_NON_ATOMIC_BUNDLES): a crash of the server during a transaction Bundle or a write can "
    "leave part of it stored. Transaction Bundles are all or nothing only while the server process lives."
)


def store_notes() -> dict[str, Any]:
    """What the CapabilityStatement must say about the store: non-atomic bundles, when accepted."""
    from flask import has_app_context

    if not has_app_context() or storage.is_atomic(storage.get_store()):
        return {}
    return {"documentation": NON_ATOMIC}


def statement(base_url: str) -> dict[str, Any]:
    reg = search_registry.load()
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-25",
        "kind": "instance",
        "software": SOFTWARE,
        "implementation": {"description": "Carnet FHIR R4 server", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": [http.FHIR_JSON, http.JSON, "json"],
        "patchFormat": [http.JSON_PATCH, http.FHIR_JSON],  # JSON Patch, and FHIRPath Patch (Parameters)
        "instantiates": [f"{BULK}/CapabilityStatement/bulk-data"],
        "rest": [
            {
                "mode": "server",
                **store_notes(),
                "security": {**SMART_SECURITY, **auth.security()},
                "resource": [_resource(e, reg, profiles.urls_by_type()) for e in catalog.load().types.values()],
                "interaction": [{"code": code} for code in SYSTEM_INTERACTIONS],
                "operation": [
                    {
                        "name": "export",
                        "definition": f"{BULK}/OperationDefinition/export",
                        "documentation": "Bulk Data system export (Prefer: respond-async)",
                    }
                ],
            }
        ],
    }
