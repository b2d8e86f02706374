"""Index extraction (search.extract) and Patient compartment membership (search.compartment).

Integration twin: tests/search/test_searching.py runs searches over these very values."""

from __future__ import annotations

from search.compartment import patient_refs
from search.extract import index_values

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "meta": {"tag": [{"system": "http://t", "code": "x"}], "profile": ["http://p/Patient|1.0"]},
    "identifier": [
        {
            "system": "urn:oid:1.2.250.1.213.1.4.8",
            "value": "279035121518989",
            "type": {"coding": [{"system": "http://ty", "code": "INS-NIR"}], "text": "NIR"},
        }
    ],
    "name": [
        {"family": "Lefèvre", "given": ["Hélène", "Zoé"], "prefix": ["Mme"]},
        {"text": "Hélène Martin", "family": "Martin"},
    ],
    "telecom": [{"system": "email", "value": "h@x.fr"}, {"system": "phone", "value": "0102"}],
    "gender": "female",
    "birthDate": "1979-03",
    "address": [{"line": ["12 rue de l'Église"], "city": "Saint-Étienne", "postalCode": "42000", "country": "France"}],
    "generalPractitioner": [
        {"reference": "Practitioner/dr1"},
        {"reference": "#contained"},
        {"reference": "http://other.org/fhir/Organization/o9"},
    ],
    "deceasedDateTime": "2020-05-01T10:00:00+02:00",
}


def test_strings_fold_and_keep_exact(registry):
    idx = index_values(registry, "Patient", PATIENT)
    assert idx["family"] == ["lefevre", "martin"]
    assert set(idx["name"]) == {"lefevre", "helene", "zoe", "mme", "helene martin", "martin"}
    assert "Lefèvre" in idx["name:x"]
    assert set(idx["address"]) >= {"12 rue de l'eglise", "saint-etienne", "42000", "france"}
    assert idx["address-city"] == ["saint-etienne"]


def test_tokens(registry):
    idx = index_values(registry, "Patient", PATIENT)
    assert idx["gender"] == ["female", "|female"]
    assert idx["identifier"] == [
        "279035121518989",
        "urn:oid:1.2.250.1.213.1.4.8|279035121518989",
        "urn:oid:1.2.250.1.213.1.4.8|",
    ]
    assert idx["identifier:ot"] == ["http://ty|INS-NIR|279035121518989"]
    assert idx["identifier:t"] == ["nir"]
    assert idx["email"] == ["h@x.fr", "email|h@x.fr", "email|"]
    assert "0102" in idx["phone"] and "h@x.fr" not in idx["phone"]
    assert idx["_tag"] == ["x", "http://t|x", "http://t|"]
    assert idx["deceased"] == ["true"]


def test_dates_are_ranges_in_utc(registry):
    idx = index_values(registry, "Patient", PATIENT)
    assert idx["birthdate"] == {"lo": "1979-03-01T00:00:00.000000Z", "hi": "1979-03-31T23:59:59.999999Z"}
    assert idx["death-date"] == {"lo": "2020-05-01T08:00:00.000000Z", "hi": "2020-05-01T08:00:00.999999Z"}


def test_references(registry):
    idx = index_values(registry, "Patient", PATIENT)
    assert idx["general-practitioner"] == ["Practitioner/dr1", "http://other.org/fhir/Organization/o9"]
    assert idx["_profile"] == ["http://p/Patient|1.0"]


def test_missing_values_leave_no_key(registry):
    idx = index_values(registry, "Patient", {"resourceType": "Patient", "id": "bare"})
    assert idx == {"deceased": ["false"]}  # Patient.deceased.exists() and ... is false


def test_period_and_where_resolve(registry):
    doc = {
        "resourceType": "DocumentReference",
        "id": "d",
        "status": "current",
        "subject": {"reference": "Patient/p1/_history/3"},
        "author": [{"reference": "Patient/p1"}, {"reference": "Practitioner/dr1"}],
        "context": {"period": {"start": "2020-01-01"}},
        "relatesTo": [{"code": "replaces", "target": {"reference": "DocumentReference/old"}}],
        "content": [{"attachment": {"contentType": "application/pdf"}}],
    }
    idx = index_values(registry, "DocumentReference", doc)
    assert idx["subject"] == ["Patient/p1"] and idx["patient"] == ["Patient/p1"]
    assert idx["period"] == {"lo": "2020-01-01T00:00:00.000000Z", "hi": "9999-12-31T23:59:59.999999Z"}
    assert idx["relationship"] == [{"0": ["replaces", "|replaces"], "1": ["DocumentReference/old"]}]
    group = {**doc, "subject": {"reference": "Group/g"}}
    assert "patient" not in index_values(registry, "DocumentReference", group)


def test_reference_identifier_and_quantity(registry):
    obs = {
        "resourceType": "Observation",
        "id": "o",
        "status": "final",
        "code": {"text": "x"},
        "subject": {"identifier": {"system": "urn:s", "value": "42"}},
        "valueQuantity": {"value": 5.4, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"},
    }
    idx = index_values(registry, "Observation", obs)
    assert idx["subject:i"] == ["42", "urn:s|42", "urn:s|"]
    assert idx["value-quantity"] == {"v": 5.4, "s": "http://unitsofmeasure.org", "c": "mg", "u": "mg"}


def test_extension_parameter(registry):
    p = {
        "resourceType": "Patient",
        "id": "e",
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/patient-extensions-Patient-mothersMaidenName",
                "valueString": "Dupré",
            }
        ],
    }
    assert index_values(registry, "Patient", p)["mothersMaidenName"] == ["dupre"]


def test_patient_compartment(registry):
    assert patient_refs(registry, "Patient", PATIENT) == ["Patient/p1"]
    allergy = {
        "resourceType": "AllergyIntolerance",
        "id": "a",
        "patient": {"reference": "Patient/p1"},
        "recorder": {"reference": "Practitioner/dr1"},
        "asserter": {"reference": "Patient/p2"},
    }
    assert patient_refs(registry, "AllergyIntolerance", allergy) == ["Patient/p1", "Patient/p2"]
    audit = {
        "resourceType": "AuditEvent",
        "id": "ae",
        "agent": [{"who": {"reference": "Patient/p3"}}, {"who": {"reference": "Practitioner/x"}}],
        "entity": [{"what": {"reference": "Patient/p1"}}, {"what": {"reference": "http://x/fhir/Patient/p9"}}],
    }
    assert patient_refs(registry, "AuditEvent", audit) == ["Patient/p3", "Patient/p1"]
    doc = {"resourceType": "DocumentReference", "id": "d", "subject": {"reference": "#p"}}
    assert patient_refs(registry, "DocumentReference", doc) == []
    assert patient_refs(registry, "Practitioner", {"resourceType": "Practitioner", "id": "x"}) == []
