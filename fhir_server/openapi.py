"""The OpenAPI 3 document of the FHIR API (``GET /fhir/openapi.json``, no token), generated from
the sources the CapabilityStatement reads (``capability``: the catalog's types and interactions,
the search registry's parameters, ``operations.REGISTRY``, the SMART security block) so the two
cannot drift. Bodies are described loosely (a resource of the path's type; the server validates
against the R4 schema); every error is an OperationOutcome.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response

from . import capability
from . import http

bp = Blueprint("openapi", __name__)

OUTCOME = {"$ref": "#/components/schemas/OperationOutcome"}
ERRORS = {
    "4XX": {"description": "refused: an OperationOutcome says why", "content": {http.FHIR_JSON: {"schema": OUTCOME}}},
    "5XX": {
        "description": "the store is unavailable (503, Retry-After)",
        "content": {http.FHIR_JSON: {"schema": OUTCOME}},
    },
}
ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9\\-\\.]{1,64}$"},
}
VID = {"name": "vid", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9]{1,9}$"}}
COMMON = [
    {"name": "_count", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    {
        "name": "_summary",
        "in": "query",
        "schema": {"type": "string", "enum": ["true", "false", "count", "data", "text"]},
    },
    {"name": "_sort", "in": "query", "schema": {"type": "string"}},
    {"name": "_include", "in": "query", "schema": {"type": "string"}},
    {"name": "_revinclude", "in": "query", "schema": {"type": "string"}},
    {"name": "_elements", "in": "query", "schema": {"type": "string"}},
]
HISTORY_PARAMS = [
    {"name": "_count", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    {"name": "_since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
]
MODIFIERS = {"reference": ":identifier", "string": ":exact", "token": ":not"}


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": description, "content": {http.FHIR_JSON: {"schema": schema}}}, **ERRORS}


def _resource_schema(type_: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string", "enum": [type_]}, "id": {"type": "string"}},
    }


def _body(schema: dict[str, Any], mime: str = http.FHIR_JSON) -> dict[str, Any]:
    return {"required": True, "content": {mime: {"schema": schema}}}


def _search_params(resource: dict[str, Any]) -> list[dict[str, Any]]:
    out = [dict(p) for p in COMMON]
    taken = {p["name"] for p in out}
    for param in resource.get("searchParam", []):
        if param["name"] in taken:
            continue
        taken.add(param["name"])
        out.append(
            {
                "name": param["name"],
                "in": "query",
                "schema": {"type": "string"},
                "description": f"{param['type']} search parameter",
            }
        )
    return out


def _type_paths(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    type_ = resource["type"]
    codes = {i["code"] for i in resource["interaction"]}
    ref = {"$ref": f"#/components/schemas/{type_}"}
    bundle = {"$ref": "#/components/schemas/Bundle"}
    paths: dict[str, dict[str, Any]] = {}
    base, instance = f"/{type_}", f"/{type_}/{{id}}"

    def add(path: str, method: str, op: dict[str, Any]) -> None:
        op.setdefault("tags", [type_])
        paths.setdefault(path, {})[method] = op

    if "search-type" in codes:
        add(
            base,
            "get",
            {
                "operationId": f"search-{type_}",
                "summary": f"search {type_}",
                "parameters": _search_params(resource),
                "responses": _ok("a searchset Bundle", bundle),
            },
        )
    if "create" in codes:
        add(
            base,
            "post",
            {
                "operationId": f"create-{type_}",
                "requestBody": _body(ref),
                "responses": {
                    "201": {"description": "created", "content": {http.FHIR_JSON: {"schema": ref}}},
                    **ERRORS,
                },
            },
        )
    if "read" in codes:
        add(
            instance, "get", {"operationId": f"read-{type_}", "parameters": [ID], "responses": _ok("the resource", ref)}
        )
    if "update" in codes:
        add(
            instance,
            "put",
            {
                "operationId": f"update-{type_}",
                "parameters": [ID],
                "requestBody": _body(ref),
                "responses": {**_ok("updated", ref), "201": {"description": "created"}},
            },
        )
    if "patch" in codes:
        patch = {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["op", "path"],
                "properties": {
                    "op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]},
                    "path": {"type": "string"},
                    "value": {},
                },
            },
        }
        add(
            instance,
            "patch",
            {
                "operationId": f"patch-{type_}",
                "parameters": [ID],
                "requestBody": _body(patch, http.JSON_PATCH),
                "responses": _ok("patched", ref),
            },
        )
    if "delete" in codes:
        add(
            instance,
            "delete",
            {
                "operationId": f"delete-{type_}",
                "parameters": [ID],
                "responses": {"204": {"description": "deleted"}, "200": {"description": "deleted"}, **ERRORS},
            },
        )
    if "history-instance" in codes:
        add(
            f"{instance}/_history",
            "get",
            {
                "operationId": f"history-instance-{type_}",
                "parameters": [ID, *HISTORY_PARAMS],
                "responses": _ok("history", bundle),
            },
        )
    if "history-type" in codes:
        add(
            f"{base}/_history",
            "get",
            {"operationId": f"history-type-{type_}", "parameters": HISTORY_PARAMS, "responses": _ok("history", bundle)},
        )
    if "vread" in codes:
        add(
            f"{instance}/_history/{{vid}}",
            "get",
            {"operationId": f"vread-{type_}", "parameters": [ID, VID], "responses": _ok("that version", ref)},
        )
    for op in resource.get("operation", []):
        from .operations.registry import REGISTRY

        served = next((o for o in REGISTRY if o.code == op["name"] and o.applies_to(type_)), None)
        if served is None:  # Bulk Data export (fhir_server.export): Patient/$export, Group/{id}/$export
            path, params = (f"{instance}/${op['name']}", [ID]) if type_ == "Group" else (f"{base}/${op['name']}", [])
            add(
                path,
                "get",
                {
                    "operationId": f"{op['name']}-{type_}",
                    "summary": op["documentation"],
                    "externalDocs": {"url": op["definition"]},
                    "parameters": params,
                    "responses": {"202": {"description": "accepted: poll Content-Location"}},
                },
            )
            continue
        for level, path, params in (
            ("type", f"{base}/${served.code}", []),
            ("instance", f"{instance}/${served.code}", [ID]),
        ):
            if not getattr(served, f"{level}_level"):
                continue
            for method in served.methods:
                spec: dict[str, Any] = {
                    "operationId": f"{served.code}-{level}-{type_}-{method.lower()}",
                    "summary": served.documentation,
                    "externalDocs": {"url": served.definition},
                    "parameters": list(params),
                    "responses": _ok("the operation's result", {"type": "object"}),
                }
                if method == "POST":
                    spec["requestBody"] = {
                        "required": False,
                        "content": {http.FHIR_JSON: {"schema": {"$ref": "#/components/schemas/Parameters"}}},
                    }
                add(path, method.lower(), spec)
    return paths


def document(base: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document for the FHIR base ``base``."""
    statement = capability.statement(base)
    rest = statement["rest"][0]
    paths: dict[str, Any] = {
        "/metadata": {
            "get": {
                "operationId": "capabilities",
                "security": [],
                "tags": ["system"],
                "responses": _ok("the CapabilityStatement", {"type": "object"}),
            }
        },
        "/": {
            "post": {
                "operationId": "transaction-or-batch",
                "tags": ["system"],
                "requestBody": _body({"$ref": "#/components/schemas/Bundle"}),
                "responses": _ok("the response Bundle", {"$ref": "#/components/schemas/Bundle"}),
            }
        },
    }
    schemas: dict[str, Any] = {
        "OperationOutcome": {
            "type": "object",
            "required": ["resourceType", "issue"],
            "properties": {
                "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
                "issue": {"type": "array", "items": {"type": "object", "required": ["severity", "code"]}},
            },
        },
        "Bundle": {
            "type": "object",
            "required": ["resourceType", "type"],
            "properties": {
                "resourceType": {"type": "string", "enum": ["Bundle"]},
                "type": {
                    "type": "string",
                    "enum": ["transaction", "batch", "searchset", "history", "transaction-response", "batch-response"],
                },
                "entry": {"type": "array", "items": {"type": "object"}},
            },
        },
        "Parameters": _resource_schema("Parameters"),
    }
    for resource in rest["resource"]:
        schemas.setdefault(resource["type"], _resource_schema(resource["type"]))
        for path, methods in _type_paths(resource).items():
            paths.setdefault(path, {}).update(methods)
    token_url = base.removesuffix("/fhir") + "/auth/token"
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Carnet FHIR R4 API",
            "version": statement["software"]["version"],
            "description": rest["security"].get("description", "") + " " + rest.get("documentation", ""),
        },
        "servers": [{"url": base}],
        "security": [{"smart": []}],
        "components": {
            "securitySchemes": {
                "smart": {
                    "type": "oauth2",
                    "description": "SMART App Launch v2 / Backend Services",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": token_url,
                            "scopes": {"system/*.cruds": "every type, every interaction"},
                        }
                    },
                },
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
            "schemas": schemas,
        },
        "paths": paths,
    }


@bp.get("/fhir/openapi.json")
def openapi() -> Response:
    return http.respond(document(http.base_url()), mime="application/json")


def init_app(app: Any) -> None:
    app.register_blueprint(bp)
