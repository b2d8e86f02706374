"""The FHIR RESTful API (https://hl7.org/fhir/R4/http.html): one table of short routes that
parse the request, call ``interactions`` and shape the HTTP answer."""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import g
from flask import request

from . import auth
from . import binary_routes
from . import capability
from . import consent_loader
from . import entry_routes
from . import http
from . import interactions as fhir
from .access import Access
from .dmp.emergency import Asked
from .dmp.emergency import asked_by_request
from .entry_routes import Answer
from .errors import BadRequest
from .errors import Gone
from .errors import operation_outcome
from .interactions import Outcome
from .storage import get_store

bp = Blueprint("fhir", __name__)
PUBLIC_ENDPOINTS = {"fhir.metadata", "dmp.access_matrix"}
#: endpoints answering other media than FHIR JSON, whatever the Accept: a Binary's bytes, export files
RAW_ENDPOINTS = {"fhir.binary_read", "fhir.binary_vread", "export.file"}


def authenticate() -> None:
    """The one auth hook, on every blueprint of the API: media type first (406), then the caller
    (401 without a valid token) except on the public endpoints."""
    if request.endpoint not in RAW_ENDPOINTS:
        http.negotiate()
    if request.endpoint not in PUBLIC_ENDPOINTS:
        bind_access()


def bind_access(asked: Asked | None = None) -> None:
    """Bind the caller's consent decisions (``Access``) to this request, states loaded afresh;
    emergency windows open on the records ``asked`` names (default: what the request asks)."""
    store = get_store()
    requester = auth.authenticate_request()
    g.carnet_access = Access(
        consent_loader.enrich(store, requester), store, asked=asked if asked is not None else asked_by_request()
    )


bp.before_request(authenticate)


def search_params() -> list[tuple[str, str]]:
    pairs = [(k, v) for k, vs in request.args.lists() for v in vs if k not in http.RESPONSE_PARAMS]
    if request.method == "POST":
        pairs += [(k, v) for k, vs in request.form.lists() for v in vs if k not in http.RESPONSE_PARAMS]
    return pairs


def criteria() -> list[tuple[str, str]]:
    """The search criteria of a conditional interaction (the query parameters)."""
    return [(k, v) for k, v in request.args.items(multi=True) if k not in http.RESPONSE_PARAMS]


def reply(result: Answer) -> Response:
    """The HTTP response of a read-only interaction's answer."""
    return http.respond(result.body, result.status, result.headers)


def answer(outcome: Outcome) -> Response:
    """A write's response, shaped by Prefer: return=minimal | representation | OperationOutcome."""
    stored = outcome.stored
    if stored is None or stored.deleted:
        headers = {"ETag": f'W/"{stored.vid}"'} if stored else {}
        return http.respond(None, 204, headers)
    headers = http.version_headers(stored, http.base_url())
    wanted = http.prefer_return()
    if wanted == "minimal":
        return http.respond(None, outcome.status, headers)
    if wanted == "OperationOutcome":
        issues = [http.stored_issue(stored), *outcome.warnings]
        return http.respond(operation_outcome(issues), outcome.status, headers)
    return http.respond(stored.resource, outcome.status, headers)


@bp.get("/metadata")
def metadata() -> Response:
    return http.respond(capability.statement(http.base_url()))


@bp.get("/<resource_type>")
@bp.post("/<resource_type>/_search")
def search_type(resource_type: str) -> Response:
    if request.method == "POST" and request.mimetype != http.FORM:
        raise BadRequest(f"POST _search takes a form body ({http.FORM})")
    return http.respond(
        fhir.search([resource_type], search_params(), http.base_url(), lenient=http.lenient(), path=resource_type)
    )


@bp.get("")
def search_system() -> Response:
    return reply(entry_routes.search_system(search_params(), http.base_url()))


@bp.post("/<resource_type>")
def create(resource_type: str) -> Response:
    return answer(fhir.create(resource_type, http.body_json(), request.headers.get("If-None-Exist")))


@bp.get("/<resource_type>/<id_>")
def read(resource_type: str, id_: str) -> Response:
    try:
        return reply(entry_routes.read(resource_type, id_, http.base_url(), request.headers.get("If-None-Match")))
    except Gone as gone:
        current = get_store().current(resource_type, id_)
        gone.headers.update({"ETag": f'W/"{current.vid}"'} if current else {})
        raise


@bp.put("/<resource_type>/<id_>")
def update(resource_type: str, id_: str) -> Response:
    return answer(fhir.update(resource_type, id_, http.body_json(), http.if_match_version()))


@bp.patch("/<resource_type>/<id_>")
def patch(resource_type: str, id_: str) -> Response:
    return answer(fhir.patch(resource_type, id_, http.json_patch_body(), http.if_match_version()))


@bp.delete("/<resource_type>/<id_>")
def delete(resource_type: str, id_: str) -> Response:
    return answer(fhir.delete(resource_type, id_, http.if_match_version()))


@bp.put("/<resource_type>")
def conditional_update(resource_type: str) -> Response:
    return answer(fhir.conditional_update(resource_type, criteria(), http.body_json()))


@bp.patch("/<resource_type>")
def conditional_patch(resource_type: str) -> Response:
    return answer(fhir.conditional_patch(resource_type, criteria(), http.json_patch_body()))


@bp.delete("/<resource_type>")
def conditional_delete(resource_type: str) -> Response:
    return answer(fhir.conditional_delete(resource_type, criteria()))


@bp.get("/_history")
def history_system() -> Response:
    return http.respond(fhir.system_history(http.base_url()))


@bp.get("/<resource_type>/<id_>/_history")
def history_instance(resource_type: str, id_: str) -> Response:
    return http.respond(fhir.history(resource_type, id_, http.base_url()))


@bp.get("/<resource_type>/_history")
def history_type(resource_type: str) -> Response:
    return http.respond(fhir.history(resource_type, None, http.base_url()))


@bp.post("/Binary")
def binary_create() -> Response:
    return answer(binary_routes.upload(None))


@bp.put("/Binary/<id_>")
def binary_update(id_: str) -> Response:
    return answer(binary_routes.upload(id_))


@bp.get("/Binary/<id_>")
def binary_read(id_: str) -> Response:
    return binary_routes.read(id_, None, http.base_url())


@bp.get("/Binary/<id_>/_history/<vid>")
def binary_vread(id_: str, vid: str) -> Response:
    return binary_routes.read(id_, vid, http.base_url())


@bp.get("/<resource_type>/<id_>/_history/<vid>")
def vread(resource_type: str, id_: str, vid: str) -> Response:
    try:
        return reply(entry_routes.vread(resource_type, id_, vid, http.base_url()))
    except Gone as gone:
        gone.headers.update({"ETag": f'W/"{vid}"'})
        raise


def init_app(app: Flask) -> None:
    app.register_blueprint(bp, url_prefix="/fhir")
    auth.init_app(app)
