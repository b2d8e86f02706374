"""Bulk Data export jobs (https://hl7.org/fhir/uv/bulkdata/export.html): their records and the
background worker that runs them.

A job is a document of the store's ``export_jobs`` collection, so it survives a restart: its kind
(system, patient, group), the caller (the Requester as data; the consent states and the directory
are re-read when the job runs, never cached), a digest of the caller's bearer token (files and
status answer only to it), the types, ``_since``, ``_typeFilter`` plans, and its progress. The
worker is a daemon thread of the server process: it claims queued jobs (or those whose worker
stopped beating), runs each type's query page by page under the caller's policy (the same query a
search runs) and appends each page to ``DATA_DIR/exports/<job>/<Type>.ndjson``: nothing holds the
whole export in memory. Jobs and their files expire after ``EXPORT_RETENTION_HOURS``.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
import uuid
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from consent.predicate import DENY
from consent.predicate import AnyOf
from consent.predicate import Empty
from consent.predicate import Not
from consent.predicate import Predicate
from consent.requester import Requester
from search import compile as compiler
from search import registry as search_registry
from search.errors import SearchError
from search.parse import criterion
from search.plan import Attr
from search.plan import Cmp
from search.plan import Column
from search.plan import Where
from search.plan import and_
from search.plan import or_

from .. import audit
from .. import auth
from .. import catalog
from .. import clock
from .. import consent_loader
from ..access import Access
from ..errors import BadRequest
from ..storage import Documents
from ..storage import Repository
from ..storage import Scoped
from ..storage import get_store_of

JOBS = "export_jobs"
#: types exported only when ``_type`` names them
ON_REQUEST = {"AuditEvent"}
#: resources per query page (and per file append)
PAGE = 500
#: a running job whose worker has not beaten for this long is taken over (the server restarted)
STALE_SECONDS = 60.0
#: the worker thread stops after this long without work (it is started again on demand)
IDLE_SECONDS = 2.0
POLL_SECONDS = 0.2

_workers: dict[int, threading.Thread] = {}
_workers_lock = threading.Lock()


def jobs(repo: Repository) -> Documents:
    return repo.documents(JOBS)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def export_dir(app: Flask) -> Path:
    return Path(app.config["DATA_DIR"]) / "exports"


def requester_data(requester: Requester) -> dict[str, Any]:
    """The caller as stored with the job: who they are and their token's claims, not what the
    directory said then (identities, profession and emergency windows are looked up again)."""
    data = asdict(requester)
    data["scopes"] = sorted(requester.scopes)
    for derived in ("identities", "emergency_records"):
        data.pop(derived, None)
    return data


def type_filters(registry: Any, values: list[str]) -> dict[str, list[Where]]:
    """``_typeFilter`` (``Type?criteria``, several: OR) as plans per type."""
    from urllib.parse import parse_qsl

    out: dict[str, list[Where]] = {}
    for value in values:
        for one in value.split(","):
            type_, _, query = one.partition("?")
            if not type_ or not query:
                raise BadRequest(f"_typeFilter '{one}' is not Type?criteria", expression=["_typeFilter"])
            try:
                crit = tuple(criterion(registry, type_, k, v) for k, v in parse_qsl(query, keep_blank_values=True))
                out.setdefault(type_, []).append(compiler.compile_criteria(registry, type_, crit, now=clock.now()))
            except SearchError as exc:
                raise BadRequest(f"_typeFilter '{one}': {exc}", expression=["_typeFilter"]) from None
    return out


def new_job(
    repo: Repository,
    *,
    kind: str,
    requester: Requester,
    token: str,
    types: list[str],
    since: str | None,
    type_filter: list[str],
    patients: list[str] | None,
    request_url: str,
    base_url: str,
    retention_hours: float,
) -> dict[str, Any]:
    now = clock.now()
    stamp = clock.instant(now)
    job = {
        "_id": uuid.uuid4().hex,
        "kind": kind,
        "status": "queued",
        "requester": requester_data(requester),
        "owner": digest(token),
        "types": types,
        "since": since,
        "typeFilter": type_filter,
        "patients": patients,
        "request": request_url,
        "base": base_url,
        "transactionTime": stamp,
        "created": stamp,
        "expires": clock.instant(now + timedelta(hours=retention_hours)),
        "progress": "queued",
        "output": [],
        "error": [],
        "beat": 0.0,
    }
    jobs(repo).insert_many([job])
    return job


def _access(app: Flask, repo: Repository, job: dict[str, Any]) -> Access:
    """The job caller's consent decisions, states and directory read now."""
    data = dict(job["requester"])
    data["scopes"] = frozenset(data.get("scopes") or ())
    requester = consent_loader.enrich(repo, Requester(**data))
    return Access(requester, repo)


def scoped_for(access: Access) -> Scoped:
    """The caller's store, the types their scopes do not open to search reading as empty."""
    requester = access.requester

    def policy_for(resource_type: str) -> Predicate:
        if not auth.allows(requester.scopes, requester.kind, resource_type, "search-type"):
            return DENY
        return access.policy_for(resource_type)

    return Scoped(access.repo, policy_for)


def _plan(job: dict[str, Any], type_: str, filters: dict[str, list[Where]]) -> Where:
    terms: list[Where] = [Column("ts", Cmp("", "le", job["transactionTime"]))]
    if job["since"]:
        terms.append(Column("ts", Cmp("", "ge", job["since"])))
    if job["kind"] == "patient":
        terms.append(Attr(Not(Empty("patients"))))
    elif job["kind"] == "group":
        terms.append(Attr(AnyOf("patients", tuple(job["patients"] or ()))))
    if type_ in filters:
        terms.append(or_(*filters[type_]))
    return and_(*terms)


def run(app: Flask, repo: Repository, job: dict[str, Any]) -> None:
    """Write the job's files, type by type, page by page (keyset on id); stop when cancelled."""
    records = jobs(repo)
    folder = export_dir(app) / job["_id"]
    folder.mkdir(parents=True, exist_ok=True)
    # a request context of the kick-off's URL: the access traces name it, as the request's own would
    asked = urlsplit(job["request"])
    with app.test_request_context(asked.path, query_string=asked.query):
        access = _access(app, repo, job)
        store = scoped_for(access)
        filters = type_filters(search_registry.load(), job["typeFilter"])
        output: list[dict[str, Any]] = []
        written = 0
        for type_ in job["types"]:
            where = _plan(job, type_, filters)
            path = folder / f"{type_}.ndjson"
            count, last = 0, None
            with path.open("wb") as out:
                while True:
                    page_where = where if last is None else and_(where, Column("id", Cmp("", "gt", last)))
                    found = store.find(type_, page_where, limit=PAGE)
                    for stored in found:
                        out.write(stored.json())
                        out.write(b"\n")
                    if found:  # who exported what, as for any read (the patients' access history); one commit
                        with repo.atomic():
                            audit.trace(access, "operation", type_, items=found)
                    count += len(found)
                    written += len(found)
                    if len(found) < PAGE:
                        break
                    last = found[-1].id
                    if not _beat(records, job["_id"], f"{written} resources; {type_}"):
                        break
            if count:
                output.append(
                    {"type": type_, "url": f"{job['base']}/$export-file/{job['_id']}/{type_}.ndjson", "count": count}
                )
            else:
                path.unlink()
            if not _beat(records, job["_id"], f"{written} resources; {type_} done"):
                shutil.rmtree(folder, ignore_errors=True)  # cancelled or expired meanwhile
                return
        records.update_one(
            {"_id": job["_id"], "status": "running"},
            {"$set": {"status": "complete", "output": output, "progress": f"{written} resources"}},
        )
        if records.find_one({"_id": job["_id"], "status": "complete"}) is None:
            shutil.rmtree(folder, ignore_errors=True)


def _beat(records: Documents, job_id: str, progress: str) -> bool:
    """Record progress; False when the job was cancelled meanwhile."""
    current = records.find_one({"_id": job_id})
    if current is None or current["status"] != "running":
        return False
    records.update_one({"_id": job_id}, {"$set": {"progress": progress, "beat": clock.epoch()}})
    return True


def _claim(records: Documents) -> dict[str, Any] | None:
    now = clock.epoch()
    job = records.find_one_and_update({"status": "queued"}, {"$set": {"status": "running", "beat": now}})
    if job is None:
        job = records.find_one_and_update(
            {"status": "running", "beat": {"$lt": now - STALE_SECONDS}}, {"$set": {"beat": now}}
        )
    return job


def sweep(app: Flask, repo: Repository) -> None:
    """Remove the jobs (and files) past their expiry."""
    now = clock.instant(clock.now())
    records = jobs(repo)
    for job in list(records.find({"expires": {"$lt": now}})):
        remove(app, repo, job["_id"])


def remove(app: Flask, repo: Repository, job_id: str) -> None:
    jobs(repo).delete_one({"_id": job_id})
    shutil.rmtree(export_dir(app) / job_id, ignore_errors=True)


def _work(app: Flask) -> None:
    repo = get_store_of(app)
    records = jobs(repo)
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < IDLE_SECONDS:
        try:
            with app.app_context():  # the app's clock, which the job's own heartbeats read
                job = _claim(records)
        except Exception:  # noqa: BLE001 -- the store closed under us (tests, shutdown): either adapter's error
            return
        if job is None:
            time.sleep(POLL_SECONDS)
            continue
        try:
            run(app, repo, job)
        except Exception as exc:  # noqa: BLE001 -- the job fails, recorded with its error; the worker goes on
            try:
                records.update_one(
                    {"_id": job["_id"]},
                    {
                        "$set": {
                            "status": "failed",
                            "error": [{"type": "OperationOutcome", "message": f"{type(exc).__name__}: {exc}"}],
                        }
                    },
                )
            except Exception:  # noqa: BLE001 -- the store closed under us too: the worker stops
                return
        idle_since = time.monotonic()


def ensure_worker(app: Flask) -> None:
    """Start this app's worker thread unless it runs."""
    with _workers_lock:
        thread = _workers.get(id(app))
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(target=_work, args=(app,), name="carnet-export", daemon=True)
        _workers[id(app)] = thread
        thread.start()


def served_types(repo: Repository, wanted: list[str], only: list[str] | None) -> list[str]:
    """The types to export: ``_type`` (each served), else the stored ones but the access traces
    (AuditEvent only when ``_type`` names it, as ``$everything``), limited to ``only``."""
    served = catalog.load().types
    unknown = [t for t in wanted if t not in served]
    if unknown:
        raise BadRequest(f"_type: {', '.join(unknown)} not served", expression=["_type"])
    types = wanted or [t for t in repo.types() if t not in ON_REQUEST]
    return [t for t in types if only is None or t in only]
