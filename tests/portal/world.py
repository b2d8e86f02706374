"""The portal tests' world: the French examples (copied in data/), a granted physician, a
physician to block, an emergency physician, documents with text content, a minor whose guardian
signs in, and their login accounts. Seeded through the FHIR API with a system token."""

from __future__ import annotations

import base64
import copy
import json
import pathlib
from typing import Any

from flask import Flask

from fhir_server.auth import accounts
from fhir_server.storage import Collections
from fhir_server.storage import get_store_of
from tests.support import bearer

DATA = pathlib.Path(__file__).parent / "data"
EXAMPLES = {p.stem: json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))}
TRE_G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
TRE_A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
RPPS = "urn:oid:1.2.250.1.71.4.2.1"
P = "Patient/ins-adulte"
MINOR = "Patient/ins-mineur"
GRANTED = "Practitioner/cardiologue"
TO_BLOCK = "Practitioner/dentiste"
EMERGENCY = "Practitioner/urgentiste"
GUARDIAN = "RelatedPerson/representant-legal"
USERS = {"marie": ("marie-pw", P), "sophie": ("sophie-pw", GUARDIAN), "dr": ("dr-pw", GRANTED)}


def example(stem: str) -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES[stem])


def practitioner(id_: str, family: str, given: str, rpps: str, profession: str) -> list[dict[str, Any]]:
    return [
        {
            "resourceType": "Practitioner",
            "id": id_,
            "identifier": [{"system": RPPS, "value": rpps}],
            "name": [{"family": family, "given": [given], "prefix": ["Dr"]}],
        },
        {
            "resourceType": "PractitionerRole",
            "id": f"{id_}-role",
            "practitioner": {"reference": f"Practitioner/{id_}"},
            "code": [{"coding": [{"system": TRE_G15, "code": profession}]}],
        },
    ]


def document(
    id_: str, subject: str, description: str, date: str, text: str, flags: tuple[str, ...] = ()
) -> dict[str, Any]:
    resource = example("DocumentReference-compte-rendu") | {
        "id": id_,
        "subject": {"reference": subject},
        "description": description,
        "date": date,
    }
    resource["securityLabel"] += [{"coding": [{"system": TRE_A07, "code": flag}]} for flag in flags]
    resource["content"] = [
        {
            "attachment": {
                "contentType": "text/plain",
                "title": description,
                "data": base64.b64encode(text.encode()).decode(),
            }
        }
    ]
    return resource


def resources() -> list[dict[str, Any]]:
    grant = example("Consent-autorisation-praticien")
    grant["provision"]["actor"][0]["reference"]["reference"] = GRANTED
    guardian = example("RelatedPerson-representant-legal") | {"name": [{"family": "Durand", "given": ["Sophie"]}]}
    return [  # referenced resources first: references must resolve (issue 12)
        {"resourceType": "Organization", "id": "cabinet-lambert", "name": "Cabinet Lambert"},
        example("Practitioner-medecin-traitant"),
        example("Patient-ins-adulte"),
        example("Patient-ins-mineur"),
        example("PractitionerRole-medecin-traitant"),
        *practitioner("cardiologue", "Martin", "Paul", "810009876543", "10"),
        *practitioner("dentiste", "Bernard", "Luc", "810005555555", "40"),
        *practitioner("urgentiste", "Petit", "Anne", "810007777777", "10"),
        document(
            "compte-rendu",
            P,
            "Compte rendu d'hospitalisation",
            "2026-11-20T14:00:00+01:00",
            "Hospitalisation du 18 au 20 novembre 2026 : évolution favorable.",
        ),
        document("bilan", P, "Bilan sanguin", "2026-11-25T09:00:00+01:00", "Hémoglobine 13,5 g/dl."),
        document("vaccins", MINOR, "Carnet de vaccination", "2026-10-01T10:00:00+02:00", "Rappel DTP à jour."),
        document(
            "confidentiel",
            MINOR,
            "Consultation confidentielle",
            "2026-10-05T10:00:00+02:00",
            "Secret du mineur.",
            flags=("INVISIBLE_REPRESENTANTS_LEGAUX",),
        ),
        grant,
        guardian,
    ]


def seed(app: Flask) -> None:
    """Write the world through the API (system token) and create the login accounts."""
    client, system = app.test_client(), bearer(app)
    for resource in resources():
        response = client.put(f"/fhir/{resource['resourceType']}/{resource['id']}", json=resource, headers=system)
        assert response.status_code in (200, 201), response.get_json()
    with app.app_context():
        db = Collections(get_store_of(app))
        for username, (password, fhir_user) in USERS.items():
            accounts.add_user(db, username, password, fhir_user)
