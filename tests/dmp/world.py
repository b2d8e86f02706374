"""The DMP world of the HTTP tests: the French examples (tests/fixtures/examples-fr), tokens, and readers
of what the server wrote on its own (notifications, traces)."""

from __future__ import annotations

import copy
import json
from datetime import UTC
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from consent.labels import TRE_A07
from fhir_server.auth.server import ACCESS_TTL
from tests.support import EXAMPLES_FR
from tests.support import bearer
from tests.support import stored

EXAMPLES = {p.stem: json.loads(p.read_text()) for p in sorted(EXAMPLES_FR.glob("*.json"))}
#: the examples' deposit date (DocumentReference.date 2026-11-20T14:00:00+01:00)
DEPOSIT = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
P = "Patient/ins-adulte"
GP = "Practitioner/medecin-traitant"
TRE_G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
TRE_A05 = "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"


def example(stem: str) -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES[stem])


def role(id_: str, practitioner: str, profession: str) -> dict[str, Any]:
    return {
        "resourceType": "PractitionerRole",
        "id": id_,
        "practitioner": {"reference": practitioner},
        "code": [{"coding": [{"system": TRE_G15, "code": profession}]}],
    }


def document(
    id_: str,
    *,
    doc_type: tuple[str, str] = ("http://loinc.org", "34112-3"),
    flags: tuple[str, ...] = (),
    author: str = "Practitioner/biologiste",
    date: str = "2026-11-20T14:00:00+01:00",
) -> dict[str, Any]:
    """A DocumentReference about the adult patient (class 10, the given type and TRE_A07 flags)."""
    resource = example("DocumentReference-compte-rendu") | {"id": id_, "date": date, "author": [{"reference": author}]}
    resource["type"] = {"coding": [{"system": doc_type[0], "code": doc_type[1]}]}
    resource["securityLabel"] += [{"coding": [{"system": TRE_A07, "code": flag}]} for flag in flags]
    return resource


def seed(client: FlaskClient, system: dict[str, str]) -> None:
    """The adult patient (attending physician medecin-traitant), their documents, and professionals
    (an emergency physician, a nurse, the attending physician's role); the minor and their guardian."""
    put(
        client,
        system,  # what the others name first: references must resolve (issue 12)
        {"resourceType": "Organization", "id": "cabinet-lambert", "name": "Cabinet Lambert"},
        *({"resourceType": "Practitioner", "id": p} for p in ("infirmier", "biologiste", "urgentiste")),
        example("Practitioner-medecin-traitant"),
        example("Patient-ins-adulte"),
        example("PractitionerRole-medecin-traitant"),
        example("PractitionerRole-infirmier"),
        role("urgentiste-role", "Practitioner/urgentiste", "10"),
        example("DocumentReference-compte-rendu"),
        example("DocumentReference-masque-ps"),
        example("DocumentReference-invisible-patient"),
        example("Patient-ins-mineur"),
        example("RelatedPerson-representant-legal"),
    )


def put(client: FlaskClient, headers: dict[str, str], *resources: dict[str, Any]) -> None:
    for resource in resources:
        resp = client.put(f"/fhir/{resource['resourceType']}/{resource['id']}", json=resource, headers=headers)
        assert resp.status_code in (200, 201), resp.get_json()


def token(app: Flask, user: str, purpose: str | None = None, reason: str | None = None) -> dict[str, str]:
    """A user's token lasting as the server's own (an hour of the app's clock, which tests move)."""
    return bearer(app, fhir_user=user, purpose=purpose, reason=reason, ttl=ACCESS_TTL)


def communications(app: Flask, patient: str = P) -> list[dict[str, Any]]:
    with app.app_context():
        return [
            s.resource for s in stored("Communication", lambda r: (r.get("subject") or {}).get("reference") == patient)
        ]


def audit_events(app: Flask, subtype: str) -> list[dict[str, Any]]:
    with app.app_context():
        return [
            s.resource
            for s in stored("AuditEvent", lambda r: subtype in {c.get("code") for c in r.get("subtype") or ()})
        ]
