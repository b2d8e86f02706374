"""Patient/$summary: an IPS-style patient summary document (https://hl7.org/fhir/uv/ips/), built
only from what the caller may see, narrative included.

A document Bundle (https://hl7.org/fhir/R4/documents.html): a Composition first, then the Patient
and every resource a section lists. Each section's items are found by official search parameters
with the caller's consent policy inside the query (``searching.find_matches``); its narrative is
generated from those items alone, and an empty section reads the same whether nothing exists or
nothing is visible.
"""
from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from search import registry as search_registry

from .. import audit
from .. import auth
from .. import clock
from .. import interactions
from .. import searching
from ..storage import get_store
from .definition import Call
from .definition import Operation
from .everything import record

LOINC = "http://loinc.org"
TRE_A05 = "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"
ADVANCE_DIRECTIVES = f"{TRE_A05}|EXPPAT_3"
LABORATORY = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
EMPTY_REASON = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                            "code": "unavailable", "display": "Unavailable"}]}
#: items listed per query at most (the section then lists them newest first)
LIMIT = 100
XHTML = '<div xmlns="http://www.w3.org/1999/xhtml">'

Row = tuple[str, str, str]  # what, when, detail


@dataclass(frozen=True)
class Section:
    title: str
    code: str | None  # LOINC section code, when IPS has one
    queries: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (type, search criteria beyond the patient)


SECTIONS = (
    Section("Allergies and intolerances", "48765-2", (("AllergyIntolerance", ()),)),
    Section("Documents and results", "30954-2", (
        # superseded and entered-in-error documents never appear (issue 13): current ones only
        ("DocumentReference", (("type:not", ADVANCE_DIRECTIVES), ("status", "current"))),
        ("DiagnosticReport", ()),
        ("Observation", (("category", LABORATORY),)),
    )),
    Section("Relatives to contact", None, (("RelatedPerson", ()),)),
    Section("Advance directives", "42348-3", (("DocumentReference", (("type", ADVANCE_DIRECTIVES),
                                                                     ("status", "current"))),)),
)


def _concept(value: Any) -> str:
    """A CodeableConcept (or Coding) as text: its text, else a display, else a code."""
    if not isinstance(value, dict):
        return ""
    codings = value.get("coding") or ([value] if "code" in value else [])
    return str(value.get("text") or next((c.get("display") or c.get("code") for c in codings
                                          if isinstance(c, dict) and (c.get("display") or c.get("code"))), ""))


def _when(resource: dict[str, Any]) -> str:
    for key in ("effectiveDateTime", "issued", "date", "recordedDate", "onsetDateTime", "authoredOn"):
        if isinstance(resource.get(key), str):
            return str(resource[key])
    period = resource.get("effectivePeriod") or resource.get("period")
    return str(period.get("start", "")) if isinstance(period, dict) else ""


def _value(obs: dict[str, Any]) -> str:
    quantity = obs.get("valueQuantity")
    if isinstance(quantity, dict):
        return f"{quantity.get('value', '')} {quantity.get('unit') or quantity.get('code') or ''}".strip()
    for key in ("valueString", "valueBoolean", "valueInteger", "valueDateTime"):
        if key in obs:
            return str(obs[key])
    return _concept(obs.get("valueCodeableConcept"))


def _name(person: dict[str, Any]) -> str:
    names = person.get("name") or []
    first = names[0] if names and isinstance(names[0], dict) else {}
    return str(first.get("text") or " ".join([*first.get("given", []), first.get("family", "")]).strip())


ROWS: dict[str, Callable[[dict[str, Any]], Row]] = {
    "AllergyIntolerance": lambda r: (_concept(r.get("code")), _when(r), ", ".join(
        x for x in (r.get("criticality"), _concept(r.get("clinicalStatus"))) if x)),
    "DocumentReference": lambda r: (str(r.get("description") or _concept(r.get("type"))), _when(r),
                                    _concept(r.get("type"))),
    "DiagnosticReport": lambda r: (_concept(r.get("code")), _when(r), str(r.get("conclusion") or r.get("status", ""))),
    "Observation": lambda r: (_concept(r.get("code")), _when(r), _value(r)),
    "RelatedPerson": lambda r: (_name(r), "", ", ".join(
        [_concept(c) for c in r.get("relationship") or []]
        + [str(t.get("value", "")) for t in r.get("telecom") or [] if isinstance(t, dict)])),
}


def _items(section: Section, patient: str) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    registry = search_registry.load()
    access = interactions.access()
    for type_, criteria in section.queries:
        if not auth.allows(access.requester.scopes, access.requester.kind, type_, "search-type"):
            continue
        docs = searching.find_matches(access.store, registry, type_, [("patient", patient), *criteria], limit=LIMIT)
        found += [(type_, d.resource) for d in docs]
    return sorted(found, key=lambda item: _when(item[1]), reverse=True)


def _narrative(section: Section, items: list[tuple[str, dict[str, Any]]]) -> str:
    if not items:
        return f"{XHTML}<p>No information available.</p></div>"
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in ROWS[t](r)) + "</tr>" for t, r in items
    )
    head = "<thead><tr><th>Item</th><th>Date</th><th>Details</th></tr></thead>"
    caption = f"<caption>{html.escape(section.title)}</caption>"
    return f"{XHTML}<table>{caption}{head}<tbody>{rows}</tbody></table></div>"


def _section(section: Section, items: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {"title": section.title}
    if section.code:
        out["code"] = {"coding": [{"system": LOINC, "code": section.code}]}
    out["text"] = {"status": "generated", "div": _narrative(section, items)}
    if items:
        out["entry"] = [{"reference": f"{t}/{r['id']}"} for t, r in items]
    else:
        out["emptyReason"] = EMPTY_REASON
    return out


def summary(call: Call) -> dict[str, Any]:
    assert call.id is not None
    patient_ref = record(call.id)
    patient = get_store().current("Patient", call.id)
    assert patient is not None
    now = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    found = [(s, _items(s, patient_ref)) for s in SECTIONS]
    title = f"Patient summary: {_name(patient.resource) or patient_ref}"
    composition = {
        "resourceType": "Composition",
        "id": str(uuid.uuid4()),
        "text": {"status": "generated", "div": f"{XHTML}<p>{html.escape(title)}, generated {now}.</p></div>"},
        "status": "final",
        "type": {"coding": [{"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}]},
        "subject": {"reference": patient_ref},
        "date": now,
        "author": [{"display": "Carnet"}],
        "title": title,
        "section": [_section(s, items) for s, items in found],
    }
    listed = {(t, r["id"]): r for _, items in found for t, r in items}
    entries = [{"fullUrl": f"{call.base_url}/{patient_ref}", "resource": patient.resource}] + [
        {"fullUrl": f"{call.base_url}/{t}/{id_}", "resource": r} for (t, id_), r in listed.items()
    ]
    audit.record(interactions.access(), "operation", "Patient", bundle={"entry": entries})
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
        "type": "document",
        "timestamp": now,
        "entry": [{"fullUrl": f"{call.base_url}/Composition/{composition['id']}", "resource": composition}, *entries],
    }


OPERATION = Operation(
    code="summary",
    definition="http://hl7.org/fhir/uv/ips/OperationDefinition/summary",
    handler=summary,
    documentation="An IPS-style summary document (allergies, documents and results, relatives to contact, "
                  "advance directives), built from what the caller may see.",
    types=("Patient",),
    instance_level=True,
    methods=("GET", "POST"),
)
