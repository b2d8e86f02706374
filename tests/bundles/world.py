"""A consent world for the bundle and operation tests, from the French examples (tests/fixtures/examples-fr):
the adult patient, their attending physician, a nurse they granted, a stranger, their documents
(one masked to professionals), an allergy, an emergency contact and advance directives."""

from __future__ import annotations

import copy
import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.support import EXAMPLES_FR
from tests.support import bearer

EXAMPLES = {p.stem: json.loads(p.read_text()) for p in sorted(EXAMPLES_FR.glob("*.json"))}
PATIENT = "Patient/ins-adulte"
GP = "Practitioner/medecin-traitant"
NURSE = "Practitioner/infirmier"
STRANGER = "Practitioner/inconnu"
SEEDED = (
    "Practitioner-medecin-traitant",
    "Patient-ins-adulte",
    "PractitionerRole-medecin-traitant",
    "PractitionerRole-infirmier",
    "Consent-autorisation-praticien",
    "DocumentReference-compte-rendu",
    "DocumentReference-masque-ps",
    "DocumentReference-directives-anticipees",
    "AllergyIntolerance-penicilline",
    "RelatedPerson-contact-urgence",
)
A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"


def example(stem: str) -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES[stem])


def biology() -> dict[str, Any]:
    """The masked biology report's twin, not masked: what the granted nurse reads."""
    resource = example("DocumentReference-masque-ps") | {"id": "bilan", "description": "Bilan visible"}
    resource["securityLabel"] = [
        s for s in resource["securityLabel"] if not any(c.get("system") == A07 for c in s["coding"])
    ]
    resource["content"] = [
        {"attachment": {"contentType": "application/pdf", "url": "Binary/bilan-pdf", "title": "Bilan"}}
    ]
    return resource


#: what the examples name but do not hold: written first, since references must resolve (issue 12)
STUBS = (
    {"resourceType": "Organization", "id": "cabinet-lambert", "name": "Cabinet Lambert"},
    {"resourceType": "Organization", "id": "chu-exemple", "name": "CHU Exemple"},
    *({"resourceType": "Practitioner", "id": p} for p in ("infirmier", "biologiste", "praticien-bloque")),
)


def seed(client: FlaskClient, system: dict[str, str]) -> None:
    for resource in [*STUBS, *(example(stem) for stem in SEEDED), biology()]:
        resp = client.put(f"/fhir/{resource['resourceType']}/{resource['id']}", json=resource, headers=system)
        assert resp.status_code in (200, 201), resp.get_json()


def headers(app: Flask, who: str) -> dict[str, str]:
    scope = "patient/*.cruds" if who.startswith(("Patient/", "RelatedPerson/")) else "user/*.cruds"
    return bearer(app, fhir_user=who, scope=scope)
