"""A patient's consent state: record open or closed, attending physicians, guardians, and the
grants, blocks and emergency objections read from their Consent resources.

Consent shape: DESIGN §4 and research/dmp.md §3.1 (R4 Consent, IHE PCF nesting), §4.2.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import Literal

from consent.elements import codes
from consent.elements import codings
from consent.elements import in_period
from consent.elements import reference
from consent.elements import references
from consent.requester import Mode

CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
LOINC = "http://loinc.org"
PATIENT_CONSENT = "59284-0"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
CONSENT_ACTION = "http://terminology.hl7.org/CodeSystem/consentaction"
TRE_R248 = "https://mos.esante.gouv.fr/NOS/TRE_R248-ModeAcces/FHIR/TRE-R248-ModeAcces"
TRE_R260 = "https://mos.esante.gouv.fr/NOS/TRE_R260-HL7RoleClass/FHIR/TRE-R260-HL7RoleClass"
V3_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V3_ROLE_CLASS = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"

#: purpose codes of a deny provision that object to an emergency mode (two separate objections,
#: L.1111-17 I); TRE_R248 codes are accepted beside the v3-ActReason ones
_OBJECTED_MODE: dict[tuple[str, str], Mode] = {
    (ACT_REASON, "BTG"): "bris_de_glace",
    (ACT_REASON, "ETREAT"): "centre_15",
    (TRE_R248, "bris_de_glace"): "bris_de_glace",
    (TRE_R248, "centre_15"): "centre_15",
}
_GUARDIAN_SYSTEMS = frozenset({TRE_R260, V3_ROLE_CODE, V3_ROLE_CLASS})
#: provision elements that narrow a rule to part of the record: a permit so narrowed is not a grant
_NARROWING = ("securityLabel", "class", "code", "data", "dataPeriod")

DirectiveKind = Literal["grant", "block", "objection"]


@dataclass(frozen=True, order=True)
class Directive:
    """One rule a patient set: whom (actor ``Type/id``) or which mode it is about, and its Consent."""

    subject: str
    consent: str


@dataclass(frozen=True)
class PatientState:
    """What the consent engine knows of one patient's record (``ref`` is ``Patient/id``)."""

    ref: str
    open: bool = True
    general_practitioners: frozenset[str] = frozenset()
    grants: frozenset[Directive] = frozenset()
    blocks: frozenset[Directive] = frozenset()
    objections: frozenset[Directive] = frozenset()
    guardians: frozenset[str] = frozenset()

    def grant_for(self, identities: Iterable[str]) -> Directive | None:
        """The grant naming one of ``identities`` (the first in order), if any."""
        return _first_naming(self.grants, identities)

    def block_for(self, identities: Iterable[str]) -> Directive | None:
        """The block naming one of ``identities`` (the first in order), if any."""
        return _first_naming(self.blocks, identities)

    def objection_to(self, mode: str) -> Directive | None:
        """The objection to emergency access in ``mode``, if any."""
        return _first_naming(self.objections, (mode,))


def _first_naming(directives: frozenset[Directive], subjects: Iterable[str]) -> Directive | None:
    wanted = set(subjects)
    return min((d for d in directives if d.subject in wanted), default=None)


def patient_state(
    patient: Mapping[str, Any],
    consents: Iterable[Mapping[str, Any]],
    related: Iterable[Mapping[str, Any]],
    now: datetime,
) -> PatientState:
    """Build a patient's state from their Patient, Consent and RelatedPerson resources at ``now``.

    Resources about another patient, and Consents that are not active patient-privacy consents
    (LOINC 59284-0), are ignored.
    """
    ref = f"Patient/{patient.get('id')}"
    found: dict[DirectiveKind, set[Directive]] = {"grant": set(), "block": set(), "objection": set()}
    for consent in consents:
        if reference(consent.get("patient")) == ref:
            for kind, directive in consent_directives(consent, now):
                found[kind].add(directive)
    return PatientState(
        ref=ref,
        open=patient.get("active") is not False,
        general_practitioners=frozenset(references(patient.get("generalPractitioner"))),
        grants=frozenset(found["grant"]),
        blocks=frozenset(found["block"]),
        objections=frozenset(found["objection"]),
        guardians=frozenset(
            f"RelatedPerson/{person.get('id')}"
            for person in related
            if reference(person.get("patient")) == ref and _guardian(person, now)
        ),
    )


def consent_directives(consent: Mapping[str, Any], now: datetime | None) -> Iterator[tuple[DirectiveKind, Directive]]:
    """The grants, blocks and objections a Consent sets, in force at ``now`` (None: whatever the periods).

    Provisions nest as exceptions to their parent (IHE PCF): a nested provision inherits its
    parent's actors when it names none, and applies only within its parent's period. A permit
    counts as a grant only when it names actors, is for treatment (or any purpose), for access
    (or any action), and is not narrowed to part of the record; a deny naming actors blocks them
    from the whole record, whatever else narrows it (deny wins when in doubt); a deny naming no
    actor objects to the emergency modes its purposes name. An unreadable period keeps a deny in
    force and a permit out of it.
    """
    if not _privacy_consent(consent):
        return
    source = f"Consent/{consent.get('id')}"
    pending: list[tuple[object, list[str], bool | None]] = [(consent.get("provision"), [], True)]
    while pending:
        provision, inherited, parent_in_force = pending.pop()
        if not isinstance(provision, Mapping):
            continue
        actors = references([a.get("reference") for a in provision.get("actor") or [] if isinstance(a, Mapping)])
        actors = actors or inherited
        own = True if now is None else in_period(provision.get("period"), now)
        in_force = False if False in (parent_in_force, own) else None if None in (parent_in_force, own) else True
        yield from _rules(provision, actors, in_force, source)
        pending.extend((child, actors, in_force) for child in provision.get("provision") or [])


def _rules(
    provision: Mapping[str, Any],
    actors: list[str],
    in_force: bool | None,
    source: str,
) -> Iterator[tuple[DirectiveKind, Directive]]:
    kind = provision.get("type")
    if kind == "permit" and in_force is True and actors and _grants_access(provision):
        yield from (("grant", Directive(actor, source)) for actor in actors)
    elif kind == "deny" and in_force is not False:
        if actors:
            yield from (("block", Directive(actor, source)) for actor in actors)
        else:
            purposes = {(c.get("system"), c.get("code")) for c in codings(provision.get("purpose") or [])}
            modes = {mode for key, mode in _OBJECTED_MODE.items() if key in purposes}
            yield from (("objection", Directive(mode, source)) for mode in sorted(modes))


def _grants_access(provision: Mapping[str, Any]) -> bool:
    purposes = codes(provision.get("purpose") or [], frozenset({ACT_REASON}))
    actions = codes(provision.get("action") or [], frozenset({CONSENT_ACTION}))
    return (
        (not provision.get("purpose") or "TREAT" in purposes)
        and (not provision.get("action") or "access" in actions)
        and not any(provision.get(element) for element in _NARROWING)
    )


def _privacy_consent(consent: Mapping[str, Any]) -> bool:
    return (
        consent.get("resourceType", "Consent") == "Consent"
        and consent.get("status") == "active"
        and "patient-privacy" in codes(consent.get("scope"), frozenset({CONSENT_SCOPE}))
        and PATIENT_CONSENT in codes(consent.get("category") or [], frozenset({LOINC}))
    )


def _guardian(person: Mapping[str, Any], now: datetime) -> bool:
    """A RelatedPerson who is the patient's legal representative (GUARD) now."""
    return person.get("active") is not False and in_period(person.get("period"), now) is True and names_guardian(person)


def names_guardian(person: Mapping[str, Any]) -> bool:
    """Whether a RelatedPerson's relationship is GUARD (legal representative), whatever its status or period."""
    return "GUARD" in codes(person.get("relationship") or [], _GUARDIAN_SYSTEMS)
