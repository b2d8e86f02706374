"""consent.preview: the gains and losses between two states, per actor. Over HTTP (who may ask,
which actors and items): tests/dmp/test_preview.py."""

from __future__ import annotations

from consent.engine import decide
from consent.preview import Change
from consent.preview import compare
from consent.preview import named_actors
from consent.requester import Requester
from consent.state import Directive
from consent.state import PatientState

P = "Patient/p"


def doctor(ref):
    return Requester("practitioner", ref, ref, identities=frozenset({ref}))


def item(labels=()):
    return {
        "type": "DocumentReference",
        "patients": [P],
        "patient": P,
        "labels": list(labels),
        "authors": [],
        "docClass": ["10"],
        "docType": ["34112-3"],
    }


ITEMS = {"DocumentReference/a": item(), "DocumentReference/masked": item(["MASQUE_PS"])}
ACTORS = {"Practitioner/x": doctor("Practitioner/x"), "Practitioner/gp": doctor("Practitioner/gp")}
BEFORE = PatientState(P, general_practitioners=frozenset({"Practitioner/gp"}))


def test_a_grant_and_a_block():
    after = PatientState(
        P,
        general_practitioners=frozenset({"Practitioner/gp"}),
        grants=frozenset({Directive("Practitioner/x", "Consent/g")}),
        blocks=frozenset({Directive("Practitioner/gp", "Consent/b")}),
    )
    assert compare(ACTORS, BEFORE, after, ITEMS) == [
        Change("Practitioner/gp", (), ("DocumentReference/a", "DocumentReference/masked")),
        Change("Practitioner/x", ("DocumentReference/a",), ()),
    ]


def test_no_change_no_entry():
    assert compare(ACTORS, BEFORE, BEFORE, ITEMS) == []


def test_it_is_decide_twice():
    after = PatientState(P, grants=frozenset({Directive("Practitioner/x", "Consent/g")}))
    for change in compare(ACTORS, BEFORE, after, ITEMS):
        for ref in change.gains:
            assert decide(ACTORS[change.actor], after, ITEMS[ref]).allowed
            assert not decide(ACTORS[change.actor], BEFORE, ITEMS[ref]).allowed


def test_named_actors_are_those_of_grants_and_blocks(fr):
    consents = [
        fr["Consent-autorisation-praticien"],
        fr["Consent-blocage-praticien"],
        fr["Consent-opposition-bris-de-glace"],
        fr["Consent-autorisation-etablissement"],
    ]
    expected = {"Practitioner/infirmier", "Practitioner/praticien-bloque", "Organization/chu-exemple"}
    assert named_actors(consents) == expected
