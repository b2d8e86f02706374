"""Visibility flags (TRE_A07) and confidentiality codes, and which flags hide an item from whom.

Codes: research/dmp.md §2.4 (TRE_A07, TRE_A08); rules: §1.4 (MASQUE_PS), §1.5 (INVISIBLE_PATIENT),
§1.6 (INVISIBLE_REPRESENTANTS_LEGAUX).
"""
from __future__ import annotations

from typing import Literal

TRE_A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
V3_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
#: the ANS copy of v3-Confidentiality (same OID 2.16.840.1.113883.5.25), accepted on input
TRE_A08 = "https://mos.esante.gouv.fr/NOS/TRE_A08-HL7Confidentiality/FHIR/TRE-A08-HL7Confidentiality"

MASQUE_PS = "MASQUE_PS"
INVISIBLE_PATIENT = "INVISIBLE_PATIENT"
INVISIBLE_REPRESENTANTS_LEGAUX = "INVISIBLE_REPRESENTANTS_LEGAUX"

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
