"""Patient/$summary: an IPS-style patient summary document (https://hl7.org/fhir/uv/ips/), built
only from what the caller may see, narrative included.

A document Bundle (https://hl7.org/fhir/R4/documents.html): a Composition first, then the Patient
and every resource a section lists. Each section's items are found by official search parameters
with the caller's consent policy inside the query (``searchset.find_matches``); its narrative is
generated from those items alone, and an empty section reads the same whether nothing exists or
nothing is visible.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from consent.elements import reference
from search import registry as search_registry
from search.plan import Cmp
from search.plan import Column

from .. import audit
from .. import auth
from .. import clock
from .. import interactions
from .. import searchset
from ..access import current_access
from ..errors import BadRequest
from ..errors import NotFound
from ..errors import PreconditionFailed
from ..storage import Stored
from ..storage import get_store
from .definition import Call
from .definition import Operation
from .everything import readable_patient

LOINC = "http://loinc.org"
TRE_A05 = "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"
ADVANCE_DIRECTIVES = f"{TRE_A05}|EXPPAT_3"
LABORATORY = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
EMPTY_REASON = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
            "code": "unavailable",
            "display": "Unavailable",
        }
    ]
}
#: items listed per query at most (the section then lists them newest first)
LIMIT = 100
XHTML = '<div xmlns="http://www.w3.org/1999/xhtml">'

Row = tuple[str, str, str]  # what, when, detail


@dataclass(frozen=True)
class Section:
    title: str
    code: str | None  # LOINC section code, when IPS has one
    queries: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (type, search criteria beyond the patient)
    #: always present (emptyReason when nothing is listed); the others only when they list something
    required: bool = False


VITAL_SIGNS = "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
NOT_IN_ERROR = ("status:not", "entered-in-error")
SECTIONS = (
    Section(
        "Medication summary",
        "10160-0",
        (
            ("MedicationStatement", (("status", "active,intended,on-hold"),)),
            ("MedicationRequest", (("status", "active,on-hold,draft"),)),
        ),
        required=True,
    ),
    Section(
        "Allergies and intolerances",
        "48765-2",
        (("AllergyIntolerance", (("verification-status:not", "entered-in-error"),)),),
        required=True,
    ),
    Section(
        "Problem list",
        "11450-4",
        (
            (
                "Condition",
                (
                    ("clinical-status", f"{CLINICAL}|active,{CLINICAL}|recurrence,{CLINICAL}|relapse"),
                    ("verification-status:not", "entered-in-error"),
                ),
            ),
        ),
        required=True,
    ),
    Section(
        "Documents and results",
        "30954-2",
        (
            ("DocumentReference", (("type:not", ADVANCE_DIRECTIVES), ("status", "current"))),
            ("DiagnosticReport", (NOT_IN_ERROR,)),
            ("Observation", (("category", LABORATORY), NOT_IN_ERROR)),
        ),
        required=True,
    ),
    Section("Immunizations", "11369-6", (("Immunization", (NOT_IN_ERROR,)),)),
    Section("Procedures", "47519-4", (("Procedure", (NOT_IN_ERROR,)),)),
    Section("Medical devices", "46264-8", (("DeviceUseStatement", ()),)),  # R4: no status parameter
    Section("Vital signs", "8716-3", (("Observation", (("category", VITAL_SIGNS), NOT_IN_ERROR)),)),
    Section(
        "Past history of illness",
        "11348-0",
        (
            (
                "Condition",
                (
                    ("clinical-status", f"{CLINICAL}|inactive,{CLINICAL}|resolved,{CLINICAL}|remission"),
                    ("verification-status:not", "entered-in-error"),
                ),
            ),
        ),
    ),
    Section("Plan of care", "18776-5", (("CarePlan", (("status", "active,on-hold"),)),)),
    Section("Relatives to contact", None, (("RelatedPerson", ()),), required=True),
    Section(
        "Advance directives",
        "42348-3",
        (("DocumentReference", (("type", ADVANCE_DIRECTIVES), ("status", "current"))),),
        required=True,
    ),
)


def _concept(value: Any) -> str:
    """A CodeableConcept (or Coding) as text: its text, else a display, else a code."""
    if not isinstance(value, dict):
        return ""
    codings = value.get("coding") or ([value] if "code" in value else [])
    return str(
        value.get("text")
        or next(
            (
                c.get("display") or c.get("code")
                for c in codings
                if isinstance(c, dict) and (c.get("display") or c.get("code"))
            ),
            "",
        )
    )


def _when(resource: dict[str, Any]) -> str:
    for key in (
        "effectiveDateTime",
        "issued",
        "date",
        "recordedDate",
        "onsetDateTime",
        "authoredOn",
        "occurrenceDateTime",
        "performedDateTime",
        "dateAsserted",
        "created",
    ):
        if isinstance(resource.get(key), str):
            return str(resource[key])
    period = resource.get("effectivePeriod") or resource.get("period") or resource.get("performedPeriod")
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


def _medication(resource: dict[str, Any]) -> str:
    """The medication as text: its concept, else the reference's display (never read behind it)."""
    ref = resource.get("medicationReference")
    return _concept(resource.get("medicationCodeableConcept")) or str((ref or {}).get("display") or "Medication")


ROWS: dict[str, Callable[[dict[str, Any]], Row]] = {
    "AllergyIntolerance": lambda r: (
        _concept(r.get("code")),
        _when(r),
        ", ".join(x for x in (r.get("criticality"), _concept(r.get("clinicalStatus"))) if x),
    ),
    "DocumentReference": lambda r: (
        str(r.get("description") or _concept(r.get("type"))),
        _when(r),
        _concept(r.get("type")),
    ),
    "DiagnosticReport": lambda r: (_concept(r.get("code")), _when(r), str(r.get("conclusion") or r.get("status", ""))),
    "Observation": lambda r: (_concept(r.get("code")), _when(r), _value(r)),
    "MedicationStatement": lambda r: (_medication(r), _when(r), str(r.get("status", ""))),
    "MedicationRequest": lambda r: (_medication(r), _when(r), str(r.get("status", ""))),
    "Condition": lambda r: (_concept(r.get("code")), _when(r), _concept(r.get("clinicalStatus"))),
    "Immunization": lambda r: (_concept(r.get("vaccineCode")), _when(r), str(r.get("status", ""))),
    "Procedure": lambda r: (_concept(r.get("code")), _when(r), str(r.get("status", ""))),
    "DeviceUseStatement": lambda r: (
        str((r.get("device") or {}).get("display") or "Device"),
        _when(r),
        str(r.get("status", "")),
    ),
    "CarePlan": lambda r: (
        str(r.get("title") or r.get("description") or _concept((r.get("category") or [{}])[0])),
        _when(r),
        str(r.get("status", "")),
    ),
    "RelatedPerson": lambda r: (
        _name(r),
        "",
        ", ".join(
            [_concept(c) for c in r.get("relationship") or []]
            + [str(t.get("value", "")) for t in r.get("telecom") or [] if isinstance(t, dict)]
        ),
    ),
}


def _items(section: Section, patient: str) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    registry = search_registry.load()
    access = current_access()
    for type_, criteria in section.queries:
        if not auth.allows(access.requester.scopes, access.requester.kind, type_, "search-type"):
            continue
        docs = searchset.find_matches(access.store, registry, type_, [("patient", patient), *criteria], limit=LIMIT)
        found += [(type_, d.resource) for d in docs]
    return sorted(found, key=lambda item: _when(item[1]), reverse=True)


def _narrative(section: Section, items: list[tuple[str, dict[str, Any]]]) -> str:
    if not items:
        return f"{XHTML}<p>No information available.</p></div>"
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in ROWS[t](r)) + "</tr>" for t, r in items)
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


def _patient_id(call: Call) -> str:
    """The instance's id, else the one Patient the caller may see with ``identifier``
    (``GET [base]/Patient/$summary?identifier=system|value``; 404 as for an unknown one)."""
    if call.id is not None:
        return call.id
    identifier = call.first("identifier")
    if not identifier:
        raise BadRequest("Patient/$summary needs an instance or identifier=system|value", expression=["identifier"])
    interactions.allow("Patient", "search-type")
    found = searchset.find_matches(
        current_access().store, search_registry.load(), "Patient", [("identifier", identifier)], limit=2
    )
    if not found:
        raise NotFound(f"No Patient with identifier {identifier} is known")
    if len(found) > 1:
        raise PreconditionFailed(f"Several Patients have identifier {identifier}")
    return found[0].id


def _author_device() -> dict[str, Any]:
    """The document's author: this server, as a Device entry of the Bundle (IPS: a generated summary)."""
    id_ = str(uuid.uuid4())
    device = {
        "resourceType": "Device",
        "id": id_,
        "deviceName": [{"name": "Carnet", "type": "manufacturer-name"}],
        "type": {"text": "FHIR server generating the patient summary"},
    }
    return {"fullUrl": f"urn:uuid:{id_}", "resource": device}


def _custodian(patient: dict[str, Any]) -> Stored | None:
    """The organization that keeps the record (``Patient.managingOrganization``), if the caller may see it."""
    ref = reference(patient.get("managingOrganization"))
    if not ref or not ref.startswith("Organization/"):
        return None
    found = current_access().store.find("Organization", Column("id", Cmp("", "eq", ref.partition("/")[2])))
    return found[0] if found else None


def summary(call: Call) -> dict[str, Any]:
    id_ = _patient_id(call)
    patient_ref = readable_patient(id_)
    patient = get_store().current("Patient", id_)
    assert patient is not None
    now = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    found = [(s, _items(s, patient_ref)) for s in SECTIONS]
    title = f"Patient summary: {_name(patient.resource) or patient_ref}"
    author = _author_device()
    custodian = _custodian(patient.resource)
    composition = {
        "resourceType": "Composition",
        "id": str(uuid.uuid4()),
        "text": {"status": "generated", "div": f"{XHTML}<p>{html.escape(title)}, generated {now}.</p></div>"},
        "status": "final",
        "type": {"coding": [{"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}]},
        "subject": {"reference": patient_ref},
        "date": now,
        "author": [{"reference": author["fullUrl"]}],
        "title": title,
        **({"custodian": {"reference": f"Organization/{custodian.id}"}} if custodian else {}),
        "section": [_section(s, items) for s, items in found if s.required or items],
    }
    listed = {(t, r["id"]): r for _, items in found for t, r in items}
    entries = [{"fullUrl": f"{call.base_url}/{patient_ref}", "resource": patient.resource}] + [
        {"fullUrl": f"{call.base_url}/{t}/{id_}", "resource": r} for (t, id_), r in listed.items()
    ]
    audit.trace(current_access(), "operation", "Patient", bundle={"entry": entries})
    entries.append(author)
    if custodian is not None and ("Organization", custodian.id) not in listed:
        entries.append({"fullUrl": f"{call.base_url}/Organization/{custodian.id}", "resource": custodian.resource})
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
    documentation="An International Patient Summary document (IPS sections: medications, allergies, problems, "
    "results, immunizations, procedures, devices, vital signs, history, plan of care, advance "
    "directives, plus relatives to contact), built from what the caller may see; "
    "Patient/$summary?identifier=system|value at type level.",
    types=("Patient",),
    type_level=True,
    instance_level=True,
    methods=("GET", "POST"),
)
