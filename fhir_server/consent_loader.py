"""The consent engine's I/O edge: caller identities and patients' consent states, read from the store.

Read on every request, never cached: a Consent written now decides the next request. Every read
is an indexed lookup (by id, by a reference search value, or the actor links), never a scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from typing import Any

from consent.elements import codes
from consent.elements import in_period
from consent.elements import reference
from consent.engine import identities
from consent.engine import own_records
from consent.predicate import AnyOf
from consent.requester import Requester
from consent.state import PatientState
from consent.state import patient_state
from search.plan import Attr
from search.plan import Cmp
from search.plan import Column
from search.plan import Value
from search.plan import Where

from . import clock
from .storage import Repository
from .storage import Stored
from .storage import no_policy

TRE_G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
TRE_R38 = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"


def _referring(code: str, refs: list[str]) -> Where:
    """Resources whose reference parameter ``code`` names one of ``refs``."""
    return Value(code, "reference", Cmp("", "in", tuple(refs)))


def _found(repo: Repository, type_: str, where: Where) -> list[Stored]:
    return repo.find(type_, where, no_policy)


def enrich(repo: Repository, requester: Requester, *, now: datetime | None = None) -> Requester:
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
        if type_ == "Practitioner":
            roles = [s.resource for s in _found(repo, "PractitionerRole", _referring("practitioner", [requester.ref]))]
        else:
            stored = repo.current("PractitionerRole", id_)
            roles = [stored.resource] if stored is not None and not stored.deleted else []
        found.update(ref for role in roles if (ref := reference(role.get("practitioner"))))
        current = [role for role in roles if _active(role, now or clock.now())]
        for role in current:
            found.add(f"PractitionerRole/{role['id']}")
            found.update(ref for ref in [reference(role.get("organization"))] if ref)
        professions = [c for role in current for c in codes(role.get("code") or [], frozenset({TRE_G15}))]
        specialties = [c for role in current for c in codes(role.get("specialty") or [], frozenset({TRE_R38}))]
        profession = professions[0] if professions else profession
        specialty = specialties[0] if specialties else specialty
    return replace(requester, identities=frozenset(found), profession=profession, specialty=specialty)


def load_states(
    repo: Repository,
    requester: Requester,
    patient_refs: Iterable[str] | None = None,
    now: datetime | None = None,
    *,
    discover: bool = True,
) -> dict[str, PatientState]:
    """The consent states of the records that may matter to ``requester``, keyed by ``Patient/id``.

    Always ``patient_refs`` (e.g. the record of the resource being read). With ``discover`` (for
    searches): a patient's own record, and the records linked to any of the caller's identities
    (``linked_records``). A record missing from the store has no state.
    ``requester`` should be enriched (``enrich``) first.
    """
    now = now or clock.now()
    refs = {ref for ref in patient_refs or () if ref.startswith("Patient/")}
    ids = sorted(identities(requester))
    if discover and requester.kind != "system" and ids:
        refs |= own_records(requester)
        # the records holding an item one of them authored, a Consent naming one of them, a Patient
        # naming one as attending physician, or that RelatedPerson: one lookup of the actor links
        refs |= repo.linked_records(ids)
    return _states(repo, sorted(refs), now)


@dataclass(frozen=True)
class ConsentSources:
    """The resources a patient's consent state is built from."""

    patient: Mapping[str, Any]
    consents: list[Mapping[str, Any]]
    related: list[Mapping[str, Any]]


def consent_sources(repo: Repository, refs: Iterable[str]) -> dict[str, ConsentSources]:
    """The live Patient, Consents and RelatedPersons of each record (``Patient/id``) that exists."""
    wanted = sorted({ref for ref in refs if ref.startswith("Patient/")})
    if not wanted:
        return {}
    about = _referring("patient", wanted)
    consents, related = _grouped(_found(repo, "Consent", about)), _grouped(_found(repo, "RelatedPerson", about))
    ids = tuple(ref.partition("/")[2] for ref in wanted)
    patients = _found(repo, "Patient", Column("id", Cmp("", "in", ids)))
    return {
        f"Patient/{p.id}": ConsentSources(
            p.resource, consents.get(f"Patient/{p.id}", []), related.get(f"Patient/{p.id}", [])
        )
        for p in patients
    }


def _states(repo: Repository, refs: list[str], now: datetime) -> dict[str, PatientState]:
    return {
        ref: patient_state(sources.patient, sources.consents, sources.related, now)
        for ref, sources in consent_sources(repo, refs).items()
    }


def compartment(repo: Repository, ref: str) -> dict[str, dict[str, Any]]:
    """``Type/id`` -> acl of the live items whose primary compartment is the record ``ref``."""
    return {f"{s.type}/{s.id}": s.acl for s in repo.find(None, Attr(AnyOf("patient", (ref,))), no_policy)}


def _grouped(found: list[Stored]) -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for stored in found:
        ref = reference(stored.resource.get("patient"))
        if ref:
            grouped.setdefault(ref, []).append(stored.resource)
    return grouped


def _active(role: Mapping[str, Any], now: datetime) -> bool:
    return role.get("active") is not False and in_period(role.get("period"), now) is True
