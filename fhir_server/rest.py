"""The FHIR RESTful interactions (https://hl7.org/fhir/R4/http.html): one table of short handlers."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request

from search import registry as search_registry

from . import audit
from . import auth
from . import capability
from . import catalog
from . import consent_state
from . import history
from . import http
from . import jsonpatch
from . import searching
from .access import Access
from .errors import BadRequest
from .errors import Forbidden
from .errors import Gone
from .errors import NotFound
from .errors import PreconditionFailed
from .errors import issue
from .errors import operation_outcome
from .storage import Store
from .storage import Stored
from .storage import get_store
from . import validation

bp = Blueprint("fhir", __name__)
PUBLIC_ENDPOINTS = {"fhir.metadata"}
#: request parameters that shape the response, not the search
RESPONSE_PARAMS = {"_format", "_pretty"}


def base_url() -> str:
    configured = current_app.config.get("BASE_URL")
    return configured.rstrip("/") if configured else request.host_url.rstrip("/") + "/fhir"


def access() -> Access:
    return g.carnet_access  # type: ignore[no-any-return]


@bp.before_request
def authenticate() -> None:
    http.negotiate()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    requester = auth.authenticate_request()
    store = get_store()
    g.carnet_access = Access(consent_state.enrich(store.db, requester), store.db)


def allow(resource_type: str, interaction: str) -> None:
    """The type must be served with this interaction, and the token's scopes must allow it."""
    catalog.load().require(resource_type, interaction)
    auth.require(access().requester, resource_type, interaction)


def visible(resource_type: str, id_: str) -> Stored:
    """The current version if the caller may see it; 404 exactly as for an unknown id otherwise."""
    catalog.load().entry(resource_type)
    stored = get_store().current(resource_type, id_)
    if stored is None or not access().can_see(stored):
        raise NotFound(f"{resource_type}/{id_} is not known")
    return stored


def search_params() -> list[tuple[str, str]]:
    pairs = [(k, v) for k, vs in request.args.lists() for v in vs if k not in RESPONSE_PARAMS]
    if request.method == "POST":
        pairs += [(k, v) for k, vs in request.form.lists() for v in vs if k not in RESPONSE_PARAMS]
    return pairs


def lenient() -> bool:
    return http.prefer("handling") == "lenient"


def resource_body(resource_type: str) -> dict[str, Any]:
    body = http.body_json()
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object (a FHIR resource)")
    if body.get("resourceType") != resource_type:
        raise BadRequest(
            f"resourceType '{body.get('resourceType')}' does not match the URL's type '{resource_type}'",
            expression=[f"{resource_type}.resourceType"],
        )
    return body


def answer(stored: Stored, status: int, extra: list[dict[str, Any]] | None = None) -> Response:
    """A write's response, shaped by Prefer: return=minimal | representation | OperationOutcome."""
    headers = http.version_headers(stored, base_url())
    wanted = http.prefer("return") or "representation"
    if wanted == "minimal":
        return http.respond(None, status, headers)
    if wanted == "OperationOutcome":
        text = f"{stored.type}/{stored.id} stored as version {stored.vid}"
        return http.respond(operation_outcome([issue("information", "informational", text)] + (extra or [])), status, headers)
    return http.respond(stored.resource, status, headers)


def find_matches(resource_type: str, criteria: str) -> list[dict[str, Any]]:
    if not criteria.strip():
        raise BadRequest("A conditional interaction needs search criteria")
    return searching.find_matches(
        get_store().db, search_registry.load(), resource_type, criteria, access().policy_for, limit=2
    )


def check(body: dict[str, Any], resource_type: str) -> None:
    """422 with every issue when the resource breaks the R4 schema or a profile it must meet."""
    issues = validation.validate(
        body, resource_type, required_profiles=current_app.config["REQUIRED_PROFILES"]
    )
    validation.raise_for_issues(issues)
    g.carnet_warnings = [i for i in issues if i.get("severity") == "warning"]


# metadata -------------------------------------------------------------------------------------
@bp.get("/metadata")
def metadata() -> Response:
    return http.respond(capability.statement(base_url()))


# type level -----------------------------------------------------------------------------------
@bp.get("/<resource_type>")
@bp.post("/<resource_type>/_search")
def search_type(resource_type: str) -> Response:
    allow(resource_type, "search-type")
    if request.method == "POST" and request.mimetype != http.FORM:
        raise BadRequest(f"POST _search takes a form body ({http.FORM})")
    bundle = searching.search(
        get_store().db, search_registry.load(), [resource_type], search_params(),
        access().policy_for, base_url(), lenient=lenient(), path=resource_type,
    )
    audit.record(access(), "search", resource_type, bundle=bundle)
    return http.respond(bundle)


@bp.get("/")
@bp.get("")
def search_system() -> Response:
    types = [t for v in request.args.getlist("_type") for t in v.split(",") if t]
    if not types:
        raise BadRequest("A system search needs _type (e.g. ?_type=Patient,Practitioner)")
    for type_ in types:
        allow(type_, "search-type")
    bundle = searching.search(
        get_store().db, search_registry.load(), types, search_params(), access().policy_for,
        base_url(), lenient=lenient(), path="",
    )
    audit.record(access(), "search", None, bundle=bundle)
    return http.respond(bundle)


@bp.post("/<resource_type>")
def create(resource_type: str) -> Response:
    allow(resource_type, "create")
    body = resource_body(resource_type)
    body.pop("id", None)  # the server assigns ids on create (R4 http.html#create)
    check(body, resource_type)
    criteria = request.headers.get("If-None-Exist")
    if criteria is not None:
        matches = find_matches(resource_type, criteria)
        if len(matches) > 1:
            raise PreconditionFailed(f"If-None-Exist '{criteria}' matches several resources")
        if matches:
            existing = Stored.from_current(resource_type, matches[0])
            audit.record(access(), "read", resource_type, stored=existing)
            return answer(existing, 200)
    return write_new(resource_type, str(uuid.uuid4()), body, "POST")


def write_new(resource_type: str, id_: str, body: dict[str, Any], method: str) -> Response:
    store = get_store()
    _, acl = store.indexer(resource_type, {**body, "id": id_})
    decision = access().write_decision(resource_type, "create", acl)
    if not decision.allowed:
        raise Forbidden(f"Not allowed to create this {resource_type}: {decision.rule}")
    stored = store.write(resource_type, id_, body, method=method, expected_vid=0)
    audit.record(access(), "create", resource_type, stored=stored)
    return answer(stored, 201, consent_warnings(stored))


def consent_warnings(stored: Stored) -> list[dict[str, Any]]:
    """Warnings of a successful write: validation's, and a Consent blocking the attending physician."""
    consent = [issue("warning", "business-rule", text) for text in access().warnings(stored)]
    return list(g.get("carnet_warnings", [])) + consent


# instance level -------------------------------------------------------------------------------
@bp.get("/<resource_type>/<id_>")
def read(resource_type: str, id_: str) -> Response:
    allow(resource_type, "read")
    stored = visible(resource_type, id_)
    audit.record(access(), "read", resource_type, stored=stored)
    if stored.deleted:
        raise Gone(f"{resource_type}/{id_} was deleted", headers=http.version_headers(stored, base_url()))
    headers = http.version_headers(stored, base_url())
    headers.pop("Location")
    if request.headers.get("If-None-Match") and http.parse_etag(
        request.headers["If-None-Match"], "If-None-Match"
    ) == stored.vid:
        return http.respond(None, 304, headers)
    return http.respond(stored.resource, 200, headers)


@bp.put("/<resource_type>/<id_>")
def update(resource_type: str, id_: str) -> Response:
    allow(resource_type, "update")
    body = resource_body(resource_type)
    if body.get("id") != id_:
        raise BadRequest(
            f"The body's id '{body.get('id')}' must equal the URL's id '{id_}' (R4 http.html#update)",
            expression=[f"{resource_type}.id"],
        )
    check(body, resource_type)
    current = get_store().current(resource_type, id_)
    if current is None:
        if http.if_match_version() not in (None, 0):
            raise NotFound(f"{resource_type}/{id_} is not known")
        return write_new(resource_type, id_, body, "PUT")
    if not access().can_see(current):
        raise NotFound(f"{resource_type}/{id_} is not known")
    return replace(current, body, "PUT", "update")


def replace(
    current: Stored, body: dict[str, Any], method: str, interaction: str, patch: set[str] | None = None
) -> Response:
    store = get_store()
    _, acl = store.indexer(current.type, {**body, "id": current.id})
    decision = access().write_decision(
        current.type, interaction, acl, old_acl=current.acl, patch_paths=patch
    )
    if not decision.allowed:
        raise Forbidden(f"Not allowed to change {current.type}/{current.id}: {decision.rule}")
    expected = http.if_match_version()
    stored = store.write(current.type, current.id, body, method=method, expected_vid=expected)
    audit.record(access(), interaction, current.type, stored=stored)
    return answer(stored, 201 if current.deleted else 200, consent_warnings(stored))


@bp.patch("/<resource_type>/<id_>")
def patch(resource_type: str, id_: str) -> Response:
    allow(resource_type, "patch")
    operations = http.body_json((http.JSON_PATCH,))
    current = visible(resource_type, id_)
    if current.deleted:
        raise Gone(f"{resource_type}/{id_} was deleted")
    return apply_patch(current, operations)


def apply_patch(current: Stored, operations: Any) -> Response:
    body = jsonpatch.apply(current.resource, operations)
    if body.get("resourceType") != current.type or body.get("id") != current.id:
        raise BadRequest("A patch may not change resourceType or id")
    check(body, current.type)
    return replace(current, body, "PATCH", "patch", jsonpatch.touched_paths(operations))


@bp.delete("/<resource_type>/<id_>")
def delete(resource_type: str, id_: str) -> Response:
    allow(resource_type, "delete")
    current = visible(resource_type, id_)
    return remove(current)


def remove(current: Stored) -> Response:
    if current.deleted:
        return http.respond(None, 204)
    decision = access().write_decision(current.type, "delete", current.acl, old_acl=current.acl)
    if not decision.allowed:
        raise Forbidden(f"Not allowed to delete {current.type}/{current.id}: {decision.rule}")
    stored = get_store().write(
        current.type, current.id, None, method="DELETE", expected_vid=http.if_match_version()
    )
    audit.record(access(), "delete", current.type, stored=stored)
    return http.respond(None, 204, {"ETag": f'W/"{stored.vid}"'})


# conditional update / patch / delete (R4 http.html#cond-update) -------------------------------
def single_match(resource_type: str) -> Stored | None:
    matches = find_matches(resource_type, request.query_string.decode())
    if len(matches) > 1:
        raise PreconditionFailed(f"The criteria match several {resource_type} resources")
    return Stored.from_current(resource_type, matches[0]) if matches else None


@bp.put("/<resource_type>")
def conditional_update(resource_type: str) -> Response:
    allow(resource_type, "update")
    body = resource_body(resource_type)
    check(body, resource_type)
    match = single_match(resource_type)
    if match is None:
        if body.get("id") and get_store().current(resource_type, body["id"]) is not None:
            raise PreconditionFailed(f"{resource_type}/{body['id']} exists but does not match the criteria")
        return write_new(resource_type, body.get("id") or str(uuid.uuid4()), body, "PUT")
    if body.get("id") not in (None, match.id):
        raise BadRequest(f"The body's id '{body['id']}' differs from the matched resource")
    return replace(match, {**body, "id": match.id}, "PUT", "update")


@bp.patch("/<resource_type>")
def conditional_patch(resource_type: str) -> Response:
    allow(resource_type, "patch")
    operations = http.body_json((http.JSON_PATCH,))
    match = single_match(resource_type)
    if match is None:
        raise NotFound(f"No {resource_type} matches the criteria")
    return apply_patch(match, operations)


@bp.delete("/<resource_type>")
def conditional_delete(resource_type: str) -> Response:
    allow(resource_type, "delete")
    match = single_match(resource_type)
    if match is None:
        return http.respond(None, 204)
    return remove(match)


# history --------------------------------------------------------------------------------------
@bp.get("/<resource_type>/<id_>/_history")
def history_instance(resource_type: str, id_: str) -> Response:
    allow(resource_type, "history-instance")
    visible(resource_type, id_)
    bundle = history.bundle(access(), base_url(), resource_type, id_)
    audit.record(access(), "history", resource_type, bundle=bundle)
    return http.respond(bundle)


@bp.get("/<resource_type>/_history")
def history_type(resource_type: str) -> Response:
    allow(resource_type, "history-type")
    bundle = history.bundle(access(), base_url(), resource_type, None)
    audit.record(access(), "history", resource_type, bundle=bundle)
    return http.respond(bundle)


@bp.get("/<resource_type>/<id_>/_history/<vid>")
def vread(resource_type: str, id_: str, vid: str) -> Response:
    allow(resource_type, "vread")
    visible(resource_type, id_)
    version = get_store().version(resource_type, id_, int(vid)) if vid.isdigit() else None
    if version is None or not access().can_see(version):
        raise NotFound(f"{resource_type}/{id_}/_history/{vid} is not known")
    audit.record(access(), "vread", resource_type, stored=version)
    headers = http.version_headers(version, base_url())
    if version.deleted:
        raise Gone(f"{resource_type}/{id_} version {vid} is a deletion", headers=headers)
    return http.respond(version.resource, 200, headers)


def init_app(app: Flask, store: Store) -> None:
    types = list(catalog.load().types)
    store.ensure_indexes(types, searching.index_plan(search_registry.load(), types))
    app.register_blueprint(bp, url_prefix="/fhir")
    auth.init_app(app)
