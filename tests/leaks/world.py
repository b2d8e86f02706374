"""A fixture world for consent probes: every actor and flag of DESIGN §4, written over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.support import bearer

A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
TRE_G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
CONF = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
SCOPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]}
CATEGORY = [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}]


def consent(id_: str, patient: str, kind: str, actor: str) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "id": id_,
        "status": "active",
        "scope": SCOPE,
        "category": CATEGORY,
        "patient": {"reference": patient},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "provision": {
            "type": kind,
            "actor": [
                {
                    "role": {
                        "coding": [
                            {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}
                        ]
                    },
                    "reference": {"reference": actor},
                }
            ],
        },
    }


def document(
    id_: str, patient: str, author: str, flags: tuple[str, ...] = (), identifier: str | None = None
) -> dict[str, Any]:
    labels = [{"coding": [{"system": A07, "code": f}]} for f in flags]
    labels.append({"coding": [{"system": CONF, "code": "N"}]})
    body: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": id_,
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11502-2"}]},
        "category": [
            {
                "coding": [
                    {
                        "system": "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument",
                        "code": "10",
                    }
                ]
            }
        ],
        "subject": {"reference": patient},
        "author": [{"reference": author}],
        "date": "2026-11-20T10:00:00+01:00",
        "securityLabel": labels,
        "content": [{"attachment": {"contentType": "text/plain", "data": "UmVzdWx0YXRz"}}],
    }
    if identifier:
        body["identifier"] = [{"system": "urn:carnet:doc", "value": identifier}]
    return body


RESOURCES: list[dict[str, Any]] = [
    {"resourceType": "Organization", "id": "org1", "name": "Clinique du Parc"},
    *(
        {"resourceType": "Practitioner", "id": p, "name": [{"family": p.title()}]}
        for p in ("gp", "granted", "blocked", "author", "stranger", "orgdoc")
    ),
    *(
        {
            "resourceType": "PractitionerRole",
            "id": f"{p}-role",
            "practitioner": {"reference": f"Practitioner/{p}"},
            **({"organization": {"reference": "Organization/org1"}} if p == "orgdoc" else {}),
            "code": [{"coding": [{"system": TRE_G15, "code": "10"}]}],
        }
        for p in ("gp", "granted", "blocked", "author", "stranger", "orgdoc")
    ),
    {
        "resourceType": "Patient",
        "id": "p1",
        "active": True,
        "name": [{"family": "Durand", "given": ["Léa"]}],
        "generalPractitioner": [{"reference": "Practitioner/gp"}],
    },
    {
        "resourceType": "Patient",
        "id": "p2",
        "active": False,
        "name": [{"family": "Closed"}],
        "generalPractitioner": [{"reference": "Practitioner/gp"}],
    },
    {
        "resourceType": "Patient",
        "id": "minor",
        "active": True,
        "birthDate": "2015-04-01",
        "name": [{"family": "Petit"}],
    },
    {
        "resourceType": "RelatedPerson",
        "id": "guard",
        "patient": {"reference": "Patient/minor"},
        "relationship": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "GUARD"}]}
        ],
    },
    consent("grant-p1", "Patient/p1", "permit", "Practitioner/granted"),
    consent("grant-p1-blocked", "Patient/p1", "permit", "Practitioner/blocked"),
    consent("block-p1", "Patient/p1", "deny", "Practitioner/blocked"),
    consent("grant-p1-org", "Patient/p1", "permit", "Organization/org1"),
    consent("grant-p2", "Patient/p2", "permit", "Practitioner/granted"),
    consent("grant-minor", "Patient/minor", "permit", "Practitioner/granted"),
    document("d1", "Patient/p1", "Practitioner/author", identifier="d1"),
    document("d2", "Patient/p1", "Practitioner/author", ("MASQUE_PS",), identifier="d2"),
    document("d3", "Patient/p1", "Practitioner/author", ("INVISIBLE_PATIENT",), identifier="d3"),
    document("d4", "Patient/minor", "Practitioner/author", ("INVISIBLE_REPRESENTANTS_LEGAUX",), identifier="d4"),
    document("d5", "Patient/p2", "Practitioner/author", identifier="d5"),
    {
        "resourceType": "AllergyIntolerance",
        "id": "a1",
        "patient": {"reference": "Patient/p1"},
        "recorder": {"reference": "Practitioner/gp"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "373270004", "display": "Penicillin"}]},
    },
]


@dataclass
class World:
    app: Flask
    client: FlaskClient

    def headers(self, who: str | None) -> dict[str, str]:
        """Authorization headers for an actor: a reference like Practitioner/gp, or None for system."""
        if who is None:
            return bearer(self.app)
        scope = "patient/*.cruds" if who.split("/")[0] in ("Patient", "RelatedPerson") else "user/*.cruds"
        return bearer(self.app, fhir_user=who, scope=scope)

    def get(self, who: str | None, url: str) -> Any:
        return self.client.get(url, headers=self.headers(who))

    def ids(self, who: str | None, url: str) -> list[str]:
        bundle = self.get(who, url).get_json()
        return sorted(
            e["resource"]["id"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") != "outcome"
        )


def build(app: Flask) -> World:
    world = World(app, app.test_client())
    system = world.headers(None)
    for resource in RESOURCES:
        resp = world.client.put(f"/fhir/{resource['resourceType']}/{resource['id']}", json=resource, headers=system)
        assert resp.status_code == 201, (resource["id"], resp.get_json())
    return world
