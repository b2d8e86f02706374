"""Batch and transaction at POST [base] (https://hl7.org/fhir/R4/http.html#transaction).

Each entry runs the very interaction it would run alone (``interactions``, ``operations``; GET and
HEAD routed by their URL in ``entry_routes``), so consent and scopes judge it the same way. Entries run
in the order R4 prescribes: DELETE, POST, PUT and PATCH, then GET and HEAD; the response lists them
in the request's order.

A transaction resolves first: ids for the resources it creates are assigned up front, conditional
creates and updates are matched, and every ``Reference.reference`` (and ``request.url``) naming an
entry's fullUrl or a conditional reference (``Patient?identifier=...``) is rewritten to
``Type/id``. Then every entry runs inside ``Store.atomic()``: the first failure undoes all the
writes and answers its own status with an OperationOutcome naming the entry; an AuditEvent of the
failure is written after the undo. Batch entries succeed or fail each on its own.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

import orjson
from flask import Blueprint
from flask import Flask
from flask import Response

from . import audit
from . import entry_routes
from . import http
from . import interactions as fhir
from . import mhd
from . import references
from . import rest
from .access import current_access
from .errors import BadRequest
from .errors import FHIRError
from .errors import operation_outcome
from .interactions import Outcome
from .operations import registry as operations
from .operations.definition import Call
from .storage import get_store

bp = Blueprint("bundles", __name__)
bp.before_request(rest.authenticate)
KINDS = ("batch", "transaction")
#: R4 http.html#trules: the processing order of the methods
ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}
PLACEHOLDER = re.compile(r"urn:(?:uuid|oid):[^\s&?#/,|]+")
CONDITIONAL_REF = re.compile(r"^([A-Z][A-Za-z]+)\?(.+)$")
JSON_PATCH_TYPES = (http.JSON_PATCH, http.JSON)


@dataclass
class Entry:
    """One entry's request, parsed; ``url`` is relative to the base, its path split in ``parts``."""

    index: int
    full_url: str | None
    method: str
    url: str
    resource: Any
    if_none_exist: str | None
    if_match: int | None
    if_none_match: str | None
    if_modified_since: str | None
    assigned: str | None = None  # the id a create takes, chosen up front

    @property
    def path(self) -> str:
        return self.url.partition("?")[0]

    @property
    def query(self) -> str:
        return self.url.partition("?")[2]

    @property
    def parts(self) -> list[str]:
        return [p for p in self.path.split("/") if p]

    @property
    def operation(self) -> str | None:
        last = self.parts[-1] if self.parts else ""
        return last[1:] if last.startswith("$") else None

    @property
    def label(self) -> str:
        where = f"Bundle.entry[{self.index}]"
        return f"{where} ({self.full_url})" if self.full_url else where


@bp.post("")
def process() -> Response:
    return http.respond(run(http.body_json(), http.base_url()))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp, url_prefix="/fhir")


def run(bundle: Any, base_url: str) -> dict[str, Any]:
    """The response Bundle of a batch or transaction Bundle (raises for a failed transaction)."""
    kind = _kind(bundle)
    raw = bundle.get("entry") or []
    if not isinstance(raw, list):
        raise BadRequest("Bundle.entry must be a list", expression=["Bundle.entry"])
    if kind == "transaction":
        entries = [_parse(i, item, base_url) for i, item in enumerate(raw)]
        responses = _transaction(entries, base_url)
    else:
        responses = _batch(raw, base_url)
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": f"{kind}-response",
        "link": [{"relation": "self", "url": base_url}],
        "entry": responses,
    }


def _kind(bundle: Any) -> str:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BadRequest("POST to the base takes a Bundle of type batch or transaction")
    kind = bundle.get("type")
    if kind not in KINDS:
        raise BadRequest(f"Bundle.type must be batch or transaction, not '{kind}'", expression=["Bundle.type"])
    return str(kind)


# parsing -------------------------------------------------------------------------------------
def _parse(index: int, raw: Any, base_url: str) -> Entry:
    where = f"Bundle.entry[{index}]"
    request_ = raw.get("request") if isinstance(raw, dict) else None
    if not isinstance(request_, dict):
        raise BadRequest(f"{where} needs a request (method and url)", expression=[f"{where}.request"])
    method, url = request_.get("method"), request_.get("url")
    if method not in ORDER:
        raise BadRequest(
            f"{where}: request.method '{method}' is not one of {', '.join(ORDER)}",
            expression=[f"{where}.request.method"],
        )
    if not isinstance(url, str) or not url.strip():
        raise BadRequest(f"{where} needs a request.url", expression=[f"{where}.request.url"])
    for key in ("ifNoneExist", "ifMatch", "ifNoneMatch", "ifModifiedSince"):
        if not isinstance(request_.get(key, ""), str):
            raise BadRequest(f"{where}: request.{key} must be a string", expression=[f"{where}.request.{key}"])
    if_match = request_.get("ifMatch")
    entry = Entry(
        index=index,
        full_url=raw.get("fullUrl") if isinstance(raw.get("fullUrl"), str) else None,
        method=method,
        url=_relative(url.strip(), base_url, where),
        resource=raw.get("resource"),
        if_none_exist=request_.get("ifNoneExist"),
        if_match=http.parse_etag(if_match, f"{where}.request.ifMatch") if if_match is not None else None,
        if_none_match=request_.get("ifNoneMatch"),
        if_modified_since=request_.get("ifModifiedSince"),
    )
    _check_target(entry, where)
    return entry


def _relative(url: str, base_url: str, where: str) -> str:
    """The entry's URL relative to this server's base (an absolute URL must be on it)."""
    if url.startswith(base_url + "/") or url == base_url:
        return url[len(base_url) + 1 :]
    if "://" in url.partition("?")[0]:
        raise BadRequest(
            f"{where}: request.url '{url}' is not on this server ({base_url})", expression=[f"{where}.request.url"]
        )
    return url.lstrip("/")


def _check_target(entry: Entry, where: str) -> None:
    """The URL shapes each write accepts, and a body of the URL's type."""
    parts, method = entry.parts, entry.method
    if method in ("GET", "HEAD"):
        return
    if entry.operation is not None:
        if method != "POST" or not 2 <= len(parts) <= 3:
            raise BadRequest(f"{where}: operations are invoked with POST [type]/$op or [type]/[id]/$op")
        return
    shapes = {
        "POST": len(parts) == 1 and not entry.query,
        "PUT": (len(parts) == 2 and not entry.query) or (len(parts) == 1 and bool(entry.query)),
        "PATCH": (len(parts) == 2 and not entry.query) or (len(parts) == 1 and bool(entry.query)),
        "DELETE": (len(parts) == 2 and not entry.query) or (len(parts) == 1 and bool(entry.query)),
    }
    if not shapes[method]:
        raise BadRequest(
            f"{where}: '{method} {entry.url}' is not a {method} this server serves", expression=[f"{where}.request.url"]
        )
    if method in ("POST", "PUT"):
        type_ = entry.resource.get("resourceType") if isinstance(entry.resource, dict) else None
        if type_ != parts[0]:
            raise BadRequest(
                f"{where}: the resource's type '{type_}' does not match the URL's '{parts[0]}'",
                expression=[f"{where}.resource"],
            )


# references ----------------------------------------------------------------------------------
class Resolver:
    """Rewrites references: entries' fullUrls to their ``Type/id``, conditional references to the
    one resource they match (``references.conditional_target``: whoever may read it, as for any
    write; 412 for several matches, 422 for none)."""

    def __init__(self, targets: dict[str, str]) -> None:
        self.targets = targets
        self._matched: dict[str, str] = {}

    def url(self, url: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.targets.get(m.group(0), m.group(0)), url)

    def reference(self, ref: str, where: str) -> str:
        if ref in self.targets:
            return self.targets[ref]
        conditional = CONDITIONAL_REF.match(ref)
        return self._match(ref, conditional.group(1), conditional.group(2), where) if conditional else ref

    def _match(self, ref: str, type_: str, query: str, where: str) -> str:
        if ref not in self._matched:
            self._matched[ref] = references.conditional_target(type_, self.url(query), where)
        return self._matched[ref]

    def rewrite(self, entry: Entry) -> None:
        entry.url = self.url(entry.url)
        if entry.if_none_exist:
            entry.if_none_exist = self.url(entry.if_none_exist)
        type_ = entry.resource.get("resourceType") if isinstance(entry.resource, dict) else None
        for where, ref in references.walk(entry.resource, str(type_ or "resource")):
            ref["reference"] = self.reference(ref["reference"], where)
        _rewrite_uris(entry.resource, self.targets)


def _rewrite_uris(node: Any, targets: dict[str, str]) -> None:
    """R4 http.html#trules: a ``uri``/``url`` element (``attachment.url``, ...) naming an entry's
    fullUrl is rewritten like a reference (the string equal to the fullUrl, nothing else)."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        if isinstance(value, str):
            if key != "reference" and value in targets:
                node[key] = targets[value]
        elif isinstance(value, (dict, list)):
            _rewrite_uris(value, targets)


# transaction ---------------------------------------------------------------------------------
def _content_last(entry: Entry) -> bool:
    """Binaries are written after the other resources of their method: a Binary's securityContext
    document must exist when its content is stored (ITI-65 bundles list them in any order)."""
    return bool(entry.parts) and entry.parts[0] == "Binary"


def _transaction(entries: list[Entry], base_url: str) -> list[dict[str, Any]]:
    ordered = sorted(entries, key=lambda e: (ORDER[e.method], _content_last(e), e.index))
    deletes = sum(1 for e in entries if e.method == "DELETE")
    responses: dict[int, dict[str, Any]] = {}
    try:
        _no_overlap(entries)
        # resolution inside too: no other transaction runs between a match and its write
        with get_store().atomic(), audit.collected(current_access()), references.deferred() as pending:
            for entry in ordered[:deletes]:
                responses[entry.index] = _run(entry, base_url)
            _resolve(entries)  # after the deletes, so conditional matches see what they left
            mhd.check_attachments(entries)  # ITI-65: sizes and hashes match, before any create
            for entry in ordered[deletes:]:
                responses[entry.index] = _run(entry, base_url)
            _check_references(pending)  # after every entry ran: an entry may name a later one
    except FHIRError:
        audit.trace(current_access(), "transaction", None, outcome="8")
        raise
    return [responses[e.index] for e in entries]


def _run(entry: Entry, base_url: str) -> dict[str, Any]:
    references.owned_by(entry)
    try:
        return _perform(entry, base_url)
    except FHIRError as exc:
        raise _naming(exc, entry) from None


def _check_references(pending: list[references.Pending]) -> None:
    """The literal references the entries wrote name live resources (REFERENCE_CHECK)."""
    try:
        references.check_pending(pending)
    except FHIRError as exc:
        owner = getattr(exc, "owner", None)
        raise (_naming(exc, owner) if isinstance(owner, Entry) else exc) from None


def _resolve(entries: list[Entry]) -> None:
    """Assign and match the ids entries will write, then rewrite every reference to an entry."""
    resolver = Resolver(_targets(entries))
    for entry in entries:
        try:
            resolver.rewrite(entry)
        except FHIRError as exc:
            raise _naming(exc, entry) from None


def _targets(entries: list[Entry]) -> dict[str, str]:
    """fullUrl -> ``Type/id`` for every entry that names a resource; creates get their id here,
    conditional creates and updates are matched here (the interactions match again, atomically)."""
    targets: dict[str, str] = {}
    resolver = Resolver(targets)
    for entry in entries:
        type_ = entry.parts[0] if entry.parts else ""
        target: str | None = None
        if entry.method == "POST" and entry.operation is None:
            entry.assigned = str(uuid.uuid4())
            match = _matched(entry, type_, resolver.url(entry.if_none_exist)) if entry.if_none_exist else None
            target = f"{type_}/{match or entry.assigned}"
        elif entry.method in ("PUT", "PATCH") and entry.query:
            match = _matched(entry, type_, resolver.url(entry.query))
            if match is None and entry.method == "PUT":  # the update creates: with the body's id, or one chosen here
                match = entry.resource.setdefault("id", str(uuid.uuid4()))
            target = f"{type_}/{match}" if match else None
        elif entry.method in ("PUT", "PATCH"):
            target = entry.path
        if target and entry.full_url:
            targets[entry.full_url] = target
    return targets


def _matched(entry: Entry, type_: str, criteria: str) -> str | None:
    """The id of the one resource ``criteria`` match, None for none (412 for several)."""
    try:
        match = fhir.single_match(type_, criteria)
    except FHIRError as exc:
        raise _naming(exc, entry) from None
    return match.id if match else None


def _no_overlap(entries: list[Entry]) -> None:
    """R4 http.html#trules: two entries may not change the same resource (named by its URL; the
    ids of creates are fresh, and conditional entries resolve at run time)."""
    seen: dict[str, Entry] = {}
    for entry in entries:
        if entry.method not in ("PUT", "PATCH", "DELETE") or entry.query:
            continue
        if entry.path in seen:
            raise _naming(BadRequest(f"{entry.path} is also changed by {seen[entry.path].label}"), entry)
        seen[entry.path] = entry


def _naming(exc: FHIRError, entry: Entry) -> FHIRError:
    """``exc`` as the failure of ``entry``: its diagnostics and expressions point into the Bundle."""
    where = f"Bundle.entry[{entry.index}]"
    type_ = entry.parts[0] if entry.parts else ""
    issues = []
    for found in exc.issues:
        paths = [
            f"{where}.resource{e[len(type_) :]}" if type_ and (e == type_ or e.startswith(type_ + ".")) else e
            for e in found.get("expression", [])
        ]
        issues.append(
            {**found, "diagnostics": f"{entry.label}: {found.get('diagnostics', '')}", "expression": [where, *paths]}
        )
    return type(exc)(f"{entry.label}: {exc.diagnostics}", issues=issues)


# batch ---------------------------------------------------------------------------------------
def _batch(raw: list[Any], base_url: str) -> list[dict[str, Any]]:
    responses: dict[int, dict[str, Any]] = {}
    parsed: list[Entry] = []
    for index, item in enumerate(raw):
        try:
            parsed.append(_parse(index, item, base_url))
        except FHIRError as exc:
            responses[index] = _failure(exc)
    full_urls = {e.full_url for e in parsed if e.full_url}
    resolver = Resolver({})
    with audit.collected(current_access()):
        for entry in sorted(parsed, key=lambda e: (ORDER[e.method], e.index)):
            try:
                _independent(entry, full_urls)
                resolver.rewrite(entry)
                responses[entry.index] = _perform(entry, base_url)
            except FHIRError as exc:
                responses[entry.index] = _failure(exc)
    return [responses[i] for i in range(len(raw))]


def _references(node: Any) -> Iterator[dict[str, Any]]:
    """Every Reference (an object with a string ``reference``) inside ``node``."""
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node
        for value in node.values():
            if isinstance(value, (dict, list)):
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, (dict, list)):
                yield from _references(value)


def _independent(entry: Entry, full_urls: set[str]) -> None:
    """R4 http.html#transaction: batch entries may not refer to each other."""
    for ref in _references(entry.resource):
        if ref["reference"] in full_urls:
            raise BadRequest(f"'{ref['reference']}' is another entry of this batch: send a transaction to link entries")


def _failure(exc: FHIRError) -> dict[str, Any]:
    return {"response": {"status": _status(exc.status_code), "outcome": operation_outcome(exc.issues)}}


# performing ----------------------------------------------------------------------------------
def _status(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


def _perform(entry: Entry, base_url: str) -> dict[str, Any]:
    """Run one entry and return its Bundle.entry of the response."""
    if entry.method in ("GET", "HEAD"):
        return _read(entry, base_url)
    parts, query = entry.parts, entry.query
    type_ = parts[0]
    if entry.operation is not None:
        call = Call(type_, parts[1] if len(parts) == 3 else None, [], entry.resource, base_url)
        return {"resource": operations.invoke("POST", call, entry.operation), "response": {"status": _status(200)}}
    if entry.method == "POST":
        outcome = fhir.create(type_, entry.resource, entry.if_none_exist, id_=entry.assigned)
    elif entry.method == "PUT":
        outcome = (
            fhir.conditional_update(type_, query, entry.resource)
            if query
            else fhir.update(type_, parts[1], entry.resource, entry.if_match)
        )
    elif entry.method == "PATCH":
        ops = _patch_operations(entry)
        outcome = (
            fhir.conditional_patch(type_, query, ops) if query else fhir.patch(type_, parts[1], ops, entry.if_match)
        )
    else:
        outcome = fhir.conditional_delete(type_, query) if query else fhir.delete(type_, parts[1], entry.if_match)
    return _written(outcome, base_url)


def _patch_operations(entry: Entry) -> Any:
    """A PATCH entry's patch: a FHIRPath Patch Parameters resource, or a JSON Patch in a Binary
    resource (R4 http.html#patch)."""
    binary = entry.resource
    if isinstance(binary, dict) and binary.get("resourceType") == "Parameters":
        return binary
    if (
        not isinstance(binary, dict)
        or binary.get("resourceType") != "Binary"
        or binary.get("contentType") not in JSON_PATCH_TYPES
    ):
        raise BadRequest(
            f"A PATCH entry carries a FHIRPath Patch (Parameters) or its JSON Patch as a Binary "
            f"resource ({http.JSON_PATCH})"
        )
    try:
        return orjson.loads(base64.b64decode(binary.get("data", ""), validate=True))
    except (binascii.Error, orjson.JSONDecodeError, ValueError):
        raise BadRequest("The Binary of a PATCH entry must hold a base64 JSON Patch document") from None


def _written(outcome: Outcome, base_url: str) -> dict[str, Any]:
    """A write's response entry, shaped by Prefer as the same write alone (``rest.answer``)."""
    stored = outcome.stored
    response: dict[str, Any] = {"status": _status(outcome.status)}
    entry: dict[str, Any] = {}
    issues = list(outcome.warnings)
    if stored is not None:
        if not stored.deleted:
            response["location"] = f"{stored.type}/{stored.id}/_history/{stored.vid}"
            entry["fullUrl"] = f"{base_url}/{stored.type}/{stored.id}"
        response["etag"] = f'W/"{stored.vid}"'
        response["lastModified"] = stored.ts
        wanted = http.prefer_return()
        if wanted == "representation" and not stored.deleted:
            entry["resource"] = stored.resource
        elif wanted == "OperationOutcome":
            issues.insert(0, http.stored_issue(stored))
    if issues:
        response["outcome"] = operation_outcome(issues)
    entry["response"] = response
    return entry


def _read(entry: Entry, base_url: str) -> dict[str, Any]:
    """A GET or HEAD entry, answered by the interaction its URL names (``entry_routes``) as if sent
    alone: the caller's consent states loaded afresh (the reads see the Bundle's writes), emergency
    windows opened on the records this URL names."""
    rest.bind_access(entry_routes.asked(entry.path, entry.query))
    answer = entry_routes.route(entry.path, entry.query, base_url, entry.if_none_match)
    response: dict[str, Any] = {"status": _status(answer.status)}
    if answer.headers.get("ETag"):
        response["etag"] = answer.headers["ETag"]
    updated = answer.updated
    if updated:
        response["lastModified"] = updated
        if answer.status == 200 and _not_modified(updated, entry.if_modified_since):
            return {"response": {**response, "status": _status(304)}}
    out: dict[str, Any] = {"response": response}
    if answer.body is not None and entry.method == "GET":
        out["resource"] = answer.body
    return out


def _not_modified(updated: str, since: str | None) -> bool:
    if not since:
        return False
    try:
        return datetime.fromisoformat(updated) <= datetime.fromisoformat(since)
    except ValueError:
        raise BadRequest(f"ifModifiedSince '{since}' is not an instant") from None
