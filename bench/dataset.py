"""Generated records bulk-loaded into a store for the benchmarks: version 1 of each, with the search
values and access attributes a write computes (``Repository.restore``), by batches of one
transaction each."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from fhir_server.storage import Repository
from fhir_server.storage import Stored

TS = "2026-01-01T00:00:00.000000Z"
TRE_G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
FAMILIES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Lefèvre", "Moreau"]


def records(
    patients: int, docs_per_patient: int = 2, allergies_per_patient: int = 1, granted_every: int = 100
) -> Iterator[dict[str, Any]]:
    """Practitioner/bench (a physician) granted on every ``granted_every``-th patient; each patient
    has documents (one in five masked) and allergies."""
    rnd = random.Random(7)
    yield {"resourceType": "Practitioner", "id": "bench", "name": [{"family": "Banc"}]}
    yield {
        "resourceType": "PractitionerRole",
        "id": "bench-role",
        "practitioner": {"reference": "Practitioner/bench"},
        "code": [{"coding": [{"system": TRE_G15, "code": "10"}]}],
    }
    for p in range(patients):
        pid = f"p{p}"
        yield {
            "resourceType": "Patient",
            "id": pid,
            "active": True,
            "gender": rnd.choice(["male", "female"]),
            "birthDate": f"{rnd.randint(1930, 2020)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
            "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": f"{p:015d}"}],
            "name": [{"family": rnd.choice(FAMILIES), "given": [rnd.choice(["Anne", "Jean", "Léa", "Marc"])]}],
        }
        if p % granted_every == 0:
            yield {
                "resourceType": "Consent",
                "id": f"grant-{pid}",
                "status": "active",
                "scope": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}
                    ]
                },
                "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
                "patient": {"reference": f"Patient/{pid}"},
                "provision": {"type": "permit", "actor": [{"reference": {"reference": "Practitioner/bench"}}]},
            }
        for d in range(docs_per_patient):
            labels = [{"coding": [{"system": A07, "code": "MASQUE_PS"}]}] if rnd.random() < 0.2 else []
            yield {
                "resourceType": "DocumentReference",
                "id": f"{pid}-d{d}",
                "status": "current",
                "type": {"coding": [{"system": "http://loinc.org", "code": rnd.choice(["11502-2", "34112-3"])}]},
                "subject": {"reference": f"Patient/{pid}"},
                "date": f"20{rnd.randint(10, 26)}-03-01T10:00:00Z",
                **({"securityLabel": labels} if labels else {}),
                "content": [{"attachment": {"contentType": "text/plain", "data": "UmVzdWx0YXQ="}}],
            }
        for a in range(allergies_per_patient):
            yield {
                "resourceType": "AllergyIntolerance",
                "id": f"{pid}-a{a}",
                "patient": {"reference": f"Patient/{pid}"},
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "373270004"}]},
            }


def load(store: Repository, resources: Iterator[dict[str, Any]], batch: int = 2000) -> int:
    """Store ``resources`` by batches; returns how many were loaded."""
    pending: list[Stored] = []
    count = 0
    for resource in resources:
        body = {**resource, "meta": {"versionId": "1", "lastUpdated": TS}}
        pending.append(Stored(resource["resourceType"], resource["id"], 1, TS, False, body, {}, "POST"))
        count += 1
        if len(pending) >= batch:
            store.restore(pending)
            pending = []
    store.restore(pending)
    return count
