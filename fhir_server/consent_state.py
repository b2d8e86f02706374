"""The consent engine's I/O edge: caller identities and patients' consent states, read from the store.

Read on every request, never cached: a Consent written now decides the next request. Queries use
``resource.*`` and ``acl.*`` paths of the stored documents (docs/contracts.md), never ``idx``.
"""
from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from typing import Any

from pymongo.database import Database

from consent.elements import codes
from consent.elements import in_period
from consent.elements import reference
from consent.engine import identities
from consent.engine import own_records
from consent.requester import Requester
from consent.state import PatientState
from consent.state import patient_state

from .storage import HISTORY
from .storage import LINKS

TRE_G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
TRE_R38 = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
#: collections that hold no current resource versions
_NOT_RESOURCES = frozenset({HISTORY, LINKS})
_LIVE: dict[str, Any] = {"deleted": False}

type Db = Database[Any]


def enrich(db: Db, requester: Requester, *, now: datetime | None = None) -> Requester:
    """``requester`` with every identity it acts as, and its profession/specialty from the directory.

    A Practitioner acts as itself, its active PractitionerRoles and their Organizations; a
    PractitionerRole as itself, its practitioner (always: a block follows the person) and, while
    active, its organization. The directory's TRE_G15 profession and TRE_R38 specialty win over
    the token's. Patients and related persons act as their own reference.
    """
    if requester.ref is None:
        return requester
    found = set(identities(requester))
    profession, specialty = requester.profession, requester.specialty
    type_, _, id_ = requester.ref.partition("/")
    if requester.kind == "practitioner" and type_ in ("Practitioner", "PractitionerRole"):
        query = {"resource.practitioner.reference": requester.ref} if type_ == "Practitioner" else {"_id": id_}
        roles = [d["resource"] for d in db["PractitionerRole"].find({**_LIVE, **query}).sort("_id", 1)]
        found.update(ref for role in roles if (ref := reference(role.get("practitioner"))))
        current = [role for role in roles if _active(role, now or datetime.now(UTC))]
        for role in current:
            found.add(f"PractitionerRole/{role['id']}")
            found.update(ref for ref in [reference(role.get("organization"))] if ref)
        professions = [c for role in current for c in codes(role.get("code") or [], frozenset({TRE_G15}))]
        specialties = [c for role in current for c in codes(role.get("specialty") or [], frozenset({TRE_R38}))]
        profession = professions[0] if professions else profession
        specialty = specialties[0] if specialties else specialty
    return replace(requester, identities=frozenset(found), profession=profession, specialty=specialty)


def load_states(
    db: Db, requester: Requester, patient_refs: Iterable[str] | None = None, now: datetime | None = None, *,
    discover: bool = True,
) -> dict[str, PatientState]:
    """The consent states of the records that may matter to ``requester``, keyed by ``Patient/id``.

    Always ``patient_refs`` (e.g. the record of the resource being read). With ``discover`` (for
    searches): a patient's own record, and the records linked to any of the caller's identities
    (``linked_records``). A record missing from the store has no state.
    ``requester`` should be enriched (``enrich``) first.
    """
    now = now or datetime.now(UTC)
    refs = {ref for ref in patient_refs or () if ref.startswith("Patient/")}
    ids = sorted(identities(requester))
    if discover and requester.kind != "system" and ids:
        refs |= own_records(requester)
        refs |= linked_records(db, ids)
    return _states(db, sorted(refs), now)


def linked_records(db: Db, actors: list[str]) -> set[str]:
    """The records holding an item one of ``actors`` authored, a Consent naming one of them, a
    Patient naming one as attending physician, or that RelatedPerson (``Store.link``): one lookup
    instead of a scan of every collection."""
    return {ref for doc in db[LINKS].find({"_id": {"$in": actors}}) for ref in doc["records"]}


@dataclass(frozen=True)
class Record:
    """The resources a patient's consent state is built from."""

    patient: Mapping[str, Any]
    consents: list[Mapping[str, Any]]
    related: list[Mapping[str, Any]]


def records(db: Db, refs: Iterable[str]) -> dict[str, Record]:
    """The live Patient, Consents and RelatedPersons of each record (``Patient/id``) that exists."""
    wanted = sorted({ref for ref in refs if ref.startswith("Patient/")})
    if not wanted:
        return {}
    about = {**_LIVE, "resource.patient.reference": {"$in": wanted}}
    consents, related = _grouped(db["Consent"].find(about)), _grouped(db["RelatedPerson"].find(about))
    found = {}
    for ref in wanted:
        # one lookup by _id each: the embedded engine answers `_id: {$in: [...]}` with a scan (8x slower)
        doc = db["Patient"].find_one({"_id": ref.partition("/")[2]})
        if doc is not None and not doc["deleted"]:
            found[ref] = Record(doc["resource"], consents.get(ref, []), related.get(ref, []))
    return found


def _states(db: Db, refs: list[str], now: datetime) -> dict[str, PatientState]:
    return {
        ref: patient_state(record.patient, record.consents, record.related, now)
        for ref, record in records(db, refs).items()
    }


def resource_collections(db: Db) -> list[str]:
    """The collections holding current resource versions (any may hold items of a record)."""
    return sorted(set(db.list_collection_names()) - _NOT_RESOURCES)


def compartment(db: Db, ref: str) -> dict[str, dict[str, Any]]:
    """``Type/id`` -> acl of the live items whose primary compartment is the record ``ref``."""
    return {
        f"{name}/{doc['_id']}": doc["acl"]
        for name in resource_collections(db)
        for doc in db[name].find({**_LIVE, "acl.patient": ref}, {"acl": 1})
    }


def _grouped(docs: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for doc in docs:
        ref = reference(doc["resource"].get("patient"))
        if ref:
            grouped.setdefault(ref, []).append(doc["resource"])
    return grouped


def _active(role: Mapping[str, Any], now: datetime) -> bool:
    return role.get("active") is not False and in_period(role.get("period"), now) is True
