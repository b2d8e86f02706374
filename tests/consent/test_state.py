"""consent.state: reading a record's Consents, Patient and RelatedPersons. Loader: test_consent_state.py."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest

from consent.state import ACT_REASON
from consent.state import TRE_R248
from consent.state import Directive
from consent.state import PatientState
from consent.state import consent_directives
from consent.state import patient_state

NOW = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)
ADULT = "Patient/ins-adulte"


def state_of(fr, *consents, now=NOW, patient="Patient-ins-adulte", related=()):
    return patient_state(fr[patient], [fr[c] if isinstance(c, str) else c for c in consents], list(related), now)


def privacy_consent(provision, **extra):
    return {
        "resourceType": "Consent",
        "id": extra.pop("id", "c"),
        "status": "active",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": ADULT},
        "provision": provision,
        **extra,
    }


def actor(ref):
    return {"reference": {"reference": ref}}


def test_the_examples_make_a_full_state(fr):
    state = state_of(
        fr,
        "Consent-autorisation-praticien",
        "Consent-autorisation-etablissement",
        "Consent-blocage-praticien",
        "Consent-opposition-bris-de-glace",
        "Consent-opposition-centre-15",
    )
    assert state == PatientState(
        ref=ADULT,
        open=True,
        general_practitioners=frozenset({"Practitioner/medecin-traitant"}),
        grants=frozenset(
            {
                Directive("Practitioner/infirmier", "Consent/autorisation-praticien"),
                Directive("Organization/chu-exemple", "Consent/autorisation-etablissement"),
            }
        ),
        blocks=frozenset({Directive("Practitioner/praticien-bloque", "Consent/blocage-praticien")}),
        objections=frozenset(
            {
                Directive("bris_de_glace", "Consent/opposition-bris-de-glace"),
                Directive("centre_15", "Consent/opposition-centre-15"),
            }
        ),
    )
    assert state.grant_for({"Organization/chu-exemple", "Practitioner/x"}) == Directive(
        "Organization/chu-exemple", "Consent/autorisation-etablissement"
    )
    assert state.block_for({"Practitioner/praticien-bloque"}).consent == "Consent/blocage-praticien"
    assert state.objection_to("centre_15").consent == "Consent/opposition-centre-15"
    assert state.objection_to("normal") is None


def test_grant_period_is_honoured(fr):
    assert not state_of(fr, "Consent-autorisation-praticien", now=datetime(2026, 11, 1, 23, 59, tzinfo=UTC)).grants
    assert state_of(fr, "Consent-autorisation-praticien", now=datetime(2026, 11, 2, tzinfo=UTC)).grants


@pytest.mark.parametrize(
    ("end", "now", "in_force"),
    [
        ("2026-11", datetime(2026, 11, 30, 23, 59, tzinfo=UTC), True),
        ("2026-11", datetime(2026, 12, 1, tzinfo=UTC), False),
        ("2026", datetime(2026, 12, 31, 23, 0, tzinfo=UTC), True),
        ("2026-11-25T19:00:00+01:00", datetime(2026, 11, 25, 18, 0, 0, tzinfo=UTC), True),
        ("2026-11-25T19:00:00+01:00", datetime(2026, 11, 25, 18, 0, 1, tzinfo=UTC), False),
    ],
)
def test_period_end_is_inclusive_at_its_precision(end, now, in_force):
    consent = privacy_consent({"type": "permit", "period": {"end": end}, "actor": [actor("Practitioner/x")]})
    assert bool(patient_state({"id": "ins-adulte"}, [consent], [], now).grants) is in_force


def test_closed_record_and_attending_physicians(fr):
    patient = fr["Patient-ins-adulte"] | {"active": False}
    patient["generalPractitioner"].append({"reference": "PractitionerRole/medecin-traitant-role"})
    state = patient_state(patient, [], [], NOW)
    assert not state.open
    assert state.general_practitioners == {"Practitioner/medecin-traitant", "PractitionerRole/medecin-traitant-role"}


def test_guardians_are_the_guard_relatives(fr):
    related = [fr["RelatedPerson-representant-legal"], fr["RelatedPerson-contact-urgence"]]
    assert state_of(fr, patient="Patient-ins-mineur", related=related).guardians == {"RelatedPerson/representant-legal"}
    assert state_of(fr, related=related).guardians == frozenset()


@pytest.mark.parametrize(
    "system",
    [
        "https://mos.esante.gouv.fr/NOS/TRE_R260-HL7RoleClass/FHIR/TRE-R260-HL7RoleClass",
        "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
    ],
)
def test_guard_code_systems(fr, system):
    person = fr["RelatedPerson-representant-legal"]
    person["relationship"][0]["coding"][0]["system"] = system
    assert state_of(fr, patient="Patient-ins-mineur", related=[person]).guardians


@pytest.mark.parametrize(
    "change",
    [
        {"active": False},
        {"period": {"end": "2026-01-01"}},
        {"relationship": [{"coding": [{"system": "http://example.org/x", "code": "GUARD"}]}]},
        {"patient": {"reference": "Patient/ins-adulte"}},
    ],
)
def test_not_a_guardian(fr, change):
    person = fr["RelatedPerson-representant-legal"] | change
    assert not state_of(fr, patient="Patient-ins-mineur", related=[person]).guardians


@pytest.mark.parametrize(
    "change",
    [
        {"status": "inactive"},
        {"status": "draft"},
        {"scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment"}]}},
        {"category": [{"coding": [{"system": "http://loinc.org", "code": "64292-6"}]}]},
        {"patient": {"reference": "Patient/ins-mineur"}},
    ],
)
def test_ignored_consents(fr, change):
    assert not state_of(fr, fr["Consent-blocage-praticien"] | change).blocks


def test_nested_permit_under_a_deny_is_a_grant():
    consent = privacy_consent({"type": "deny", "provision": [{"type": "permit", "actor": [actor("Practitioner/bob")]}]})
    assert list(consent_directives(consent, NOW)) == [("grant", Directive("Practitioner/bob", "Consent/c"))]


def test_nested_deny_inherits_the_actors_and_blocks_them():
    consent = privacy_consent(
        {
            "type": "permit",
            "actor": [actor("Practitioner/bob")],
            "provision": [{"type": "deny", "class": [{"code": "imaging"}]}],
        }
    )
    rules = sorted(consent_directives(consent, NOW))
    assert rules == [
        ("block", Directive("Practitioner/bob", "Consent/c")),
        ("grant", Directive("Practitioner/bob", "Consent/c")),
    ]


def test_deep_nesting_is_read():
    consent = privacy_consent(
        {
            "type": "deny",
            "provision": [{"type": "permit", "provision": [{"type": "deny", "actor": [actor("Organization/o")]}]}],
        }
    )
    assert list(consent_directives(consent, NOW)) == [("block", Directive("Organization/o", "Consent/c"))]


def test_nested_rule_lives_within_its_parent_period():
    consent = privacy_consent(
        {
            "type": "deny",
            "period": {"end": "2025-01-01"},
            "provision": [{"type": "permit", "actor": [actor("Practitioner/bob")]}],
        }
    )
    assert list(consent_directives(consent, NOW)) == []
    assert list(consent_directives(consent, None)) == [("grant", Directive("Practitioner/bob", "Consent/c"))]


def test_deny_with_actor_and_purpose_is_a_block_not_an_objection():
    consent = privacy_consent(
        {"type": "deny", "actor": [actor("Practitioner/bob")], "purpose": [{"system": ACT_REASON, "code": "BTG"}]}
    )
    assert list(consent_directives(consent, NOW)) == [("block", Directive("Practitioner/bob", "Consent/c"))]


def test_one_deny_may_carry_both_objections_and_tre_r248_codes_count():
    consent = privacy_consent(
        {
            "type": "deny",
            "purpose": [
                {"system": ACT_REASON, "code": "BTG"},
                {"system": TRE_R248, "code": "centre_15"},
            ],
        }
    )
    assert [d.subject for _, d in consent_directives(consent, NOW)] == ["bris_de_glace", "centre_15"]


def test_deny_without_actor_or_emergency_purpose_sets_nothing():
    consent = privacy_consent({"type": "deny", "purpose": [{"system": ACT_REASON, "code": "TREAT"}]})
    assert list(consent_directives(consent, NOW)) == []


@pytest.mark.parametrize(
    "narrowing",
    [
        {"purpose": [{"system": ACT_REASON, "code": "BTG"}]},
        {
            "action": [
                {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "collect"}]}
            ]
        },
        {"class": [{"system": "http://hl7.org/fhir/resource-types", "code": "DocumentReference"}]},
        {"securityLabel": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N"}]},
        {"data": [{"meaning": "instance", "reference": {"reference": "DocumentReference/x"}}]},
        {"dataPeriod": {"start": "2026-01-01"}},
    ],
)
def test_narrowed_permits_are_not_grants(narrowing):
    consent = privacy_consent({"type": "permit", "actor": [actor("Practitioner/bob")], **narrowing})
    assert list(consent_directives(consent, NOW)) == []


def test_permit_for_treatment_access_is_a_grant():
    consent = privacy_consent(
        {
            "type": "permit",
            "actor": [actor("Practitioner/bob")],
            "purpose": [{"system": ACT_REASON, "code": "TREAT"}],
            "action": [
                {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "access"}]}
            ],
        }
    )
    assert list(consent_directives(consent, NOW)) == [("grant", Directive("Practitioner/bob", "Consent/c"))]


def test_unreadable_period_keeps_denies_and_drops_permits():
    period = {"start": "le 2 novembre"}
    deny = privacy_consent({"type": "deny", "period": period, "actor": [actor("Practitioner/a")]})
    permit = privacy_consent({"type": "permit", "period": period, "actor": [actor("Practitioner/b")]})
    assert [kind for kind, _ in consent_directives(deny, NOW)] == ["block"]
    assert list(consent_directives(permit, NOW)) == []


def test_unresolvable_actors_are_ignored():
    consent = privacy_consent(
        {
            "type": "permit",
            "actor": [
                {"reference": {"reference": "https://elsewhere.example/Practitioner/x"}},
                {"reference": {"identifier": {"value": "810001234567"}}},
            ],
        }
    )
    assert list(consent_directives(consent, NOW)) == []
