"""DMP DocumentReference and the patient-privacy Consent: valid instances pass, DMP rules bite."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.profiles.helpers import Mutation
from tests.profiles.helpers import assert_rejected
from tests.profiles.helpers import errors

DOCUMENT_URL = "https://carnet.example.org/fhir/StructureDefinition/dmp-document-reference"
CONSENT_URL = "https://carnet.example.org/fhir/StructureDefinition/patient-privacy-consent"
A03 = "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
A05 = "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"
A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"


def label(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


DOCUMENT: dict[str, Any] = {
    "resourceType": "DocumentReference",
    "meta": {"profile": [DOCUMENT_URL]},
    "status": "current",
    "type": {"coding": [{"system": "http://loinc.org", "code": "11502-2"}]},
    "category": [label(A03, "10")],
    "subject": {"reference": "Patient/ins-adulte"},
    "date": "2026-11-20T14:00:00+01:00",
    "author": [{"reference": "Practitioner/biologiste"}],
    "custodian": {"reference": "Organization/carnet"},
    "securityLabel": [label(CONFIDENTIALITY, "R"), label(A07, "MASQUE_PS")],
    "content": [{"attachment": {"contentType": "application/pdf", "url": "Binary/bilan"}}],
}


def document(**changes: Any) -> Mutation:
    return lambda r: r.update(changes)


@pytest.mark.parametrize(
    "variant",
    [
        document(),
        document(
            type=label(A05, "EXPPAT_3"), category=[label(A03, "90")], author=[{"reference": "Patient/ins-adulte"}]
        ),
        document(type=label(A05, "REMB"), category=[label(A03, "60")]),
        document(securityLabel=[label(CONFIDENTIALITY, "N")]),
        document(
            securityLabel=[
                label("https://mos.esante.gouv.fr/NOS/TRE_A08-HL7Confidentiality/FHIR/TRE-A08-HL7Confidentiality", "V")
            ]
        ),
        document(
            securityLabel=[
                label(A07, "INVISIBLE_PATIENT"),
                label(CONFIDENTIALITY, "N"),
                label(A07, "INVISIBLE_REPRESENTANTS_LEGAUX"),
                label(A07, "MASQUE_PS"),
            ]
        ),
        lambda r: r["content"][0].update(attachment={"contentType": "application/pdf", "data": "JVBERi0xLjQK"}),
    ],
    ids=[
        "masked-biology",
        "advance-directives",
        "reimbursement",
        "normal",
        "ans-confidentiality-copy",
        "all-flags",
        "inline-data",
    ],
)
def test_valid_dmp_documents(variant: Mutation) -> None:
    resource = copy.deepcopy(DOCUMENT)
    variant(resource)
    assert errors(resource, DOCUMENT_URL) == []


DOCUMENT_CASES: list[tuple[str, Mutation, str, str]] = [
    (
        "masked-without-confidentiality",
        document(securityLabel=[label(A07, "MASQUE_PS")]),
        "DocumentReference.securityLabel",
        "exactly one confidentiality code",
    ),
    (
        "two-confidentiality-labels",
        document(securityLabel=[label(CONFIDENTIALITY, "N"), label(CONFIDENTIALITY, "R")]),
        "DocumentReference.securityLabel",
        "exactly one confidentiality code",
    ),
    (
        "two-confidentiality-codings",
        document(
            securityLabel=[
                {"coding": [{"system": CONFIDENTIALITY, "code": "N"}, {"system": CONFIDENTIALITY, "code": "R"}]}
            ]
        ),
        "DocumentReference.securityLabel[0].coding",
        "exactly one confidentiality code",
    ),
    ("no-security-label", lambda r: r.pop("securityLabel"), "DocumentReference.securityLabel", "confidentiality code"),
    (
        "confidentiality-u",
        document(securityLabel=[label(CONFIDENTIALITY, "U")]),
        "DocumentReference.securityLabel[0].coding[0].code",
        "N, R or V",
    ),
    (
        "flag-outside-dmp",
        document(securityLabel=[label(CONFIDENTIALITY, "N"), label(A07, "MASQUE_PT")]),
        "DocumentReference.securityLabel[1].coding[0].code",
        "not a DMP one",
    ),
    (
        "a07-confidentiality-code",
        document(securityLabel=[label(CONFIDENTIALITY, "N"), label(A07, "N")]),
        "DocumentReference.securityLabel[1].coding[0].code",
        "not a DMP one",
    ),
    (
        "misspelled-a07-url",
        document(
            securityLabel=[
                label(CONFIDENTIALITY, "N"),
                label(
                    "https://mos.esante.gouv.fr/NOS/TRE_A07-StatusVisibiliteDocument/FHIR/TRE-A07-StatusVisibiliteDocument",
                    "MASQUE_PS",
                ),
            ]
        ),
        "DocumentReference.securityLabel[1].coding[0].system",
        "visibility flag (TRE_A07",
    ),
    (
        "type-outside-a05",
        document(type=label(A05, "CONTACTS-URGENCE")),
        "DocumentReference.type.coding[0].code",
        "not an active TRE_A05 code",
    ),
    (
        "type-not-loinc",
        document(type=label("http://loinc.org", "CR-BIO")),
        "DocumentReference.type.coding[0].code",
        "not a LOINC code",
    ),
    (
        "type-other-system",
        document(type=label("http://snomed.info/sct", "371530004")),
        "DocumentReference.type.coding",
        "type from TRE_A05 or LOINC",
    ),
    ("no-type", lambda r: r.pop("type"), "DocumentReference.type", "type from TRE_A05 or LOINC"),
    (
        "class-outside-a03",
        document(category=[label(A03, "99")]),
        "DocumentReference.category[0].coding[0].code",
        "not in TRE_A03",
    ),
    (
        "class-other-system",
        document(category=[label("http://loinc.org", "11502-2")]),
        "DocumentReference.category",
        "class from TRE_A03",
    ),
    ("no-class", lambda r: r.pop("category"), "DocumentReference.category", "class from TRE_A03"),
    ("no-author", lambda r: r.pop("author"), "DocumentReference.author", "needs an author"),
    ("no-custodian", lambda r: r.pop("custodian"), "DocumentReference.custodian", "needs a custodian"),
    ("no-subject", lambda r: r.pop("subject"), "DocumentReference.subject", "patient as subject"),
    (
        "group-subject",
        document(subject={"reference": "Group/famille"}),
        "DocumentReference.subject.reference",
        "Patient reference",
    ),
    (
        "no-content-type",
        lambda r: r["content"][0]["attachment"].pop("contentType"),
        "DocumentReference.content[0].attachment.contentType",
        "needs its contentType",
    ),
    (
        "neither-data-nor-url",
        lambda r: r["content"][0].update(attachment={"contentType": "application/pdf", "title": "t"}),
        "DocumentReference.content[0].attachment",
        "data or its url",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expression", "words"), [c[1:] for c in DOCUMENT_CASES], ids=[c[0] for c in DOCUMENT_CASES]
)
def test_dmp_document_rules(mutate: Mutation, expression: str, words: str) -> None:
    assert_rejected(DOCUMENT, DOCUMENT_URL, mutate, expression, words)


ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
IRCP = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]}
CONSENT: dict[str, Any] = {
    "resourceType": "Consent",
    "meta": {"profile": [CONSENT_URL]},
    "status": "active",
    "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
    "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
    "patient": {"reference": "Patient/ins-adulte"},
    "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
    "provision": {
        "type": "permit",
        "actor": [{"role": IRCP, "reference": {"reference": "Practitioner/infirmier"}}],
        "purpose": [{"system": ACT_REASON, "code": "TREAT"}],
    },
}


def provision(**changes: Any) -> Mutation:
    return lambda r: r["provision"].update(changes)


def actor(reference: str) -> list[dict[str, Any]]:
    return [{"role": IRCP, "reference": {"reference": reference}}]


@pytest.mark.parametrize(
    "variant",
    [
        provision(),
        provision(actor=actor("Organization/chu-exemple")),
        provision(actor=actor("https://carnet.example.org/fhir/PractitionerRole/medecin-traitant-role")),
        provision(type="deny", purpose=[{"system": ACT_REASON, "code": "BTG"}]),
        provision(type="deny", actor=actor("Practitioner/praticien-bloque")),
        provision(provision=[{"type": "deny", "purpose": [{"system": ACT_REASON, "code": "ETREAT"}]}]),
        lambda r: (r.pop("policyRule"), r.update(policy=[{"uri": "https://www.legifrance.gouv.fr/"}])),
    ],
    ids=[
        "grant-practitioner",
        "grant-organization",
        "grant-role-absolute",
        "objection-btg",
        "block",
        "nested",
        "policy-uri",
    ],
)
def test_valid_consents(variant: Mutation) -> None:
    resource = copy.deepcopy(CONSENT)
    variant(resource)
    assert errors(resource, CONSENT_URL) == []


CONSENT_CASES: list[tuple[str, Mutation, str, str]] = [
    (
        "research-scope",
        lambda r: r["scope"]["coding"][0].update(code="research"),
        "Consent.scope.coding",
        "patient-privacy",
    ),
    ("other-category", lambda r: r["category"][0]["coding"][0].update(code="57016-8"), "Consent.category", "59284-0"),
    ("no-patient", lambda r: r.pop("patient"), "Consent.patient", "ppc-2"),
    ("group-patient", lambda r: r.update(patient={"reference": "Group/1"}), "Consent.patient.reference", "ppc-2"),
    ("no-policy", lambda r: r.pop("policyRule"), "Consent", "ppc-1"),
    ("no-provision", lambda r: r.pop("provision"), "Consent.provision", "needs a provision"),
    ("no-provision-type", lambda r: r["provision"].pop("type"), "Consent.provision.type", "permit (grant) or deny"),
    (
        "grant-without-actor",
        lambda r: r["provision"].pop("actor"),
        "Consent.provision.actor",
        "a permit (grant) names its actor",
    ),
    (
        "deny-without-actor-or-purpose",
        lambda r: r.update(provision={"type": "deny"}),
        "Consent.provision",
        "a deny names an actor",
    ),
    (
        "grant-to-patient",
        provision(actor=actor("Patient/ins-adulte")),
        "Consent.provision.actor[0].reference.reference",
        "Practitioner, PractitionerRole or Organization",
    ),
    (
        "grant-to-relative",
        provision(actor=actor("RelatedPerson/contact-urgence")),
        "Consent.provision.actor[0].reference.reference",
        "Practitioner, PractitionerRole or Organization",
    ),
    (
        "actor-without-reference",
        provision(actor=[{"role": IRCP, "reference": {"display": "Dr Lambert"}}]),
        "Consent.provision.actor[0].reference.reference",
        "Practitioner, PractitionerRole or Organization",
    ),
    (
        "unknown-purpose",
        provision(purpose=[{"system": ACT_REASON, "code": "HMARKT"}]),
        "Consent.provision.purpose[0].code",
        "TREAT, BTG (break-glass) or ETREAT",
    ),
    (
        "purpose-other-system",
        provision(purpose=[{"system": "http://example.org/reasons", "code": "BTG"}]),
        "Consent.provision.purpose[0].system",
        "TREAT, BTG (break-glass) or ETREAT",
    ),
    (
        "nested-grant-without-actor",
        provision(provision=[{"type": "permit"}]),
        "Consent.provision.provision[0].actor",
        "a permit (grant) names its actor",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expression", "words"), [c[1:] for c in CONSENT_CASES], ids=[c[0] for c in CONSENT_CASES]
)
def test_consent_rules(mutate: Mutation, expression: str, words: str) -> None:
    assert_rejected(CONSENT, CONSENT_URL, mutate, expression, words)
