"""The read-only interactions by URL (https://hl7.org/fhir/R4/http.html): the routing a GET or
HEAD bundle entry needs, calling the same interactions as the REST routes, without Flask's
request dispatch. URLs are relative to the FHIR base:

====================================  =====================================
``?_type=...``                        search-system
``metadata``                          capabilities
``[type]``                            search-type
``[type]/_history``                   history-type
``[type]/$op``, ``[type]/[id]/$op``   an operation invoked with GET
``[type]/[id]``                       read (If-None-Match answers 304)
``[type]/[id]/_history``              history-instance
``[type]/[id]/_history/[vid]``        vread
====================================  =====================================
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import parse_qsl

from . import capability
from . import catalog
from . import http
from . import interactions as fhir
from .dmp.emergency import Asked
from .errors import BadRequest
from .errors import NotFound
from .operations import registry as operations
from .operations.definition import Call


@dataclass(frozen=True)
class Answer:
    """What a read-only interaction answers: its status, body (None for 304) and headers."""

    status: int
    body: Any  # a dict, or a stored resource's JSON as it is (``Stored.fragment``); None for 304
    headers: dict[str, str] = field(default_factory=dict)
    updated: str | None = None  # the resource's lastUpdated instant, for a read


def read(resource_type: str, id_: str, base_url: str, if_none_match: str | None) -> Answer:
    """The current version, or 304 when If-None-Match names it."""
    stored = fhir.read(resource_type, id_)
    headers = http.version_headers(stored, base_url)
    del headers["Location"]
    if if_none_match and http.parse_etag(if_none_match, "If-None-Match") == stored.vid:
        return Answer(304, None, headers, stored.ts)
    if resource_type == "Binary":  # a bundle entry holds the FHIR form: the content as base64 data
        from .binary import as_json

        return Answer(200, as_json(stored), headers, stored.ts)
    return Answer(200, stored.fragment(), headers, stored.ts)  # the stored bytes, not re-serialised


def vread(resource_type: str, id_: str, vid: str, base_url: str) -> Answer:
    version = fhir.vread(resource_type, id_, vid)
    return Answer(200, version.fragment(), http.version_headers(version, base_url), version.ts)


def search_system(params: list[tuple[str, str]], base_url: str) -> Answer:
    """A search across the types named by ``_type`` (400 without)."""
    types = [t for k, v in params if k == "_type" for t in v.split(",") if t]
    if not types:
        raise BadRequest("A system search needs _type (e.g. ?_type=Patient,Practitioner)")
    return Answer(200, fhir.search(types, params, base_url, lenient=http.lenient(), path=""))


def _params(query: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in http.RESPONSE_PARAMS]


def asked(path: str, query: str) -> Asked:
    """What ``GET [base]/path?query`` asks for, as its REST route would see it (emergency windows)."""
    parts = [p for p in path.split("/") if p]
    named = len(parts) >= 2 and parts[0] != "metadata" and not parts[1].startswith(("$", "_"))
    return Asked(parts[0] if parts else None, parts[1] if named else None, tuple(_params(query)))


def route(path: str, query: str, base_url: str, if_none_match: str | None = None) -> Answer:
    """Answer ``GET [base]/path?query`` (404 for a URL no route serves)."""
    parts = [p for p in path.split("/") if p]
    params = _params(query)
    if not parts:
        return search_system(params, base_url)
    if parts[-1].startswith("$") and len(parts) in (2, 3):
        catalog.load().entry(parts[0])
        call = Call(parts[0], parts[1] if len(parts) == 3 else None, params, None, base_url)
        return Answer(200, operations.invoke("GET", call, parts[-1][1:]))
    match parts:
        case ["metadata"]:
            return Answer(200, capability.statement(base_url))
        case [type_]:
            return Answer(200, fhir.search([type_], params, base_url, lenient=http.lenient(), path=type_))
        case [type_, "_history"]:
            return Answer(200, fhir.history(type_, None, base_url))
        case [type_, id_]:
            return read(type_, id_, base_url, if_none_match)
        case [type_, id_, "_history"]:
            return Answer(200, fhir.history(type_, id_, base_url))
        case [type_, id_, "_history", vid]:
            return vread(type_, id_, vid, base_url)
    raise NotFound(f"GET {path} is not served here")
