"""Patient/$everything (https://hl7.org/fhir/R4/patient-operation-everything.html): the patient and
every resource in their compartment the caller may see, paged across types in a stable order.

One query per compartment type on ``acl.patients`` (the Patient compartment computed at write time
from the type's compartment parameters, ``search.compartment``), with the type's consent policy
inside the query: totals and pages are exact. Then the resources those items reference outside
the compartment (Practitioner, Organization, Location, Medication, Device…), one query per target
type under that type's policy: a reference never reveals what the caller may not see. Types the
token's scopes do not cover are left out;
access traces (AuditEvent) only when ``_type`` asks for them, so that paging does not move as this
very operation is traced.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from consent.predicate import AnyOf
from search import paging
from search import registry as search_registry
from search.plan import Attr
from search.plan import Cmp
from search.plan import Column
from search.plan import Where
from search.plan import and_
from search.plan import not_

from .. import audit
from .. import auth
from .. import catalog
from .. import interactions
from .. import searchset
from ..access import current_access
from ..errors import BadRequest
from ..errors import Gone
from ..storage import Scoped
from ..storage import Stored
from .definition import Call
from .definition import Operation

PARAMS = {"_since", "_type", "_count", "_page"}
#: compartment types left out unless ``_type`` names them
ON_REQUEST = {"AuditEvent"}


def compartment_types() -> list[str]:
    """The Patient compartment's types that this server serves: Patient first, then by name."""
    served = catalog.load().types
    return ["Patient", *sorted(t for t in search_registry.load().patient_compartment if t != "Patient" and t in served)]


def in_compartment(patient: str, *extra: Where) -> Where:
    """The plan of the resources in ``patient``'s compartment (the adapter adds the caller's policy)."""
    return and_(Attr(AnyOf("patients", (patient,))), *extra)


def readable_patient(id_: str) -> str:
    """``Patient/id`` when the caller may read that patient (404 as for an unknown id otherwise)."""
    interactions.allow("Patient", "read")
    patient = interactions.visible("Patient", id_)
    if patient.deleted:
        raise Gone(f"Patient/{id_} was deleted")
    return f"Patient/{id_}"


def _types(call: Call) -> list[str]:
    known = compartment_types()
    asked = [t for k, v in call.pairs() if k == "_type" for t in v.split(",") if t]
    unknown = [t for t in asked if t not in known]
    if unknown:
        raise BadRequest(f"_type: {', '.join(unknown)} not in the Patient compartment", expression=["_type"])
    requester = current_access().requester
    wanted = [t for t in known if t in asked] if asked else [t for t in known if t not in ON_REQUEST]
    return [t for t in wanted if auth.allows(requester.scopes, requester.kind, t, "search-type")]


def _count(call: Call) -> int:
    raw = call.first("_count") or str(current_app.config["DEFAULT_COUNT"])
    if not raw.isdigit():
        raise BadRequest(f"_count '{raw}' is not a non-negative integer", expression=["_count"])
    return min(int(raw), int(current_app.config["MAX_COUNT"]))


#: resources read per query while collecting the references of the compartment
REFERENCE_PAGE = 1000


def _referenced(
    store: Scoped, patient: str, types: list[str], where: Where, extra: list[Where], wanted: list[str] | None
) -> dict[str, Where]:
    """Target type -> the plan of the resources outside the compartment that the caller's
    compartment items reference (each target type's policy is added by the store, as everywhere)."""
    registry = search_registry.load()
    served = catalog.load().types
    requester = current_access().requester
    targets: dict[str, set[str]] = {}
    for type_ in types:
        codes = [c for c, p in registry.params(type_).items() if p.type == "reference" and p.field is None]
        if not codes:
            continue
        last: str | None = None
        while True:
            page_where = where if last is None else and_(where, Column("id", Cmp("", "gt", last)))
            found = store.find(type_, page_where, limit=REFERENCE_PAGE)
            for values in store.references(found, codes).values():
                for ref in values:
                    target, _, id_ = ref.partition("/")
                    if id_ and "/" not in id_ and ":" not in ref and target in served:
                        targets.setdefault(target, set()).add(id_)
            if len(found) < REFERENCE_PAGE:
                break
            last = found[-1].id
    outside = not_(Attr(AnyOf("patients", (patient,))))
    return {
        target: and_(Column("id", Cmp("", "in", tuple(sorted(ids)))), outside, *extra)
        for target, ids in sorted(targets.items())
        if target not in ON_REQUEST
        and (wanted is None or target in wanted)
        and auth.allows(requester.scopes, requester.kind, target, "search-type")
    }


def everything(call: Call) -> dict[str, Any]:
    unknown = sorted({k for k, _ in call.pairs()} - PARAMS)
    if unknown:
        raise BadRequest(f"Unknown $everything parameter(s): {', '.join(unknown)}")
    assert call.id is not None
    patient = readable_patient(call.id)
    since = call.first("_since")
    extra: list[Where] = [Column("ts", Cmp("", "ge", searchset.instant_bound(since, "_since")))] if since else []
    store = current_access().store
    where = in_compartment(patient, *extra)
    types = _types(call)
    asked = [t for k, v in call.pairs() if k == "_type" for t in v.split(",") if t]
    plans = dict.fromkeys(types, where)
    for target, plan in _referenced(store, patient, types, where, extra, asked or None).items():
        if target not in plans:
            plans[target] = plan
    order = list(plans)
    counts = {t: store.count(t, plans[t]) for t in order}
    count, offset = _count(call), searchset.page_offset(call.first("_page"))
    page: list[Stored] = []
    skip = offset
    for type_ in order:
        if len(page) >= count:
            break
        if skip >= counts[type_]:
            skip -= counts[type_]
            continue
        page += store.find(type_, plans[type_], offset=skip, limit=count - len(page))
        skip = 0
    total = sum(counts.values())
    applied = tuple((k, v) for k, v in call.pairs() if k not in ("_page", "_count"))
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": paging.links(
            call.base_url, f"{patient}/$everything", applied, count, offset, total, offset + len(page) < total
        ),
        "entry": [
            {
                "fullUrl": f"{call.base_url}/{s.type}/{s.id}",
                "resource": s.fragment(),
                "search": {"mode": "match" if plans[s.type] is where else "include"},
            }
            for s in page
        ],
    }
    audit.trace(current_access(), "operation", "Patient", items=page)
    return bundle


OPERATION = Operation(
    code="everything",
    definition="http://hl7.org/fhir/OperationDefinition/Patient-everything",
    handler=everything,
    documentation="The patient's compartment as the caller may see it (_since, _type, _count; paged, "
    "exact totals). AuditEvent only when _type names it.",
    types=("Patient",),
    instance_level=True,
    methods=("GET", "POST"),
)
