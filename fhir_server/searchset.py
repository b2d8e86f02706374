"""Run searches through the storage port: the I/O edge of the pure ``search`` package.

Each search is one ``find`` (and, when the page does not tell, one ``count`` of the very same plan)
on a consent-scoped handle: chains, ``_has`` and includes run inside the adapter's query, each
under its own type's policy. Nothing is filtered afterwards.
https://hl7.org/fhir/R4/search.html, https://hl7.org/fhir/R4/http.html#search
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from search import compile as compiler
from search import elements
from search import include
from search import normalize
from search import paging
from search.errors import SearchError
from search.parse import SearchRequest
from search.parse import criterion
from search.parse import parse
from search.plan import Cmp
from search.plan import Column
from search.plan import Where
from search.registry import Registry

from . import clock
from .errors import BadRequest
from .errors import issue
from .errors import operation_outcome
from .search_bounds import MAX_INCLUDED
from .search_bounds import TooCostly
from .storage import Scoped
from .storage import Stored

__all__ = ["confined_records", "find_matches", "instant_bound", "page_offset", "search"]

#: rounds of ``:iterate`` includes followed at most
MAX_ITERATE = 3


def _bad_request(exc: SearchError) -> BadRequest:
    return BadRequest(exc.message, expression=[exc.param] if exc.param else None)


def search(
    store: Scoped,
    registry: Registry,
    resource_types: list[str],
    params: list[tuple[str, str]],
    base_url: str,
    *,
    lenient: bool = False,
    path: str,
    default_count: int = 20,
    max_count: int = 1000,
    now: datetime | None = None,
) -> tuple[dict[str, Any], list[Stored]]:
    """A searchset Bundle (the page of matches, its includes, links and total) and what it holds;
    ``now`` (default: the server's clock) places the ``ap`` dates."""
    base_url = base_url.rstrip("/")
    moment = now or clock.now()
    try:
        req = parse(registry, resource_types, params, lenient=lenient, default_count=default_count, max_count=max_count)
        plans = {
            t: compiler.compile_criteria(registry, t, req.criteria[t], base_url=base_url, now=moment) for t in req.types
        }
        sorts = {t: compiler.sort_keys(registry, t, req.sort) for t in req.types}
    except SearchError as exc:
        raise _bad_request(exc) from None

    count_only = req.summary == "count"
    matches: list[Stored] = []
    has_more = False
    total: int | None = None
    if len(req.types) == 1 and not count_only and req.count > 0:
        # one type: fetch the page first; a partial page that is not past the end gives the exact
        # total without counting, else count with the very same filter
        matches, has_more = _page(store, req, plans, sorts, {})
        if req.total != "none":
            if not has_more and (matches or req.offset == 0):
                total = req.offset + len(matches)
            else:
                total = store.count(req.types[0], plans[req.types[0]])
    else:
        need_counts = count_only or req.total != "none" or len(req.types) > 1
        counts = {t: store.count(t, plans[t]) for t in req.types} if need_counts else {}
        total = sum(counts.values()) if need_counts else None
        if not count_only and req.count > 0:
            matches, has_more = _page(store, req, plans, sorts, counts)

    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None and (req.total != "none" or count_only):
        bundle["total"] = total
    if total is not None:
        has_more = req.offset + len(matches) < total and not count_only
    bundle["link"] = paging.links(
        base_url,
        path,
        req.applied,
        req.count,
        req.offset,
        total if req.total != "none" else None,
        has_more,
    )
    entries = [_entry(registry, base_url, s, "match", req) for s in matches]
    included = _included(store, registry, req, matches) if matches and (req.includes or req.revincludes) else []
    entries += [_entry(registry, base_url, s, "include", req) for s in included]
    if req.ignored:
        entries.append(_outcome(req))
    bundle["entry"] = entries
    return bundle, matches + included


def _page(
    store: Scoped,
    req: SearchRequest,
    plans: dict[str, Where],
    sorts: dict[str, Any],
    counts: dict[str, int],
) -> tuple[list[Stored], bool]:
    """The page's resources: types in the order asked, each sorted, ``offset`` over them all."""
    out: list[Stored] = []
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
        found = store.find(t, plans[t], sort=sorts[t], offset=skip, limit=need + 1)
        if len(found) > need:
            has_more = True
            found = found[:need]
        out += found
        need -= len(found)
        skip = 0
    return out, has_more


def _entry(registry: Registry, base_url: str, stored: Stored, mode: str, req: SearchRequest) -> dict[str, Any]:
    if req.summary is None and req.elements is None:
        resource: Any = stored.fragment()
    else:
        resource = elements.shape(registry, stored.type, stored.resource, req.summary, req.elements)
    return {"fullUrl": f"{base_url}/{stored.type}/{stored.id}", "resource": resource, "search": {"mode": mode}}


def _outcome(req: SearchRequest) -> dict[str, Any]:
    issues = [issue("warning", "not-supported", f"{msg}: ignored", [name]) for name, msg in req.ignored]
    return {"resource": operation_outcome(issues), "search": {"mode": "outcome"}}


def _included(store: Scoped, registry: Registry, req: SearchRequest, matches: list[Stored]) -> list[Stored]:
    """Included resources, each fetched under its own type's policy; ``:iterate`` follows up."""
    known = set(registry.types())
    seen = {(s.type, s.id) for s in matches}
    out: list[Stored] = []
    frontier = matches
    includes, revincludes = req.includes, req.revincludes
    for _ in range(MAX_ITERATE + 1):
        found: list[Stored] = []
        references: dict[tuple[str, str], list[str]] = {}
        for inc in includes:
            of_source = [s for s in frontier if s.type == inc.source]
            codes = include.reference_codes(registry, inc)
            for code, values in store.references(of_source, codes).items():
                references.setdefault((inc.source, code), []).extend(values)
        for target, ids in sorted(include.include_ids(registry, includes, references, known).items()):
            wanted = tuple(sorted(i for i in ids if (target, i) not in seen))
            if wanted:
                found += store.find(target, Column("id", Cmp("", "in", wanted)))
        page = [(s.type, s.id) for s in frontier]
        for source, plan in include.revinclude_plans(registry, page, revincludes):
            found += store.find(source, plan)
        fresh = []
        for s in found:
            if (s.type, s.id) not in seen:
                seen.add((s.type, s.id))
                fresh.append(s)
        out += fresh
        if len(out) > MAX_INCLUDED:
            raise TooCostly(
                f"_include/_revinclude would add more than {MAX_INCLUDED} resources to a page: "
                "narrow the search or lower _count"
            )
        includes = tuple(i for i in req.includes if i.iterate)
        revincludes = tuple(i for i in req.revincludes if i.iterate)
        frontier = fresh
        if not fresh or not (includes or revincludes):
            break
    return out


def find_matches(
    store: Scoped,
    registry: Registry,
    resource_type: str,
    query: str | list[tuple[str, str]],
    limit: int = 2,
) -> list[Stored]:
    """Stored resources matching conditional-interaction criteria (at most ``limit``)."""
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True) if isinstance(query, str) else list(query)
    try:
        criteria = tuple(criterion(registry, resource_type, k, v) for k, v in pairs if k not in ("_format", "_pretty"))
        where = compiler.compile_criteria(registry, resource_type, criteria, now=clock.now())
    except SearchError as exc:
        raise _bad_request(exc) from None
    return store.find(resource_type, where, limit=limit)


#: search parameters whose criteria pull in other records' items
_REACHING = ("_include", "_revinclude", "_has")


def confined_records(registry: Registry, resource_type: str, params: list[tuple[str, str]]) -> frozenset[str] | None:
    """The records (``Patient/id``) a search's own criteria confine every match to, when they do:
    ``Patient?_id=``, or a compartment reference (``subject=Patient/x``, ``patient=x``), with no
    include, reverse chain or chain that could reach other records. None when unconfined."""
    if any(k.startswith(_REACHING) or "." in k for k, _ in params):
        return None
    compartment = registry.patient_compartment.get(resource_type, ())
    for key, raw in params:
        name, _, modifier = key.partition(":")
        values = [v.strip() for v in raw.split(",") if v.strip()]
        if not values or modifier not in ("", "Patient"):
            continue
        if resource_type == "Patient" and name == "_id" and not modifier:
            return frozenset(f"Patient/{v}" for v in values)
        if name in compartment and name in ("patient", "subject") and resource_type != "Patient":
            refs = {_patient_ref(v, bare=name == "patient" or modifier == "Patient") for v in values}
            if None not in refs:
                return frozenset(r for r in refs if r is not None)
    return None


def _patient_ref(value: str, *, bare: bool) -> str | None:
    """``Patient/id`` from a reference search value (relative, or bare when the type is implied)."""
    if value.startswith("Patient/") and value.count("/") == 1:
        return value
    if bare and "/" not in value and ":" not in value:
        return f"Patient/{value}"
    return None


def instant_bound(value: str, name: str) -> str:
    """The start of a date/instant parameter (``_since``, ``_at``) as a stored-``ts`` string."""
    try:
        return normalize.date_range(value)[0]
    except ValueError as exc:
        raise BadRequest(f"Invalid value '{value}' for parameter '{name}': {exc}", expression=[name]) from None


def page_offset(token: str | None) -> int:
    """The offset a ``_page`` token names (0 without one): history and operations page with the
    tokens of searches (``search.paging``); 400 for any other."""
    try:
        return paging.decode(token) if token is not None else 0
    except ValueError:
        raise BadRequest(f"_page '{token}' is not a page of this result", expression=["_page"]) from None
