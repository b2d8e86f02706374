"""The FHIR interactions with explicit arguments, shared by the REST routes and bundle entries.

Each takes what the request said (body, If-Match, criteria…) and returns an ``Outcome`` or raises
a FHIRError; HTTP shaping (headers, Prefer) is the caller's. Consent and scopes are checked here,
so a bundle entry is judged exactly as the same request sent alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import current_app

from search import registry as search_registry

from . import audit
from . import auth
from . import binary
from . import catalog
from . import consent_rules
from . import jsonpatch
from . import mhd
from . import references
from . import searchset
from . import validation
from .access import current_access
from .errors import BadRequest
from .errors import Forbidden
from .errors import Gone
from .errors import NotFound
from .errors import PreconditionFailed
from .errors import issue
from .history import bundle as history_bundle
from .history import system_bundle as history_system_bundle
from .storage import Stored
from .storage import get_store


@dataclass(frozen=True)
class Outcome:
    """What a write did: the HTTP status, the version stored, non-blocking issues."""

    status: int
    stored: Stored | None
    warnings: list[dict[str, Any]] = field(default_factory=list)


def allow(resource_type: str, interaction: str) -> None:
    """The type must be served with this interaction, and the token's scopes must allow it."""
    catalog.load().require(resource_type, interaction)
    auth.require(current_access().requester, resource_type, interaction)


def visible(resource_type: str, id_: str) -> Stored:
    """The current version if the caller may see it; 404 exactly as for an unknown id otherwise."""
    catalog.load().entry(resource_type)
    stored = get_store().current(resource_type, id_)
    if stored is None or not current_access().can_see(stored):
        raise NotFound(f"{resource_type}/{id_} is not known")
    return stored


def check(body: Any, resource_type: str) -> list[dict[str, Any]]:
    """Validate a resource body for ``resource_type``: 400 for the wrong shape or type, 422 with
    every issue when it breaks the R4 schema or a required profile; returns the warnings."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object (a FHIR resource)")
    if body.get("resourceType") != resource_type:
        raise BadRequest(
            f"resourceType '{body.get('resourceType')}' does not match the URL's type '{resource_type}'",
            expression=[f"{resource_type}.resourceType"],
        )
    issues = validation.validate(body, resource_type, required_profiles=current_app.config["REQUIRED_PROFILES"])
    validation.raise_for_issues(issues)
    return [i for i in issues if i.get("severity") == "warning"]


def admit(resource_type: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A valid body as every write takes it before the consent decision: its references resolved
    (412/422, ``references``) and a Consent's checks passed (422, ``consent_rules``); returns the
    resolved body and the issues to answer."""
    body = references.resolve(resource_type, body)
    return body, consent_rules.notes(resource_type, body)


#: conditional criteria: a query string (bundle entries) or parameter pairs (REST)
Criteria = str | list[tuple[str, str]]


def matches(resource_type: str, criteria: Criteria) -> list[Stored]:
    """Resources the caller may see that match ``criteria`` (at most 2: enough to tell 0, 1, many)."""
    if not criteria or (isinstance(criteria, str) and not criteria.strip()):
        raise BadRequest("A conditional interaction needs search criteria")
    return searchset.find_matches(current_access().store, search_registry.load(), resource_type, criteria, limit=2)


def single_match(resource_type: str, criteria: Criteria) -> Stored | None:
    found = matches(resource_type, criteria)
    if len(found) > 1:
        raise PreconditionFailed(f"The criteria '{criteria}' match several {resource_type} resources")
    return found[0] if found else None


def read(resource_type: str, id_: str) -> Stored:
    allow(resource_type, "read")
    stored = visible(resource_type, id_)
    audit.trace(current_access(), "read", resource_type, stored=stored)
    if stored.deleted:
        raise Gone(f"{resource_type}/{id_} was deleted")
    return stored


def vread(resource_type: str, id_: str, vid: str) -> Stored:
    allow(resource_type, "vread")
    visible(resource_type, id_)
    version = get_store().version(resource_type, id_, int(vid)) if vid.isdigit() else None
    if version is None or not current_access().can_see(version):
        raise NotFound(f"{resource_type}/{id_}/_history/{vid} is not known")
    audit.trace(current_access(), "vread", resource_type, stored=version)
    if version.deleted:
        raise Gone(f"{resource_type}/{id_} version {vid} is a deletion")
    return version


def create(
    resource_type: str, body: Any, if_none_exist: str | None = None, id_: str | None = None, content: Any = None
) -> Outcome:
    """Create (server-assigned id unless ``id_``); with If-None-Exist, 200 with the one match.
    ``content``: a Binary's raw content (``binary.Content``), else taken from its ``data``."""
    allow(resource_type, "create")
    warnings = check(body, resource_type)
    if if_none_exist is not None:
        existing = single_match(resource_type, if_none_exist)
        if existing is not None:
            audit.trace(current_access(), "read", resource_type, stored=existing)
            return Outcome(200, existing)
    body = {k: v for k, v in body.items() if k != "id"}  # the server assigns ids (R4 http.html#create)
    body, notes = admit(resource_type, body)
    warnings += notes
    return _write_new(resource_type, id_ or str(uuid.uuid4()), body, "POST", warnings, content)


def _write_new(
    resource_type: str, id_: str, body: dict[str, Any], method: str, warnings: list[dict[str, Any]], content: Any = None
) -> Outcome:
    store = get_store()
    body, taken = binary.prepare(resource_type, body, None)
    _, acl = store.index(resource_type, {**body, "id": id_})
    decision = current_access().write_decision(resource_type, "create", acl)
    if not decision.allowed:
        raise Forbidden(f"Not allowed to create this {resource_type}: {decision.rule}")
    stored = _traced_write("create", resource_type, id_, body, method, 0, content or taken)
    return Outcome(201, stored, warnings + _consent_warnings(stored))


def _traced_write(
    interaction: str,
    resource_type: str,
    id_: str,
    body: dict[str, Any] | None,
    method: str,
    expected_vid: int | None,
    content: Any = None,
) -> Stored:
    """Store the next version, its content (a Binary's) and its access trace in one transaction:
    all, or none."""
    store = get_store()
    with store.atomic():
        stored = store.write(resource_type, id_, body, method=method, expected_vid=expected_vid)
        if content is not None:
            binary.store_content(stored, content)
        mhd.supersede(stored)
        audit.trace(current_access(), interaction, resource_type, stored=stored)
    return stored


def _consent_warnings(stored: Stored) -> list[dict[str, Any]]:
    return [issue("warning", "business-rule", text) for text in current_access().warnings(stored)]


def update(resource_type: str, id_: str, body: Any, if_match: int | None = None, content: Any = None) -> Outcome:
    """PUT: update, or create with the client's id (R4 http.html#update)."""
    allow(resource_type, "update")
    warnings = check(body, resource_type)
    if body.get("id") != id_:
        raise BadRequest(
            f"The body's id '{body.get('id')}' must equal the URL's id '{id_}' (R4 http.html#update)",
            expression=[f"{resource_type}.id"],
        )
    body, notes = admit(resource_type, body)
    warnings += notes
    current = get_store().current(resource_type, id_)
    if current is None:
        if if_match not in (None, 0):
            raise NotFound(f"{resource_type}/{id_} is not known")
        return _write_new(resource_type, id_, body, "PUT", warnings, content)
    if not current_access().can_see(current):
        raise NotFound(f"{resource_type}/{id_} is not known")
    return _replace(current, body, "PUT", "update", if_match, warnings, content=content)


def conditional_update(resource_type: str, criteria: Criteria, body: Any) -> Outcome:
    allow(resource_type, "update")
    warnings = check(body, resource_type)
    body, notes = admit(resource_type, body)
    warnings += notes
    match = single_match(resource_type, criteria)
    if match is None:
        if body.get("id") and get_store().current(resource_type, body["id"]) is not None:
            raise PreconditionFailed(f"{resource_type}/{body['id']} does not match the criteria '{criteria}'")
        return _write_new(resource_type, body.get("id") or str(uuid.uuid4()), body, "PUT", warnings)
    if body.get("id") not in (None, match.id):
        raise BadRequest(f"The body's id '{body['id']}' differs from the matched resource's")
    return _replace(match, {**body, "id": match.id}, "PUT", "update", None, warnings)


def _replace(
    current: Stored,
    body: dict[str, Any],
    method: str,
    interaction: str,
    if_match: int | None,
    warnings: list[dict[str, Any]],
    patch: set[str] | None = None,
    content: Any = None,
) -> Outcome:
    store = get_store()
    body, taken = binary.prepare(current.type, body, current)
    _, acl = store.index(current.type, {**body, "id": current.id})
    decision = current_access().write_decision(current.type, interaction, acl, old_acl=current.acl, patch_paths=patch)
    if not decision.allowed:
        raise Forbidden(f"Not allowed to change {current.type}/{current.id}: {decision.rule}")
    stored = _traced_write(interaction, current.type, current.id, body, method, if_match, content or taken)
    return Outcome(201 if current.deleted else 200, stored, warnings + _consent_warnings(stored))


def patch(resource_type: str, id_: str, operations: Any, if_match: int | None = None) -> Outcome:
    allow(resource_type, "patch")
    current = visible(resource_type, id_)
    return _patch(current, operations, if_match)


def conditional_patch(resource_type: str, criteria: Criteria, operations: Any) -> Outcome:
    allow(resource_type, "patch")
    match = single_match(resource_type, criteria)
    if match is None:
        raise NotFound(f"No {resource_type} matches the criteria '{criteria}'")
    return _patch(match, operations, None)


def _patch(current: Stored, operations: Any, if_match: int | None) -> Outcome:
    if current.deleted:
        raise Gone(f"{current.type}/{current.id} was deleted")
    from . import fhirpatch

    # FHIRPath Patch (a Parameters resource) or JSON Patch (an array)
    kind = fhirpatch if isinstance(operations, dict) and operations.get("resourceType") == "Parameters" else jsonpatch
    body = kind.apply(current.resource, operations)
    if body.get("resourceType") != current.type or body.get("id") != current.id:
        raise BadRequest("A patch may not change resourceType or id")
    warnings = check(body, current.type)
    body, notes = admit(current.type, body)
    warnings += notes
    return _replace(current, body, "PATCH", "patch", if_match, warnings, kind.touched_paths(operations))


def delete(resource_type: str, id_: str, if_match: int | None = None) -> Outcome:
    allow(resource_type, "delete")
    return _remove(visible(resource_type, id_), if_match)


def conditional_delete(resource_type: str, criteria: Criteria) -> Outcome:
    allow(resource_type, "delete")
    match = single_match(resource_type, criteria)
    return Outcome(204, None) if match is None else _remove(match, None)


def _remove(current: Stored, if_match: int | None) -> Outcome:
    if current.deleted:
        return Outcome(204, None)
    decision = current_access().write_decision(current.type, "delete", current.acl, old_acl=current.acl)
    if not decision.allowed:
        raise Forbidden(f"Not allowed to delete {current.type}/{current.id}: {decision.rule}")
    stored = _traced_write("delete", current.type, current.id, None, "DELETE", if_match)
    return Outcome(204, stored)


def history(resource_type: str, id_: str | None, base_url: str) -> dict[str, Any]:
    """Instance history (``id_``) or type history, consent-filtered, audited."""
    allow(resource_type, "history-type" if id_ is None else "history-instance")
    if id_ is not None:
        visible(resource_type, id_)
    bundle, versions = history_bundle(current_access(), base_url, resource_type, id_)
    audit.trace(current_access(), "history", resource_type, items=[v for v in versions if not v.deleted])
    return bundle


def system_history(base_url: str) -> dict[str, Any]:
    """``GET [base]/_history``, consent-filtered per type in the query, audited."""
    bundle, versions = history_system_bundle(current_access(), base_url)
    audit.trace(current_access(), "history", None, items=[v for v in versions if not v.deleted])
    return bundle


def search(
    resource_types: list[str], params: list[tuple[str, str]], base_url: str, *, lenient: bool, path: str
) -> dict[str, Any]:
    """A searchset Bundle over what the caller may see (the policy is inside the query)."""
    for type_ in resource_types:
        allow(type_, "search-type")
    if len(resource_types) == 1:
        confined = searchset.confined_records(search_registry.load(), resource_types[0], params)
        if confined is not None:
            current_access().confine(confined)
    bundle, found = searchset.search(
        current_access().store,
        search_registry.load(),
        resource_types,
        params,
        base_url,
        lenient=lenient,
        path=path,
        default_count=current_app.config["DEFAULT_COUNT"],
        max_count=current_app.config["MAX_COUNT"],
        now=current_access().now,
    )
    audit.trace(current_access(), "search", resource_types[0] if len(resource_types) == 1 else None, items=found)
    return bundle
