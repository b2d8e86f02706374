"""The FHIR RESTful API (https://hl7.org/fhir/R4/http.html): one table of short routes that
parse the request, call ``interactions`` and shape the HTTP answer."""
from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request

from . import auth
from . import capability
from . import consent_state
from . import http
from . import interactions as fhir
from .access import Access
from .errors import BadRequest
from .errors import Gone
from .errors import issue
from .errors import operation_outcome
from .interactions import Outcome
from .storage import Store
from .storage import get_store

bp = Blueprint("fhir", __name__)
#: collections indexed at start; every other type's on its first write
CORE_TYPES = ("Patient", "DocumentReference", "AllergyIntolerance", "Consent", "RelatedPerson",
              "Practitioner", "PractitionerRole", "Organization", "AuditEvent")
PUBLIC_ENDPOINTS = {"fhir.metadata"}
#: request parameters that shape the response, not the search
RESPONSE_PARAMS = {"_format", "_pretty"}


def base_url() -> str:
    configured = current_app.config.get("BASE_URL")
    return configured.rstrip("/") if configured else request.host_url.rstrip("/") + "/fhir"


@bp.before_request
def authenticate() -> None:
    http.negotiate()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    requester = auth.authenticate_request()
    store = get_store()
    g.carnet_access = Access(consent_state.enrich(store.db, requester), store.db)


def search_params() -> list[tuple[str, str]]:
    pairs = [(k, v) for k, vs in request.args.lists() for v in vs if k not in RESPONSE_PARAMS]
    if request.method == "POST":
        pairs += [(k, v) for k, vs in request.form.lists() for v in vs if k not in RESPONSE_PARAMS]
    return pairs


def lenient() -> bool:
    return http.prefer("handling") == "lenient"


def criteria() -> list[tuple[str, str]]:
    """The search criteria of a conditional interaction (the query parameters)."""
    return [(k, v) for k, v in request.args.items(multi=True) if k not in RESPONSE_PARAMS]


def answer(outcome: Outcome) -> Response:
    """A write's response, shaped by Prefer: return=minimal | representation | OperationOutcome."""
    stored = outcome.stored
    if stored is None or stored.deleted:
        headers = {"ETag": f'W/"{stored.vid}"'} if stored else {}
        return http.respond(None, 204, headers)
    headers = http.version_headers(stored, base_url())
    wanted = http.prefer("return") or "representation"
    if wanted == "minimal":
        return http.respond(None, outcome.status, headers)
    if wanted == "OperationOutcome":
        text = f"{stored.type}/{stored.id} stored as version {stored.vid}"
        issues = [issue("information", "informational", text)] + outcome.warnings
        return http.respond(operation_outcome(issues), outcome.status, headers)
    return http.respond(stored.resource, outcome.status, headers)


@bp.get("/metadata")
def metadata() -> Response:
    return http.respond(capability.statement(base_url()))


@bp.get("/<resource_type>")
@bp.post("/<resource_type>/_search")
def search_type(resource_type: str) -> Response:
    if request.method == "POST" and request.mimetype != http.FORM:
        raise BadRequest(f"POST _search takes a form body ({http.FORM})")
    return http.respond(fhir.search([resource_type], search_params(), base_url(), lenient=lenient(),
                                    path=resource_type))


@bp.get("")
def search_system() -> Response:
    types = [t for v in request.args.getlist("_type") for t in v.split(",") if t]
    if not types:
        raise BadRequest("A system search needs _type (e.g. ?_type=Patient,Practitioner)")
    return http.respond(fhir.search(types, search_params(), base_url(), lenient=lenient(), path=""))


@bp.post("/<resource_type>")
def create(resource_type: str) -> Response:
    return answer(fhir.create(resource_type, http.body_json(), request.headers.get("If-None-Exist")))


@bp.get("/<resource_type>/<id_>")
def read(resource_type: str, id_: str) -> Response:
    try:
        stored = fhir.read(resource_type, id_)
    except Gone as gone:
        current = get_store().current(resource_type, id_)
        gone.headers.update({"ETag": f'W/"{current.vid}"'} if current else {})
        raise
    headers = http.version_headers(stored, base_url())
    del headers["Location"]
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and http.parse_etag(if_none_match, "If-None-Match") == stored.vid:
        return http.respond(None, 304, headers)
    return http.respond(stored.resource, 200, headers)


@bp.put("/<resource_type>/<id_>")
def update(resource_type: str, id_: str) -> Response:
    return answer(fhir.update(resource_type, id_, http.body_json(), http.if_match_version()))


@bp.patch("/<resource_type>/<id_>")
def patch(resource_type: str, id_: str) -> Response:
    operations = http.body_json((http.JSON_PATCH,))
    return answer(fhir.patch(resource_type, id_, operations, http.if_match_version()))


@bp.delete("/<resource_type>/<id_>")
def delete(resource_type: str, id_: str) -> Response:
    return answer(fhir.delete(resource_type, id_, http.if_match_version()))


@bp.put("/<resource_type>")
def conditional_update(resource_type: str) -> Response:
    return answer(fhir.conditional_update(resource_type, criteria(), http.body_json()))


@bp.patch("/<resource_type>")
def conditional_patch(resource_type: str) -> Response:
    operations = http.body_json((http.JSON_PATCH,))
    return answer(fhir.conditional_patch(resource_type, criteria(), operations))


@bp.delete("/<resource_type>")
def conditional_delete(resource_type: str) -> Response:
    return answer(fhir.conditional_delete(resource_type, criteria()))


@bp.get("/<resource_type>/<id_>/_history")
def history_instance(resource_type: str, id_: str) -> Response:
    return http.respond(fhir.history(resource_type, id_, base_url()))


@bp.get("/<resource_type>/_history")
def history_type(resource_type: str) -> Response:
    return http.respond(fhir.history(resource_type, None, base_url()))


@bp.get("/<resource_type>/<id_>/_history/<vid>")
def vread(resource_type: str, id_: str, vid: str) -> Response:
    try:
        version = fhir.vread(resource_type, id_, vid)
    except Gone as gone:
        gone.headers.update({"ETag": f'W/"{vid}"'})
        raise
    return http.respond(version.resource, 200, http.version_headers(version, base_url()))


def init_app(app: Flask, store: Store) -> None:
    for type_ in CORE_TYPES:
        store.ensure_indexes(type_)
    app.register_blueprint(bp, url_prefix="/fhir")
    auth.init_app(app)

