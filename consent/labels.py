"""Visibility flags (TRE_A07) and confidentiality codes, and which flags hide an item from whom.

Codes: research/dmp.md §2.4 (TRE_A07, TRE_A08); rules: §1.4 (MASQUE_PS), §1.5 (INVISIBLE_PATIENT),
§1.6 (INVISIBLE_REPRESENTANTS_LEGAUX).
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import Literal

from consent.elements import instant
from consent.predicate import After
from consent.predicate import And
from consent.predicate import AnyOf
from consent.predicate import Empty
from consent.predicate import Or
from consent.predicate import Predicate

TRE_A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
V3_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
#: the ANS copy of v3-Confidentiality (same OID 2.16.840.1.113883.5.25), accepted on input
TRE_A08 = "https://mos.esante.gouv.fr/NOS/TRE_A08-HL7Confidentiality/FHIR/TRE-A08-HL7Confidentiality"

MASQUE_PS = "MASQUE_PS"
INVISIBLE_PATIENT = "INVISIBLE_PATIENT"
INVISIBLE_REPRESENTANTS_LEGAUX = "INVISIBLE_REPRESENTANTS_LEGAUX"

#: R.1111-53: the patient is told of an item still hidden from them this long after its deposit,
#: and the flag lapses this long after it ("1 month": 30 days), whatever the stored labels say
INVISIBLE_PATIENT_NOTICE = timedelta(days=14)
INVISIBLE_PATIENT_LAPSE = timedelta(days=30)

#: v3-Confidentiality codes, least to most restrictive
CONFIDENTIALITY_ORDER = ("U", "L", "M", "N", "R", "V")

#: how a caller reaches an item of a patient's record (DESIGN §4, rules 3 to 8)
Role = Literal["patient", "representative", "attending", "author", "emergency", "granted"]

#: the visibility rule: flags that hide an item from each role
HIDDEN_FROM: dict[Role, frozenset[str]] = {
    "patient": frozenset({INVISIBLE_PATIENT}),
    "representative": frozenset({INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX}),
    "attending": frozenset(),
    "author": frozenset(),
    "emergency": frozenset({MASQUE_PS}),
    "granted": frozenset({MASQUE_PS}),
}

#: flags each record holder may set or clear on an item they can see (INVISIBLE_PATIENT is the
#: professionals' until the announcement consultation, R.1111-53; a representative cannot lift the
#: minor's INVISIBLE_REPRESENTANTS_LEGAUX, R.1111-50)
TOGGLED_BY: dict[Role, frozenset[str]] = {
    "patient": frozenset({MASQUE_PS, INVISIBLE_REPRESENTANTS_LEGAUX}),
    "representative": frozenset({MASQUE_PS}),
}


def visible_flags_rule(role: Role) -> frozenset[str]:
    """The flags that hide an item from a caller reaching it as ``role``."""
    return HIDDEN_FROM[role]


def hiding(role: Role, now: datetime | None) -> dict[str, Predicate]:
    """Per flag hiding an item from ``role``: the filter on ``acl`` true while it hides it at ``now``.

    ``INVISIBLE_PATIENT`` hides only while the deposit is less than 30 days old (lazily lifted, exact
    to the microsecond), and always when the deposit is unknown; ``now`` None: flags never lapse.
    """
    return {flag: _in_force(flag, now) for flag in sorted(HIDDEN_FROM[role])}


def _in_force(flag: str, now: datetime | None) -> Predicate:
    held = AnyOf("labels", (flag,))
    if flag != INVISIBLE_PATIENT or now is None:
        return held
    recent = Or((Empty("deposited"), After("deposited", instant(now - INVISIBLE_PATIENT_LAPSE))))
    return And((held, recent))
