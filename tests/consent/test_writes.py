"""consent.engine write rules (DESIGN §4 "Writes") and block warnings. Loader: test_consent_state.py."""

from __future__ import annotations

import pytest

from consent.engine import block_warnings
from consent.engine import may_write
from consent.labels import INVISIBLE_PATIENT
from consent.labels import INVISIBLE_REPRESENTANTS_LEGAUX
from consent.labels import MASQUE_PS
from consent.requester import Requester
from consent.state import Directive
from consent.state import PatientState

P = "Patient/p"
PATIENT = Requester("patient", "p", P, identities=frozenset({P}))
GUARDIAN = Requester("related", "g", "RelatedPerson/g", identities=frozenset({"RelatedPerson/g"}))
GP = Requester("practitioner", "gp", "Practitioner/gp", identities=frozenset({"Practitioner/gp"}))
AUTHOR = Requester("practitioner", "au", "Practitioner/au", identities=frozenset({"Practitioner/au", "Organization/o"}))
STRANGER = Requester("practitioner", "st", "Practitioner/st", identities=frozenset({"Practitioner/st"}))
SYSTEM = Requester("system", "batch")


def record(**changes):
    base = PatientState(
        ref=P,
        general_practitioners=frozenset({"Practitioner/gp"}),
        guardians=frozenset({"RelatedPerson/g"}),
        objections=frozenset({Directive("bris_de_glace", "Consent/no-btg"), Directive("centre_15", "Consent/no-c15")}),
    )
    return PatientState(**{**base.__dict__, **changes})


def acl(resource_type="DocumentReference", labels=(), authors=("Practitioner/au",), patient=P, guardian=None):
    return {
        "guardian": guardian,
        "type": resource_type,
        "patients": [patient] if patient else [],
        "patient": patient,
        "labels": list(labels),
        "confidentiality": "N",
        "docClass": ["10"],
        "docType": ["11502-2"],
        "authors": list(authors),
        "deposited": None,
    }


GUARD_ONLY = "RelatedPerson: legal representatives (GUARD) are written by system clients only"


def relative(guardian, labels=()):
    """A RelatedPerson acl: ``guardian`` "yes" (GUARD), "no", or None (stored before the attribute)."""
    return acl("RelatedPerson", labels=labels, authors=[], guardian=guardian) | {"docType": ["RelatedPerson"]}


@pytest.mark.parametrize(
    ("requester", "state", "item", "allowed", "rule"),
    [
        # professionals feed any open record, without a grant
        (STRANGER, record(), acl(authors=["Practitioner/st"]), True, "feed"),
        (AUTHOR, record(), acl(authors=["Organization/o"]), True, "feed"),
        (STRANGER, record(), acl("AllergyIntolerance", authors=["Practitioner/st"]), True, "feed"),
        (STRANGER, record(), acl(authors=[]), True, "feed"),
        (STRANGER, record(open=False), acl(authors=["Practitioner/st"]), False, "closed Patient/p"),
        (
            STRANGER,
            record(blocks=frozenset({Directive("Practitioner/st", "Consent/b")})),
            acl(authors=["Practitioner/st"]),
            False,
            "blocked Consent/b",
        ),
        (STRANGER, None, acl(authors=["Practitioner/st"]), False, "no consent state for Patient/p"),
        (STRANGER, record(), acl(authors=["Practitioner/gp"]), False, "create: the caller must be among the authors"),
        (STRANGER, record(), acl("Consent", authors=[]), False, "consents: the holder only"),
        (STRANGER, record(), acl("Patient", authors=[]), False, "Patient: system clients only"),
        (STRANGER, record(), relative("no"), False, "RelatedPerson: the record holder and system clients only"),
        (STRANGER, record(), acl("Practitioner", authors=[], patient=None), False, "directory: system clients only"),
        # the break-glass objection also covers feeding; the centre-15 one covers reading only
        (
            Requester("practitioner", "st", "Practitioner/st", mode="bris_de_glace", reason="coma"),
            record(),
            acl(authors=["Practitioner/st"]),
            False,
            "objection Consent/no-btg",
        ),
        (
            Requester("practitioner", "st", "Practitioner/st", mode="centre_15", reason="appel"),
            record(),
            acl(authors=["Practitioner/st"]),
            True,
            "feed",
        ),
        # the holder deposits documents and writes consents
        (PATIENT, None, acl(authors=[P]), True, "patient deposits"),
        (
            PATIENT,
            record(open=False),
            acl(authors=[P], labels=[MASQUE_PS, INVISIBLE_REPRESENTANTS_LEGAUX]),
            True,
            "patient deposits",
        ),
        (PATIENT, None, acl(authors=[P], labels=[INVISIBLE_PATIENT]), False, "patient may not set INVISIBLE_PATIENT"),
        (PATIENT, None, acl("AllergyIntolerance", authors=[P]), False, "create: patients deposit"),
        (PATIENT, None, acl("Consent", authors=[]), True, "patient writes consents"),
        (PATIENT, None, acl(authors=["Practitioner/au"]), False, "create: the caller must be among the authors"),
        (PATIENT, None, relative("no"), True, "patient writes relatives"),
        (PATIENT, record(open=False), relative("no"), True, "patient writes relatives"),
        (PATIENT, None, relative("yes"), False, GUARD_ONLY),
        (PATIENT, None, relative(None), False, GUARD_ONLY),  # stored before acl.guardian: deny
        (PATIENT, None, relative("no", labels=[INVISIBLE_PATIENT]), False, "patient may not set INVISIBLE_PATIENT"),
        (GUARDIAN, record(), relative("no"), True, "representative writes relatives"),
        (GUARDIAN, record(), relative("yes"), False, GUARD_ONLY),
        (
            GUARDIAN,
            record(blocks=frozenset({Directive("RelatedPerson/g", "Consent/b")})),
            relative("no"),
            False,
            "blocked Consent/b",
        ),
        (Requester("patient", "q", "Patient/q"), record(), relative("no"), False, "RelatedPerson: the record holder"),
        (GUARDIAN, record(), acl(authors=["RelatedPerson/g"]), True, "representative deposits"),
        (GUARDIAN, record(), acl(authors=[P]), True, "representative deposits"),
        (
            GUARDIAN,
            record(),
            acl(authors=[P], labels=[INVISIBLE_REPRESENTANTS_LEGAUX]),
            False,
            "representative may not set INVISIBLE_REPRESENTANTS_LEGAUX",
        ),
        (GUARDIAN, record(open=False), acl("Consent", authors=[]), True, "representative writes consents"),
        (
            GUARDIAN,
            record(blocks=frozenset({Directive("RelatedPerson/g", "Consent/b")})),
            acl("Consent", authors=[]),
            False,
            "blocked Consent/b",
        ),
        (
            Requester("patient", "q", "Patient/q"),
            record(),
            acl(authors=["Patient/q"]),
            False,
            "create: professionals and record holders only",
        ),
        (SYSTEM, None, acl("Practitioner", authors=[], patient=None), True, "system"),
    ],
)
def test_create(requester, state, item, allowed, rule):
    decision = may_write(requester, state, item, "create")
    assert decision.allowed is allowed
    assert decision.rule.startswith(rule)


@pytest.mark.parametrize(
    ("requester", "state", "item", "allowed", "rule"),
    [
        (AUTHOR, record(), acl(), True, "author Practitioner/au"),
        (
            Requester("practitioner", "x", "Practitioner/x", identities=frozenset({"Organization/o"})),
            record(),
            acl(authors=["Organization/o"]),
            True,
            "author Organization/o",
        ),
        (GP, record(), acl(), False, "delete: the author only"),
        (STRANGER, record(), acl(), False, "delete: the author only"),
        (AUTHOR, record(open=False), acl(), False, "closed Patient/p"),
        (
            AUTHOR,
            record(blocks=frozenset({Directive("Organization/o", "Consent/b")})),
            acl(),
            False,
            "blocked Consent/b (Organization/o)",
        ),
        (PATIENT, None, acl(authors=[P]), True, "author Patient/p"),
        (PATIENT, None, acl(), False, "delete: the author only"),
        (PATIENT, None, acl("Consent", authors=[]), True, "patient writes consents"),
        (GUARDIAN, record(), acl("Consent", authors=[]), True, "representative writes consents"),
        (GP, record(), acl("Consent", authors=[]), False, "consents: the holder only"),
        (PATIENT, None, acl("Patient", authors=[]), False, "Patient: system clients only"),
    ],
)
def test_delete(requester, state, item, allowed, rule):
    decision = may_write(requester, state, item, "delete")
    assert (decision.allowed, decision.rule) == (allowed, rule)


@pytest.mark.parametrize(
    ("requester", "before", "after", "interaction", "allowed", "rule"),
    [
        (PATIENT, relative("no"), relative("no"), "update", True, "patient writes relatives"),
        (PATIENT, relative("no"), relative("no"), "delete", True, "patient writes relatives"),
        (GUARDIAN, relative("no"), relative("no"), "patch", True, "representative writes relatives"),
        (PATIENT, relative("no"), relative("yes"), "update", False, GUARD_ONLY),  # a contact made a guardian
        (PATIENT, relative("no"), relative("yes"), "patch", False, GUARD_ONLY),
        (PATIENT, relative("yes"), relative("no"), "update", False, GUARD_ONLY),  # a guardian downgraded
        (PATIENT, relative("yes"), relative("yes"), "delete", False, GUARD_ONLY),
        (PATIENT, relative(None), relative("no"), "update", False, GUARD_ONLY),
        (GUARDIAN, relative("yes"), relative("yes"), "update", False, GUARD_ONLY),  # not even their own
        (PATIENT, relative("no", [MASQUE_PS]), relative("no"), "update", True, "patient writes relatives"),
        (PATIENT, relative("no", [INVISIBLE_PATIENT]), relative("no"), "update", False, "patient; INVISIBLE_PATIENT"),
        (
            GUARDIAN,
            relative("no", [INVISIBLE_REPRESENTANTS_LEGAUX]),
            relative("no", [INVISIBLE_REPRESENTANTS_LEGAUX]),
            "delete",
            False,
            "representative RelatedPerson/g; INVISIBLE_REPRESENTANTS_LEGAUX",
        ),
        (AUTHOR, relative("no"), relative("no"), "update", False, "RelatedPerson: the record holder"),
        (GP, relative("no"), relative("no"), "delete", False, "RelatedPerson: the record holder"),
        (SYSTEM, relative("yes"), relative("no"), "update", True, "system"),
    ],
)
def test_relatives(requester, before, after, interaction, allowed, rule):
    """The holder writes the relatives who are not legal representatives, before and after the write."""
    decision = may_write(requester, record(), after, interaction, old_acl=before)
    assert decision.allowed is allowed
    assert decision.rule.startswith(rule)


def test_update_by_the_author_keeping_their_authorship():
    assert may_write(AUTHOR, record(), acl(labels=[MASQUE_PS]), "update", old_acl=acl()).allowed
    assert may_write(
        AUTHOR, record(), acl(authors=["Practitioner/au", "Practitioner/x"]), "update", old_acl=acl()
    ).allowed
    decision = may_write(AUTHOR, record(), acl(authors=["Practitioner/x"]), "update", old_acl=acl())
    assert decision.rule == "author Practitioner/au; the new version must keep them among the authors"
    assert not may_write(GP, record(), acl(), "update", old_acl=acl()).allowed


def test_author_may_change_any_flag_by_patch():
    decision = may_write(
        AUTHOR, record(), acl(labels=[INVISIBLE_PATIENT]), "patch", old_acl=acl(), patch_paths=["/status"]
    )
    assert (decision.allowed, decision.rule) == (True, "author Practitioner/au")


def test_moving_between_records_is_for_system_clients():
    decision = may_write(AUTHOR, record(), acl(), "update", old_acl=acl(patient="Patient/q"))
    assert (decision.allowed, decision.rule) == (False, "moving a resource to another record: system clients only")
    assert may_write(SYSTEM, None, acl(), "update", old_acl=acl(patient="Patient/q")).allowed


@pytest.mark.parametrize(
    ("requester", "before", "after", "paths", "allowed", "rule"),
    [
        (PATIENT, [], [MASQUE_PS], ["/securityLabel/-"], True, "patient flags"),
        (PATIENT, [MASQUE_PS], [], ["/securityLabel/1"], True, "patient flags"),
        (PATIENT, [], [MASQUE_PS], ["DocumentReference.securityLabel"], True, "patient flags"),
        (PATIENT, [], [MASQUE_PS], ["/meta/security/0", "/securityLabel/0/coding/0/code"], True, "patient flags"),
        (PATIENT, [], [INVISIBLE_REPRESENTANTS_LEGAUX], ["/securityLabel/-"], True, "patient flags"),
        (PATIENT, [], [MASQUE_PS], ["/securityLabel/-", "/description"], False, "patch: the author only"),
        (PATIENT, [], [MASQUE_PS], ["/meta"], False, "patch: the author only"),
        (PATIENT, [], [MASQUE_PS], None, False, "patch: the author only"),
        (PATIENT, [INVISIBLE_PATIENT], [], ["/securityLabel/0"], False, "patient; INVISIBLE_PATIENT"),
        (PATIENT, [], [INVISIBLE_PATIENT], ["/securityLabel/-"], False, "patient may not change INVISIBLE_PATIENT"),
        (GUARDIAN, [], [MASQUE_PS], ["/securityLabel/-"], True, "representative flags"),
        (
            GUARDIAN,
            [],
            [INVISIBLE_REPRESENTANTS_LEGAUX],
            ["/securityLabel/-"],
            False,
            "representative may not change INVISIBLE_REPRESENTANTS_LEGAUX",
        ),
        (
            GUARDIAN,
            [INVISIBLE_REPRESENTANTS_LEGAUX],
            [],
            ["/securityLabel/0"],
            False,
            "representative RelatedPerson/g; INVISIBLE_REPRESENTANTS_LEGAUX",
        ),
        (GP, [], [MASQUE_PS], ["/securityLabel/-"], False, "patch: the author only"),
    ],
)
def test_visibility_patch(requester, before, after, paths, allowed, rule):
    decision = may_write(requester, record(), acl(labels=after), "patch", old_acl=acl(labels=before), patch_paths=paths)
    assert (decision.allowed, decision.rule) == (allowed, rule)


def test_visibility_patch_changes_flags_only():
    decision = may_write(
        PATIENT, None, acl(authors=["Practitioner/x"]), "patch", old_acl=acl(), patch_paths=["/securityLabel/0"]
    )
    assert (decision.allowed, decision.rule) == (False, "a visibility patch changes flags only")


def test_meta_security_on_other_types():
    allergy = acl("AllergyIntolerance")
    assert may_write(
        PATIENT,
        None,
        allergy | {"labels": [MASQUE_PS]},
        "patch",
        old_acl=allergy,
        patch_paths=["AllergyIntolerance.meta.security"],
    ).allowed
    assert not may_write(
        PATIENT, None, allergy | {"labels": [MASQUE_PS]}, "patch", old_acl=allergy, patch_paths=["/securityLabel/0"]
    ).allowed


def test_blocking_the_attending_physician_warns(fr):
    state = PatientState("Patient/ins-adulte", general_practitioners=frozenset({"Practitioner/medecin-traitant"}))
    consent = fr["Consent-blocage-praticien"]
    assert block_warnings(state, consent) == []
    consent["provision"]["actor"][0]["reference"]["reference"] = "Practitioner/medecin-traitant"
    assert block_warnings(state, consent) == [
        (
            "This consent blocks Practitioner/medecin-traitant, the patient's attending physician: "
            "the block wins, they will no longer see the record."
        )
    ]
    consent["provision"]["period"] = {"start": "2099-01-01"}
    assert len(block_warnings(state, consent)) == 1
    assert block_warnings(state, consent | {"status": "draft"}) == []
    assert block_warnings(state, fr["Consent-autorisation-praticien"]) == []
