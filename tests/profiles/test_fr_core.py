"""FR Core Patient INS, Practitioner and RelatedPerson: valid instances pass, French rules bite."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.profiles.helpers import Mutation
from tests.profiles.helpers import assert_rejected
from tests.profiles.helpers import errors

INS = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"
PRACTITIONER = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-practitioner"
RELATED = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-related-person"
FR_V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
RELIABILITY = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"


def ins_identifier(kind: str, system: str, value: str, use: str) -> dict[str, Any]:
    return {"use": use, "type": {"coding": [{"system": FR_V2_0203, "code": kind}]}, "system": system, "value": value}


NIR = ins_identifier("INS-NIR", "urn:oid:1.2.250.1.213.1.4.8", "279035121518989", "official")
NIA = ins_identifier("INS-NIA", "urn:oid:1.2.250.1.213.1.4.9", "779035121518933", "temp")
VALIDATED = {"url": RELIABILITY, "extension": [{"url": "identityStatus", "valueCoding": {"code": "VALI"}}]}
PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "meta": {"profile": [INS]},
    "extension": [VALIDATED],
    "identifier": [NIR, {"use": "usual", "system": "urn:oid:1.2.250.1.71.4.2.7", "value": "IPP-42"}],
    "name": [{"use": "official", "family": "Durand", "given": ["Marie"]}],
    "gender": "female",
    "birthDate": "1979-03-12",
}
PRACTITIONER_RPPS: dict[str, Any] = {
    "resourceType": "Practitioner",
    "identifier": [
        {
            "type": {"coding": [{"system": FR_V2_0203, "code": "IDNPS"}]},
            "system": "urn:oid:1.2.250.1.71.4.2.1",
            "value": "810001234567",
        },
        {
            "type": {"coding": [{"system": FR_V2_0203, "code": "RPPS"}]},
            "system": "https://rpps.esante.gouv.fr",
            "value": "10001234567",
        },
    ],
    "name": [{"family": "Lambert", "given": ["Claire"]}],
}
R260 = "https://mos.esante.gouv.fr/NOS/TRE_R260-HL7RoleClass/FHIR/TRE-R260-HL7RoleClass"
RELATED_PERSON: dict[str, Any] = {
    "resourceType": "RelatedPerson",
    "patient": {"reference": "Patient/ins-mineur"},
    "relationship": [
        {"coding": [{"system": R260, "code": "GUARD"}]},
        {
            "coding": [
                {
                    "system": "https://mos.esante.gouv.fr/NOS/TRE_R216-HL7RoleCode/FHIR/TRE-R216-HL7RoleCode",
                    "code": "MTH",
                }
            ]
        },
    ],
}


def identifier(index: int, **changes: Any) -> Mutation:
    return lambda r: r["identifier"][index].update(changes)


def without(index: int, key: str) -> Mutation:
    return lambda r: r["identifier"][index].pop(key)


@pytest.mark.parametrize(
    "variant",
    [
        lambda r: None,
        lambda r: r.update(identifier=[NIA]),
        lambda r: r.update(
            identifier=[ins_identifier("INS-NIR-TEST", "urn:oid:1.2.250.1.213.1.4.10", "180032B12345679", "official")]
        ),
        lambda r: r.update(
            identifier=[ins_identifier("INS-NIR-DEMO", "urn:oid:1.2.250.1.213.1.4.11", "279035121518989", "official")]
        ),
        lambda r: r.update(identifier=[NIR, NIA]),  # fr-core-2 lets an NIA stand beside the NIR
        lambda r: (r["identifier"][0].update(use="old"), r.pop("extension")),  # a deactivated INS-NIR
        lambda r: r.update(gender="unknown"),
        lambda r: r.pop("extension"),
    ],
    ids=["nir", "nia", "test-nir-corsica", "demo-nir", "nir-and-nia", "old-nir", "gender-unknown", "unvalidated"],
)
def test_valid_ins_patients(variant: Mutation) -> None:
    resource = copy.deepcopy(PATIENT)
    variant(resource)
    assert errors(resource, INS) == []


INS_CASES: list[tuple[str, Mutation, str, str]] = [
    (
        "nir-14-digits",
        identifier(0, value="27903512151898"),
        "Patient.identifier[0].value",
        "an INS-NIR is 15 digits (13 + a 2-digit key)",
    ),
    ("nir-16-digits", identifier(0, value="2790351215189891"), "Patient.identifier[0].value", "15 digits"),
    ("nir-letters", identifier(0, value="2790351215X8989"), "Patient.identifier[0].value", "15 digits"),
    ("nir-spaces", identifier(0, value="2 79 03 51 215 189 89"), "Patient.identifier[0].value", "15 digits"),
    (
        "nia-short",
        lambda r: r.update(identifier=[dict(NIA, value="77903512151")]),
        "Patient.identifier[0].value",
        "an INS-NIA is 15 digits",
    ),
    ("nir-without-value", without(0, "value"), "Patient.identifier[0].value", "needs a value"),
    ("nir-use-temp", identifier(0, use="temp"), "Patient.identifier[0].use", "use 'official'"),
    ("nir-without-use", without(0, "use"), "Patient.identifier[0].use", "use 'official'"),
    (
        "nia-use-official",
        lambda r: r.update(identifier=[dict(NIA, use="official")]),
        "Patient.identifier[0].use",
        "use 'temp'",
    ),
    ("nir-without-type", without(0, "type"), "Patient.identifier[0].type", "fr-core-cs-v2-0203#INS-NIR"),
    (
        "nir-typed-nia",
        identifier(0, type={"coding": [{"system": FR_V2_0203, "code": "INS-NIA"}]}),
        "Patient.identifier[0].type.coding",
        "fr-core-cs-v2-0203#INS-NIR",
    ),
    (
        "nir-type-old-system",
        identifier(
            0, type={"coding": [{"system": "http://interopsante.org/CodeSystem/fr-core-v2-0203", "code": "INS-NIR"}]}
        ),
        "Patient.identifier[0].type.coding",
        "fr-core-cs-v2-0203#INS-NIR",
    ),
    ("no-ins", lambda r: r.update(identifier=[r["identifier"][1]]), "Patient.identifier", "fr-core-1"),
    (
        "ins-c-is-not-ins",
        lambda r: r.update(identifier=[{"system": "urn:oid:1.2.250.1.213.1.4.2", "value": "1"}]),
        "Patient.identifier",
        "fr-core-1",
    ),
    ("no-identifier", lambda r: r.pop("identifier"), "Patient.identifier", "fr-core-1"),
    ("gender-other", lambda r: r.update(gender="other"), "Patient.gender", "male, female or unknown"),
    ("no-gender", lambda r: r.pop("gender"), "Patient.gender", "INS gender is required"),
    ("no-birth-date", lambda r: r.pop("birthDate"), "Patient.birthDate", "birth date"),
    ("no-official-name", lambda r: r["name"][0].update(use="usual"), "Patient.name", "official name"),
    ("official-name-without-given", lambda r: r["name"][0].pop("given"), "Patient.name", "official name"),
    ("validated-two-official", lambda r: r["identifier"][1].update(use="official"), "Patient.identifier", "fr-core-2"),
]


@pytest.mark.parametrize(("mutate", "expression", "words"), [c[1:] for c in INS_CASES], ids=[c[0] for c in INS_CASES])
def test_ins_rules(mutate: Mutation, expression: str, words: str) -> None:
    assert_rejected(PATIENT, INS, mutate, expression, words)


def test_validated_identity_without_ins_breaks_fr_core_1() -> None:
    assert_rejected(
        PATIENT,
        INS,
        lambda r: r.update(identifier=[{"use": "official", "system": "urn:oid:1.2.3", "value": "1"}]),
        "Patient",
        "validated identity (VALI)",
    )


@pytest.mark.parametrize(
    "variant",
    [
        lambda r: None,
        lambda r: r["identifier"].pop(1),  # idNatPs alone
        lambda r: r["identifier"].pop(0),  # RPPS alone
        lambda r: r["identifier"][0].update(value="0751234567"),  # 0 + ADELI
        lambda r: r["identifier"][0].update(value="02B1234567"),  # 0 + ADELI of Haute-Corse
        lambda r: r["identifier"][0].pop("type"),
        # a type from another code system is left to that system
        lambda r: r["identifier"][0].update(
            type={"coding": [{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203", "code": "IDNPS"}]}
        ),
    ],
    ids=["both", "idnatps", "rpps", "adeli", "adeli-corsica", "untyped", "legacy-type-system"],
)
def test_valid_practitioners(variant: Mutation) -> None:
    resource = copy.deepcopy(PRACTITIONER_RPPS)
    variant(resource)
    assert errors(resource, PRACTITIONER) == []


PRACTITIONER_CASES: list[tuple[str, Mutation, str, str]] = [
    (
        "rpps-without-prefix",
        identifier(0, value="10001234567"),
        "Practitioner.identifier[0].value",
        "8 + an 11-digit RPPS",
    ),
    ("wrong-prefix", identifier(0, value="310001234567"), "Practitioner.identifier[0].value", "8 + an 11-digit RPPS"),
    (
        "rpps-prefix-short",
        identifier(0, value="81000123456"),
        "Practitioner.identifier[0].value",
        "8 + an 11-digit RPPS",
    ),
    (
        "adeli-prefix-long",
        identifier(0, value="07512345678"),
        "Practitioner.identifier[0].value",
        "0 + a 9-character ADELI",
    ),
    (
        "idnatps-typed-rpps",
        identifier(0, type={"coding": [{"system": FR_V2_0203, "code": "RPPS"}]}),
        "Practitioner.identifier[0].type.coding[0].code",
        "fr-core-cs-v2-0203#IDNPS",
    ),
    (
        "rpps-10-digits",
        identifier(1, value="1000123456"),
        "Practitioner.identifier[1].value",
        "an RPPS number is 11 digits",
    ),
    ("rpps-prefixed", identifier(1, value="810001234567"), "Practitioner.identifier[1].value", "11 digits"),
    (
        "no-national-identifier",
        lambda r: r.update(identifier=[{"system": "urn:oid:1.2.3", "value": "1"}]),
        "Practitioner.identifier",
        "national identifier",
    ),
    ("no-identifier", lambda r: r.pop("identifier"), "Practitioner.identifier", "national identifier"),
    (
        "two-idnatps",
        lambda r: r["identifier"].append(dict(r["identifier"][0], value="0751234567")),
        "Practitioner.identifier",
        "at most one idNatPs",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expression", "words"), [c[1:] for c in PRACTITIONER_CASES], ids=[c[0] for c in PRACTITIONER_CASES]
)
def test_practitioner_rules(mutate: Mutation, expression: str, words: str) -> None:
    assert_rejected(PRACTITIONER_RPPS, PRACTITIONER, mutate, expression, words)


@pytest.mark.parametrize("code", ["ECON", "GUARD", "NOK", "CAREGIVER"])
@pytest.mark.parametrize("system", [R260, "http://terminology.hl7.org/CodeSystem/v3-RoleClass"])
def test_valid_related_person_roles(system: str, code: str) -> None:
    resource = dict(RELATED_PERSON, relationship=[{"coding": [{"system": system, "code": code}]}])
    assert errors(resource, RELATED) == []


def test_legal_protection_role() -> None:
    system = "https://mos.esante.gouv.fr/NOS/TRE_R217-ProtectionJuridique/FHIR/TRE-R217-ProtectionJuridique"
    resource = dict(RELATED_PERSON, relationship=[{"coding": [{"system": system, "code": "TUTEUR"}]}])
    assert errors(resource, RELATED) == []


RELATED_CASES: list[tuple[str, Mutation, str, str]] = [
    (
        "code-outside-r260",
        lambda r: r["relationship"][0]["coding"][0].update(code="FRND"),
        "RelatedPerson.relationship[0].coding[0].code",
        "not in TRE_R260",
    ),
    (
        "deprecated-qual",
        lambda r: r["relationship"][0]["coding"][0].update(code="QUAL"),
        "RelatedPerson.relationship[0].coding[0].code",
        "not in TRE_R260",
    ),
    (
        "code-outside-r217",
        lambda r: r["relationship"][0]["coding"][0].update(
            system="https://mos.esante.gouv.fr/NOS/TRE_R217-ProtectionJuridique/FHIR/TRE-R217-ProtectionJuridique",
            code="GUARD",
        ),
        "RelatedPerson.relationship[0].coding[0].code",
        "not in TRE_R217",
    ),
    ("relation-type-only", lambda r: r["relationship"].pop(0), "RelatedPerson.relationship", "relationship role"),
    ("no-relationship", lambda r: r.pop("relationship"), "RelatedPerson.relationship", "relationship role"),
]


@pytest.mark.parametrize(
    ("mutate", "expression", "words"), [c[1:] for c in RELATED_CASES], ids=[c[0] for c in RELATED_CASES]
)
def test_related_person_rules(mutate: Mutation, expression: str, words: str) -> None:
    assert_rejected(RELATED_PERSON, RELATED, mutate, expression, words)
