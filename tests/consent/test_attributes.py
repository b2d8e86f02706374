"""consent.attributes: the acl stored beside each resource. Loader integration: test_consent_state.py."""

from __future__ import annotations

import pytest

from consent.attributes import access_attributes
from consent.labels import TRE_A07
from consent.labels import TRE_A08

ADULT = "Patient/ins-adulte"


def test_masked_document(fr):
    acl = access_attributes("DocumentReference", fr["DocumentReference-masque-ps"], [ADULT])
    assert acl == {
        "type": "DocumentReference",
        "patients": [ADULT],
        "patient": ADULT,
        "labels": ["MASQUE_PS"],
        "confidentiality": "R",
        "docClass": ["10"],
        "docType": ["11502-2"],
        "authors": ["Practitioner/biologiste"],
        "deposited": "2026-11-20T13:00:00.000000Z",  # DocumentReference.date, normalized to UTC
        "actors": ["Practitioner/biologiste"],
        "orphan": None,
        "guardian": None,
    }


def test_patient_deposited_document(fr):
    acl = access_attributes("DocumentReference", fr["DocumentReference-directives-anticipees"], [ADULT])
    assert (acl["docClass"], acl["docType"], acl["authors"], acl["labels"]) == (["90"], ["EXPPAT_3"], [ADULT], [])


def test_allergy_reads_meta_security_and_recorder(fr):
    allergy = fr["AllergyIntolerance-penicilline"]
    allergy["meta"] = {
        "lastUpdated": "2026-11-25T19:00:00Z",
        "security": [{"system": TRE_A07, "code": "INVISIBLE_PATIENT"}, {"system": TRE_A08, "code": "V"}],
    }
    allergy["asserter"] = {"reference": "Practitioner/allergologue"}
    acl = access_attributes("AllergyIntolerance", allergy, [ADULT])
    assert acl["labels"] == ["INVISIBLE_PATIENT"]
    assert acl["confidentiality"] == "V"
    assert acl["authors"] == ["Practitioner/allergologue", "Practitioner/medecin-traitant"]
    assert (acl["docClass"], acl["docType"]) == ([], ["AllergyIntolerance"])
    assert acl["deposited"] == "2026-11-25T19:00:00.000000Z"


def test_document_flags_in_meta_security_count_too(fr):
    document = fr["DocumentReference-compte-rendu"]
    document["meta"] = {"security": [{"system": TRE_A07, "code": "MASQUE_PS"}]}
    assert access_attributes("DocumentReference", document, [ADULT])["labels"] == ["MASQUE_PS"]


def test_only_documents_read_security_label(fr):
    allergy = fr["AllergyIntolerance-penicilline"]
    allergy["securityLabel"] = [{"coding": [{"system": TRE_A07, "code": "MASQUE_PS"}]}]
    assert access_attributes("AllergyIntolerance", allergy, [ADULT])["labels"] == []


def test_most_restrictive_confidentiality_wins(fr):
    document = fr["DocumentReference-compte-rendu"]
    document["securityLabel"].append({"coding": [{"system": TRE_A08, "code": "V"}]})
    document["securityLabel"].append({"coding": [{"system": "http://example.org/other", "code": "Z"}]})
    assert access_attributes("DocumentReference", document, [ADULT])["confidentiality"] == "V"


def test_patient_is_in_its_own_compartment(fr):
    acl = access_attributes("Patient", fr["Patient-ins-adulte"], [])
    assert (acl["patients"], acl["patient"]) == ([ADULT], ADULT)


def test_directory_resource_has_no_compartment(fr):
    acl = access_attributes("PractitionerRole", fr["PractitionerRole-medecin-traitant"], [])
    assert (acl["patients"], acl["patient"], acl["authors"]) == ([], None, [])


@pytest.mark.parametrize("patients", [["Patient/auteur", ADULT], [ADULT, "Patient/auteur"]])
def test_primary_compartment_is_the_subject(fr, patients):
    document = fr["DocumentReference-directives-anticipees"]
    document["author"] = [{"reference": "Patient/auteur"}]
    assert access_attributes("DocumentReference", document, patients)["patient"] == ADULT


def test_primary_falls_back_to_the_first_compartment():
    acl = access_attributes("Group", {"resourceType": "Group"}, ["Patient/b", "Patient/a", "Patient/b"])
    assert (acl["patients"], acl["patient"]) == (["Patient/b", "Patient/a"], "Patient/b")


def test_only_relative_references_make_authors(fr):
    document = fr["DocumentReference-compte-rendu"]
    document["author"] = [
        {"reference": "#contained"},
        {"reference": "https://elsewhere.example/fhir/Practitioner/x"},
        {"identifier": {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810001234567"}},
        {"reference": "PractitionerRole/r/_history/2"},
    ]
    assert access_attributes("DocumentReference", document, [ADULT])["authors"] == ["PractitionerRole/r"]


def test_audit_event_authors_are_the_requesting_agents():
    event = {
        "resourceType": "AuditEvent",
        "agent": [
            {"who": {"reference": "Practitioner/lecteur"}, "requestor": True},
            {"who": {"reference": "Device/serveur"}, "requestor": False},
        ],
    }
    assert access_attributes("AuditEvent", event, [ADULT])["authors"] == ["Practitioner/lecteur"]


@pytest.mark.parametrize(
    ("stem", "actors"),
    [
        ("Patient-ins-adulte", None),  # its attending physician, read from the example
        ("Consent-autorisation-praticien", None),  # every actor of every provision
        ("RelatedPerson-representant-legal", ["RelatedPerson/representant-legal"]),
    ],
)
def test_actors_are_whose_requests_load_the_record(fr, stem, actors):
    resource = fr[stem]
    type_ = resource["resourceType"]
    if type_ == "Patient":
        actors = [g["reference"] for g in resource["generalPractitioner"]]
    elif type_ == "Consent":
        actors = sorted({a["reference"]["reference"] for a in resource["provision"]["actor"]})
    assert actors and access_attributes(type_, resource, [ADULT])["actors"] == sorted(actors)


def test_nested_consent_provisions_name_actors_too():
    consent = {
        "resourceType": "Consent",
        "provision": {
            "type": "deny",
            "provision": [
                {
                    "type": "permit",
                    "actor": [{"reference": {"reference": "Organization/o"}}],
                    "provision": [{"actor": [{"reference": {"reference": "Practitioner/deep"}}]}],
                }
            ],
        },
    }
    assert access_attributes("Consent", consent, [ADULT])["actors"] == ["Organization/o", "Practitioner/deep"]


def test_a_compartment_type_without_a_patient_is_an_orphan(fr):
    document = fr["DocumentReference-compte-rendu"]
    document["subject"] = {"reference": "ExamplefrPatient001"}
    acl = access_attributes("DocumentReference", document, [], compartment_type=True)
    assert (acl["patients"], acl["patient"], acl["orphan"]) == ([], None, "yes")


def test_directory_types_and_placed_items_are_not_orphans(fr):
    assert access_attributes("Practitioner", fr["Practitioner-medecin-traitant"], [])["orphan"] is None
    document = fr["DocumentReference-compte-rendu"]
    assert access_attributes("DocumentReference", document, [ADULT], compartment_type=True)["orphan"] is None


@pytest.mark.parametrize(
    ("system", "code", "active", "guardian"),
    [
        ("http://terminology.hl7.org/CodeSystem/v3-RoleClass", "GUARD", None, "yes"),
        ("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "GUARD", False, "yes"),  # inactive: still one
        ("https://mos.esante.gouv.fr/NOS/TRE_R260-HL7RoleClass/FHIR/TRE-R260-HL7RoleClass", "GUARD", None, "yes"),
        ("http://terminology.hl7.org/CodeSystem/v3-RoleClass", "ECON", None, "no"),
        ("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "MTH", None, "no"),
        ("http://example.org/other", "GUARD", None, "no"),  # GUARD only counts in the guardian systems
    ],
)
def test_a_relative_says_whether_it_is_a_legal_representative(fr, system, code, active, guardian):
    person = fr["RelatedPerson-contact-urgence"] | {"relationship": [{"coding": [{"system": system, "code": code}]}]}
    person |= {} if active is None else {"active": active}
    assert access_attributes("RelatedPerson", person, [ADULT])["guardian"] == guardian
    assert access_attributes("Consent", fr["Consent-blocage-praticien"], [ADULT])["guardian"] is None
