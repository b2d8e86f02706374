"""Run searches on MongoDB: the I/O edge of the pure ``search`` package.

Each search is one ``find`` (and one ``count_documents`` with the very same filter) on the type
collection; chains, ``_has`` and includes run their own queries for id lists first, each ANDed
with ``deleted: false`` and the target type's consent policy. Nothing is filtered afterwards.
https://hl7.org/fhir/R4/search.html, https://hl7.org/fhir/R4/http.html#search
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from typing import Callable
from urllib.parse import parse_qsl

from consent.predicate import Predicate
from search import compile as compiler
from search import elements
from search import include
from search import normalize
from search import paging
from search.errors import SearchError
from search.parse import SearchRequest
from search.parse import criterion
from search.parse import parse
from search.registry import Registry

from .errors import BadRequest
from .errors import issue
from .errors import operation_outcome

__all__ = [
    "ensure_indexes", "find_matches", "index_plan", "instant_bound", "policy_filter", "search",
]

PolicyFor = Callable[[str], Predicate]
Filter = dict[str, Any]
#: rounds of ``:iterate`` includes followed at most
MAX_ITERATE = 3
_PROJECTION = {"resource": 1, "idx": 1}

policy_filter = compiler.policy_filter


def _bad_request(exc: SearchError) -> BadRequest:
    return BadRequest(exc.message, expression=[exc.param] if exc.param else None)


def _lookup(db: Any) -> compiler.Lookup:
    def lookup(collection: str, filter: Filter, field: str | None) -> list[str]:
        if field is None:
            return [d["_id"] for d in db[collection].find(filter, {"_id": 1})]
        out: list[str] = []
        for d in db[collection].find(filter, {f"idx.{field}": 1}):
            values = (d.get("idx") or {}).get(field) or []
            out += [v for v in (values if isinstance(values, list) else [values]) if isinstance(v, str)]
        return out

    return lookup


def compile_filter(
    db: Any, registry: Registry, resource_type: str, req: SearchRequest, policy_for: PolicyFor,
    base_url: str, now: datetime | None = None,
) -> Filter:
    """The single filter a search runs on ``resource_type`` (sub-queries already resolved)."""
    return compiler.criteria_filter(
        registry, resource_type, req.criteria[resource_type], policy_for, _lookup(db),
        base_url=base_url, now=now,
    )


def search(
    db: Any,
    registry: Registry,
    resource_types: list[str],
    params: list[tuple[str, str]],
    policy_for: PolicyFor,
    base_url: str,
    *,
    lenient: bool = False,
    path: str,
    default_count: int = 20,
    max_count: int = 1000,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A searchset Bundle: the page of matches, its includes, links and total."""
    base_url = base_url.rstrip("/")
    try:
        req = parse(registry, resource_types, params, lenient=lenient,
                    default_count=default_count, max_count=max_count)
        filters = {t: compile_filter(db, registry, t, req, policy_for, base_url, now) for t in req.types}
        sorts = {t: compiler.sort_spec(registry, t, req.sort) for t in req.types}
    except SearchError as exc:
        raise _bad_request(exc) from None

    count_only = req.summary == "count"
    matches: list[tuple[str, dict[str, Any]]] = []
    has_more = False
    total: int | None = None
    if len(req.types) == 1 and not count_only and req.count > 0:
        # one type: fetch the page first; a partial page that is not past the end gives the exact
        # total without counting, else count with the very same filter
        matches, has_more = _page(db, req, filters, sorts, {})
        if req.total != "none":
            if not has_more and (matches or req.offset == 0):
                total = req.offset + len(matches)
            else:
                total = db[req.types[0]].count_documents(filters[req.types[0]])
    else:
        need_counts = count_only or req.total != "none" or len(req.types) > 1
        counts = {t: db[t].count_documents(filters[t]) for t in req.types} if need_counts else {}
        total = sum(counts.values()) if need_counts else None
        if not count_only and req.count > 0:
            matches, has_more = _page(db, req, filters, sorts, counts)

    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None and (req.total != "none" or count_only):
        bundle["total"] = total
    if total is not None:
        has_more = req.offset + len(matches) < total and not count_only
    bundle["link"] = paging.links(
        base_url, path, req.applied, req.count, req.offset, total if req.total != "none" else None, has_more,
    )
    entries = [_entry(registry, base_url, t, d, "match", req) for t, d in matches]
    if matches and (req.includes or req.revincludes):
        entries += [_entry(registry, base_url, t, d, "include", req)
                    for t, d in _included(db, registry, req, matches, policy_for)]
    if req.ignored:
        entries.append(_outcome(req))
    bundle["entry"] = entries
    return bundle


def _page(
    db: Any, req: SearchRequest, filters: dict[str, Filter], sorts: dict[str, list[tuple[str, int]]],
    counts: dict[str, int],
) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
    """The page's documents: types in the order asked, each sorted, ``offset`` over them all."""
    out: list[tuple[str, dict[str, Any]]] = []
    skip, need = req.offset, req.count
    has_more = False
    for t in req.types:
        if need <= 0:
            has_more = True
            break
        if counts:
            n = counts[t]
            if skip >= n:
                skip -= n
                continue
        cursor = db[t].find(filters[t], _PROJECTION).sort(sorts[t]).skip(skip).limit(need + 1)
        docs = list(cursor)
        if len(docs) > need:
            has_more = True
            docs = docs[:need]
        out += [(t, d) for d in docs]
        need -= len(docs)
        skip = 0
    return out, has_more


def _entry(registry: Registry, base_url: str, type_: str, doc: dict[str, Any], mode: str,
           req: SearchRequest) -> dict[str, Any]:
    resource = elements.shape(registry, type_, doc["resource"], req.summary, req.elements)
    return {"fullUrl": f"{base_url}/{type_}/{doc['_id']}", "resource": resource, "search": {"mode": mode}}


def _outcome(req: SearchRequest) -> dict[str, Any]:
    issues = [issue("warning", "not-supported", f"{msg}: ignored", [name]) for name, msg in req.ignored]
    return {"resource": operation_outcome(issues), "search": {"mode": "outcome"}}


def _included(
    db: Any, registry: Registry, req: SearchRequest, matches: list[tuple[str, dict[str, Any]]],
    policy_for: PolicyFor,
) -> list[tuple[str, dict[str, Any]]]:
    """Included resources, each fetched under its own type's policy; ``:iterate`` follows up."""
    known = set(registry.types())
    seen = {(t, d["_id"]) for t, d in matches}
    out: list[tuple[str, dict[str, Any]]] = []
    frontier = matches
    includes, revincludes = req.includes, req.revincludes
    for _ in range(MAX_ITERATE + 1):
        found: list[tuple[str, dict[str, Any]]] = []
        for target, ids in sorted(include.include_ids(registry, frontier, includes, known).items()):
            wanted = sorted(i for i in ids if (target, i) not in seen)
            if wanted:
                by_id = {"_id": wanted[0]} if len(wanted) == 1 else {"_id": {"$in": wanted}}
                flt = compiler.base_filter(target, policy_for, by_id)
                found += [(target, d) for d in db[target].find(flt, _PROJECTION).sort([("_id", 1)])]
        for source, criteria in include.revinclude_filters(registry, frontier, revincludes):
            flt = compiler.base_filter(source, policy_for, criteria)
            found += [(source, d) for d in db[source].find(flt, _PROJECTION).sort([("_id", 1)])]
        fresh = []
        for t, d in found:
            if (t, d["_id"]) not in seen:
                seen.add((t, d["_id"]))
                fresh.append((t, d))
        out += fresh
        includes = tuple(i for i in req.includes if i.iterate)
        revincludes = tuple(i for i in req.revincludes if i.iterate)
        frontier = fresh
        if not fresh or not (includes or revincludes):
            break
    return out


def find_matches(
    db: Any,
    registry: Registry,
    resource_type: str,
    query: str | list[tuple[str, str]],
    policy_for: PolicyFor,
    limit: int = 2,
) -> list[dict[str, Any]]:
    """Stored documents matching conditional-interaction criteria (at most ``limit``)."""
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True) if isinstance(query, str) else list(query)
    try:
        criteria = tuple(criterion(registry, resource_type, k, v) for k, v in pairs if k not in ("_format", "_pretty"))
        flt = compiler.criteria_filter(registry, resource_type, criteria, policy_for, _lookup(db))
    except SearchError as exc:
        raise _bad_request(exc) from None
    return list(db[resource_type].find(flt).sort([("_id", 1)]).limit(limit))


def instant_bound(value: str, name: str) -> str:
    """The start of a date/instant parameter (``_since``, ``_at``) as a stored-``ts`` string."""
    try:
        return normalize.date_range(value)[0]
    except ValueError as exc:
        raise BadRequest(f"Invalid value '{value}' for parameter '{name}': {exc}", expression=[name]) from None


def index_plan(registry: Registry, resource_types: list[str]) -> list[tuple[str, list[tuple[str, int]]]]:
    """(collection, keys) indexes for the common search paths: identifiers and the references
    that define the Patient compartment."""
    plan: list[tuple[str, list[tuple[str, int]]]] = []
    for t in resource_types:
        params = registry.params(t)
        codes = ["identifier"] + list(registry.patient_compartment.get(t, ()))
        for code in dict.fromkeys(codes):
            if code in params and params[code].field is None:
                plan.append((t, [(f"idx.{code}", 1)]))
    return plan


def ensure_indexes(db: Any, registry: Registry, resource_types: list[str]) -> None:
    for collection, keys in index_plan(registry, resource_types):
        db[collection].create_index(keys)
