"""Who asks: the identity a bearer token resolves to, as plain data for the consent engine."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Literal

Kind = Literal["patient", "related", "practitioner", "system"]
Mode = Literal["normal", "bris_de_glace", "centre_15"]

#: purpose_of_use claim (v3 ActReason) -> DMP access mode (TRE_R248)
MODE_BY_PURPOSE: dict[str, Mode] = {"TREAT": "normal", "BTG": "bris_de_glace", "ETREAT": "centre_15"}
#: fhirUser resource type -> requester kind
KIND_BY_TYPE: dict[str, Kind] = {
    "Patient": "patient",
    "RelatedPerson": "related",
    "Practitioner": "practitioner",
    "PractitionerRole": "practitioner",
}


@dataclass(frozen=True)
class Requester:
    """The caller of one request.

    ``ref`` is the token's fhirUser (``Practitioner/123``), None for system clients.
    ``identities`` holds every reference the caller acts as, filled by the server from the store:
    for a practitioner their Practitioner, PractitionerRoles and Organizations; for a patient or a
    related person their own reference. ``profession`` is a TRE_G15 code when known (``specialty``
    a TRE_R38 one). ``emergency_records`` holds the records (``Patient/id``) on which the server
    opened this caller an emergency window that is still running (``fhir_server.dmp.emergency``).
    """

    kind: Kind
    sub: str
    ref: str | None = None
    scopes: frozenset[str] = frozenset()
    mode: Mode = "normal"
    reason: str | None = None
    profession: str | None = None
    specialty: str | None = None
    identities: frozenset[str] = field(default_factory=frozenset)
    emergency_records: frozenset[str] = field(default_factory=frozenset)
