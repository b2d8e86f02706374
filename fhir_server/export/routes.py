"""Bulk Data export HTTP (https://hl7.org/fhir/uv/bulkdata/export.html): kick-off
(``[base]/$export``, ``[base]/Patient/$export``, ``[base]/Group/[id]/$export``, GET or POST with
``Prefer: respond-async``) answers 202 with ``Content-Location``, the status URL; polling it answers
202 (``X-Progress``, ``Retry-After``) then 200 with the manifest; DELETE cancels and removes the
files. Status and files answer only to the bearer token that started the job (another token gets
404, as for a job that never was).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from flask import send_file

from search import registry as search_registry

from .. import audit
from .. import http
from .. import interactions
from .. import rest
from .. import searchset
from ..access import current_access
from ..errors import BadRequest
from ..errors import NotFound
from ..errors import operation_outcome
from ..operations.everything import compartment_types
from ..storage import get_store
from . import jobs

bp = Blueprint("export", __name__)
FORMATS = {"application/fhir+ndjson", "application/ndjson", "ndjson"}
PARAMS = {"_type", "_since", "_typeFilter", "_outputFormat", "_elements", "patient", "includeAssociatedData"}


bp.before_request(rest.authenticate)


def _token() -> str:
    header = request.headers.get("Authorization", "")
    return header.split(" ", 1)[1].strip() if " " in header else header


def _json(
    body: Any, status: int, headers: dict[str, str] | None = None, mimetype: str = "application/fhir+json"
) -> Response:
    return Response(orjson.dumps(body), status=status, headers=headers or {}, mimetype=mimetype)


def _pairs() -> list[tuple[str, str]]:
    pairs = list(request.args.items(multi=True))
    if request.method == "POST" and request.get_data(cache=True).strip():
        body = request.get_json(force=True, silent=True)
        for param in (body or {}).get("parameter") or []:
            value = next((v for k, v in param.items() if k.startswith("value")), None)
            if value is not None:
                pairs.append((str(param.get("name")), str(value)))
    return pairs


def _kick_off(kind: str, only: list[str] | None, patients: list[str] | None = None) -> Response:
    if "respond-async" not in request.headers.get("Prefer", ""):
        raise BadRequest("$export runs asynchronously: send Prefer: respond-async")
    pairs = _pairs()
    unknown = sorted({k for k, _ in pairs} - PARAMS)
    if unknown:
        raise BadRequest(f"Unknown $export parameter(s): {', '.join(unknown)}")
    values = {k: [v for kk, v in pairs if kk == k] for k in PARAMS}
    fmt = next(iter(values["_outputFormat"]), "application/fhir+ndjson")
    if fmt not in FORMATS:
        raise BadRequest(
            f"_outputFormat '{fmt}' is not supported (application/fhir+ndjson)", expression=["_outputFormat"]
        )
    if values["_elements"] or values["patient"] or values["includeAssociatedData"]:
        raise BadRequest("_elements, patient and includeAssociatedData are not supported")
    since = searchset.instant_bound(values["_since"][0], "_since") if values["_since"] else None
    jobs.type_filters(search_registry.load(), values["_typeFilter"])  # 400 now rather than in the job
    repo = get_store()
    wanted = [t for v in values["_type"] for t in v.split(",") if t]
    types = jobs.served_types(repo, wanted, only)
    access = current_access()
    jobs.sweep(current_app, repo)
    job = jobs.new_job(
        repo,
        kind=kind,
        requester=access.requester,
        token=_token(),
        types=types,
        since=since,
        type_filter=values["_typeFilter"],
        patients=patients,
        request_url=request.url,
        base_url=http.base_url(),
        retention_hours=float(current_app.config.get("EXPORT_RETENTION_HOURS", 24)),
    )
    audit.trace(access, "operation", None)
    jobs.ensure_worker(current_app._get_current_object())  # type: ignore[attr-defined]
    status_url = f"{http.base_url()}/$export-status/{job['_id']}"
    return Response(status=202, headers={"Content-Location": status_url})


@bp.route("/$export", methods=["GET", "POST"])
def export_system() -> Response:
    return _kick_off("system", None)


@bp.route("/Patient/$export", methods=["GET", "POST"])
def export_patients() -> Response:
    interactions.allow("Patient", "search-type")
    return _kick_off("patient", compartment_types())


@bp.route("/Group/<id_>/$export", methods=["GET", "POST"])
def export_group(id_: str) -> Response:
    interactions.allow("Group", "read")
    group = interactions.visible("Group", id_)
    members = [
        m.get("entity", {}).get("reference")
        for m in group.resource.get("member") or []
        if isinstance(m, dict) and not m.get("inactive")
    ]
    patients = sorted({m for m in members if isinstance(m, str) and m.startswith("Patient/")})
    return _kick_off("group", compartment_types(), patients)


def _own_job(job_id: str) -> dict[str, Any]:
    """The job, if the request's token started it and it has not expired (404 otherwise)."""
    repo = get_store()
    jobs.sweep(current_app, repo)
    job = jobs.jobs(repo).find_one({"_id": job_id})
    if job is None or job.get("owner") != jobs.digest(_token()):
        raise NotFound(f"No export job {job_id}")
    return job


@bp.route("/$export-status/<job_id>", methods=["GET"])
def status(job_id: str) -> Response:
    job = _own_job(job_id)
    if job["status"] in ("queued", "running"):
        jobs.ensure_worker(current_app._get_current_object())  # type: ignore[attr-defined]
        return Response(status=202, headers={"X-Progress": job.get("progress") or job["status"], "Retry-After": "1"})
    if job["status"] == "failed":
        text = "; ".join(e.get("message", "") for e in job.get("error") or []) or "the export failed"
        return _json(operation_outcome([{"severity": "error", "code": "exception", "diagnostics": text}]), 500)
    manifest = {
        "transactionTime": job["transactionTime"],
        "request": job["request"],
        "requiresAccessToken": True,
        "output": job.get("output") or [],
        "error": job.get("error") or [],
    }
    expires = job["expires"]
    return _json(manifest, 200, {"Expires": expires}, mimetype="application/json")


@bp.route("/$export-status/<job_id>", methods=["DELETE"])
def cancel(job_id: str) -> Response:
    _own_job(job_id)
    jobs.remove(current_app, get_store(), job_id)
    return Response(status=202)


@bp.route("/$export-file/<job_id>/<name>", methods=["GET"])
def file(job_id: str, name: str) -> Response:
    job = _own_job(job_id)
    if job["status"] != "complete" or not any(o["url"].endswith(f"/{job_id}/{name}") for o in job.get("output") or []):
        raise NotFound(f"No file {name} in export {job_id}")
    path = jobs.export_dir(current_app) / job_id / name
    return send_file(path, mimetype="application/fhir+ndjson", conditional=False)


def init_app(app: Flask) -> None:
    app.config.setdefault("EXPORT_RETENTION_HOURS", 24)
    app.register_blueprint(bp, url_prefix="/fhir")
    try:
        pending = jobs.jobs(get_store_of_app(app)).find_one({"status": {"$in": ["queued", "running"]}}) is not None
    except Exception:  # noqa: BLE001 -- no store to look in yet: the next $export starts the worker
        pending = False
    if pending:  # after a restart: take the unfinished jobs up again
        jobs.ensure_worker(app)


def get_store_of_app(app: Flask) -> Any:
    from ..storage import get_store_of

    return get_store_of(app)
