"""$validate on a type or an instance (https://hl7.org/fhir/R4/resource-operation-validate.html):
the resource as a body, or a Parameters with ``resource``, ``mode`` (create, update, delete) and
``profile``. Answers 200 with an OperationOutcome: every issue found, or one informational
"All OK". Nothing is stored.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from .. import interactions
from .. import validation
from ..access import current_access
from ..errors import BadRequest
from ..errors import issue
from ..errors import operation_outcome
from .definition import Call
from .definition import Operation

MODES = ("create", "update", "delete")


def _arguments(call: Call) -> tuple[Any, str | None, str | None]:
    """(resource, mode, profile): from a Parameters body, else the body is the resource (and the
    query gives mode and profile)."""
    body = call.body
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters" or call.resource_type == "Parameters":
        query = dict(call.query)
        return body, query.get("mode"), query.get("profile")
    resource = next((p.get("resource") for p in call.parameters() if p.get("name") == "resource"), None)
    return resource, call.first("mode"), call.first("profile")


def _deletable(call: Call, id_: str | None) -> list[dict[str, Any]]:
    """Issues of deleting ``id_``: unknown (as when hidden), or refused by consent."""
    if id_ is None:
        raise BadRequest("mode=delete needs an instance: POST [type]/[id]/$validate")
    interactions.allow(call.resource_type, "delete")
    current = interactions.visible(call.resource_type, id_)
    decision = current_access().write_decision(call.resource_type, "delete", current.acl, old_acl=current.acl)
    if decision.allowed:
        return []
    return [issue("error", "forbidden", f"Not allowed to delete {call.resource_type}/{id_}: {decision.rule}")]


def _resource_issues(call: Call, resource: Any, mode: str | None, profile: str | None) -> list[dict[str, Any]]:
    if resource is None:
        raise BadRequest("$validate needs a resource: the body, or a Parameters 'resource' parameter")
    type_ = call.resource_type
    issues = validation.validate(
        resource,
        type_,
        profiles=[profile] if profile else (),
        required_profiles=current_app.config["REQUIRED_PROFILES"],
    )
    if isinstance(resource, dict) and resource.get("resourceType") != type_:
        issues.insert(
            0,
            issue(
                "error",
                "invalid",
                f"resourceType '{resource.get('resourceType')}' is not {type_}",
                [f"{type_}.resourceType"],
            ),
        )
    if mode == "update" and isinstance(resource, dict):
        id_ = resource.get("id")
        if not id_:
            issues.append(issue("error", "required", "An update needs the resource's id", [f"{type_}.id"]))
        elif call.id is not None and id_ != call.id:
            issues.append(
                issue("error", "invalid", f"The resource's id '{id_}' is not the URL's '{call.id}'", [f"{type_}.id"])
            )
    return issues


def validate(call: Call) -> dict[str, Any]:
    resource, mode, profile = _arguments(call)
    if mode is not None and mode not in MODES:
        raise BadRequest(f"mode '{mode}' is not one of {', '.join(MODES)}", expression=["mode"])
    if mode == "delete":
        body_id = resource.get("id") if isinstance(resource, dict) else None
        issues = _deletable(call, call.id or body_id)
    else:
        issues = _resource_issues(call, resource, mode, profile)
    if not any(i["severity"] in ("fatal", "error", "warning") for i in issues):
        issues.append(issue("information", "informational", "All OK"))
    return operation_outcome(issues)


OPERATION = Operation(
    code="validate",
    definition="http://hl7.org/fhir/OperationDefinition/Resource-validate",
    handler=validate,
    documentation="Validates a resource (body or Parameters resource/mode/profile) against the R4 schema, "
    "the profiles claimed, asked for or required; mode delete checks the deletion is allowed.",
    type_level=True,
    instance_level=True,
)
