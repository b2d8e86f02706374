"""A small record set with the edge cases the search tests need: accents, partial dates, time
zones, several names, missing values, multi-valued dates, chains three levels deep."""

from __future__ import annotations

from typing import Any

INS = "urn:oid:1.2.250.1.213.1.4.8"
RPPS = "urn:oid:1.2.250.1.71.4.2.1"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
BASE = "http://example.org/fhir"


def ref(text: str) -> dict[str, str]:
    return {"reference": text}


RESOURCES: list[dict[str, Any]] = [
    {"resourceType": "Organization", "id": "org1", "name": "Hôpital Nord"},
    {
        "resourceType": "Organization",
        "id": "org2",
        "name": "Service de Cardiologie",
        "partOf": ref("Organization/org1"),
    },
    {"resourceType": "Organization", "id": "org3", "name": "Centre Hospitalier Universitaire de Saint-Étienne"},
    {
        "resourceType": "Practitioner",
        "id": "dr1",
        "name": [{"family": "Martin", "given": ["Paul"]}],
        "identifier": [{"system": RPPS, "value": "810001"}],
    },
    {"resourceType": "Practitioner", "id": "dr2", "name": [{"family": "Bernard"}]},
    {
        "resourceType": "PractitionerRole",
        "id": "role1",
        "practitioner": ref("Practitioner/dr1"),
        "organization": ref("Organization/org2"),
        "code": [{"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_G15", "code": "10"}]}],
    },
    {
        "resourceType": "Patient",
        "id": "p1",
        "active": True,
        "meta": {
            "tag": [{"system": "http://t", "code": "vip"}],
            "profile": ["http://p/Patient|1.0"],
            "source": "http://a/b/c",
        },
        "identifier": [
            {
                "system": INS,
                "value": "279035121518989",
                "type": {"coding": [{"system": "http://ty", "code": "INS-NIR"}]},
            }
        ],
        "name": [{"family": "Lefèvre", "given": ["Hélène"]}],
        "telecom": [{"system": "email", "value": "helene@example.org"}],
        "gender": "female",
        "birthDate": "1979-03-12",
        "address": [{"line": ["12 rue de l'Église"], "city": "Saint-Étienne", "postalCode": "42000"}],
        "generalPractitioner": [ref("Practitioner/dr1")],
        "managingOrganization": ref("Organization/org2"),
    },
    {
        "resourceType": "Patient",
        "id": "p2",
        "gender": "male",
        "birthDate": "1980",
        "deceasedBoolean": False,
        "identifier": [{"system": "urn:other", "value": "A-2"}],
        "name": [{"family": "Dupont", "given": ["Jean"]}, {"family": "Durand", "given": ["Jean-Pierre"]}],
        "generalPractitioner": [ref("Practitioner/dr2"), {"identifier": {"system": RPPS, "value": "810002"}}],
    },
    {
        "resourceType": "Patient",
        "id": "p3",
        "gender": "female",
        "birthDate": "1980-06",
        "name": [{"family": "Dupré", "given": ["Zoë"]}],
        "deceasedDateTime": "2021-01-01",
    },
    {"resourceType": "Patient", "id": "p4", "gender": "unknown", "birthDate": "2000-01-01"},
    {"resourceType": "Patient", "id": "p5", "birthDate": "1979-12-31", "name": [{"text": "DUPONT Marie"}]},
    {
        "resourceType": "DocumentReference",
        "id": "d1",
        "status": "current",
        "subject": ref("Patient/p1"),
        "author": [ref("Practitioner/dr1")],
        "date": "2020-06-01T10:00:00+02:00",
        "type": {"coding": [{"system": LOINC, "code": "34112-3", "display": "Compte rendu d'hospitalisation"}]},
        "securityLabel": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N"}]}
        ],
        "relatesTo": [{"code": "replaces", "target": ref("DocumentReference/d0")}],
        "content": [{"attachment": {"contentType": "application/pdf"}}],
    },
    {
        "resourceType": "DocumentReference",
        "id": "d2",
        "status": "superseded",
        "subject": ref("Patient/p1"),
        "author": [ref("Patient/p1")],
        "date": "2021-01-01T00:30:00+01:00",
        "type": {"coding": [{"system": LOINC, "code": "11502-2"}]},
        "content": [{"attachment": {"contentType": "text/plain"}}],
    },
    {
        "resourceType": "DocumentReference",
        "id": "d3",
        "status": "current",
        "subject": ref("Patient/p2"),
        "date": "2020-06-02T00:00:00Z",
        "type": {"coding": [{"system": LOINC, "code": "34112-3"}]},
        "context": {"period": {"start": "2020-01-01", "end": "2020-03-01"}},
        "content": [{"attachment": {"contentType": "application/pdf"}}],
    },
    {
        "resourceType": "AllergyIntolerance",
        "id": "a1",
        "patient": ref("Patient/p1"),
        "recorder": ref("Practitioner/dr1"),
        "code": {
            "coding": [{"system": SNOMED, "code": "764146007", "display": "Pénicilline"}],
            "text": "Allergie à la pénicilline",
        },
        "reaction": [
            {"manifestation": [{"text": "urticaire"}], "onset": "2010"},
            {"manifestation": [{"text": "œdème"}], "onset": "2015-05"},
        ],
    },
    {
        "resourceType": "AllergyIntolerance",
        "id": "a2",
        "patient": ref("Patient/p2"),
        "criticality": "high",
        "code": {"coding": [{"system": SNOMED, "code": "91935009"}]},
    },
    {
        "resourceType": "Consent",
        "id": "c1",
        "status": "active",
        "scope": {"text": "privacy"},
        "category": [{"text": "x"}],
        "patient": ref("Patient/p1"),
    },
    {
        "resourceType": "RelatedPerson",
        "id": "rp1",
        "patient": ref("Patient/p1"),
        "name": [{"family": "Lefèvre", "given": ["Luc"]}],
    },
    {
        "resourceType": "AuditEvent",
        "id": "ae1",
        "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110112"},
        "recorded": "2024-01-01T00:00:00Z",
        "agent": [{"who": ref("Practitioner/dr1"), "requestor": True}],
        "source": {"observer": ref("Organization/org1")},
        "entity": [{"what": ref("Patient/p1")}],
    },
    {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "2345-7"}]},
        "subject": ref("Patient/p1"),
        "valueQuantity": {"value": 5.4, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"},
    },
    {
        "resourceType": "Observation",
        "id": "o2",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "2345-7"}]},
        "subject": ref("Patient/p2"),
        "valueQuantity": {"value": 100, "unit": "g/L"},
    },
    {
        "resourceType": "RiskAssessment",
        "id": "r1",
        "status": "final",
        "subject": ref("Patient/p1"),
        "prediction": [{"probabilityDecimal": 0.02}, {"probabilityDecimal": 0.5}],
    },
]
#: stored as deleted: must never appear
DELETED = [{"resourceType": "Patient", "id": "gone", "name": [{"family": "Dupont"}], "gender": "male"}]
#: _lastUpdated of each resource (stored `ts`)
TS = {"p1": "2024-01-01T00:00:00.000000Z", "p2": "2024-02-01T00:00:00.000000Z", "p3": "2024-03-01T12:00:00.000000Z"}
